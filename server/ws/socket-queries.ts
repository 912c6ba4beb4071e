import { ClientError } from '../errors.js';
import type { DatedCounts } from '../notifications/inbox-counts.js';
import type { NotificationQueries, SerializedNotification } from '../notifications/notification-queries.js';
import type { DatabasePermits } from './database-permits.js';
import type { CatchUpSource } from './resume.js';
import type { SerialByKey } from './serial-by-key.js';

/**
 * One socket's database work for its user, under the process's limits:
 * each read runs under a permit, released before anything waits for the socket; each mark after
 * the user's earlier ones, then under a permit.
 */
export class SocketQueries implements CatchUpSource {
  constructor(
    private readonly userId: string,
    private readonly queries: NotificationQueries,
    private readonly database: { permits: DatabasePermits; marks: SerialByKey },
  ) {}

  /** The counts and their date (the newest id among them), when the socket opens. */
  summary(): Promise<DatedCounts> {
    return this.read(() => this.queries.summary(this.userId));
  }

  /** The user's newest id (a catch-up's bound). */
  newest(): Promise<bigint> {
    return this.read(() => this.queries.latestId(this.userId));
  }

  /** A catch-up page: the user's notifications after `after`, oldest first. */
  readPage(after: string, limit: number): Promise<SerializedNotification[]> {
    return this.read(() => this.queries.after(this.userId, after, limit));
  }

  markRead(ids: string[]): Promise<void> {
    return this.mark(() => this.queries.markRead(this.userId, ids));
  }

  markAllRead(): Promise<void> {
    return this.mark(() => this.queries.markAllRead(this.userId));
  }

  markSeen(lastId: string): Promise<void> {
    return this.mark(() => this.queries.markSeen(this.userId, lastId));
  }

  archive(ids: string[]): Promise<void> {
    return this.mark(() => this.queries.archive(this.userId, ids));
  }

  unarchive(ids: string[]): Promise<void> {
    return this.mark(() => this.queries.unarchive(this.userId, ids));
  }

  /** A database read under a permit (released before anything waits for the socket). */
  private read<T>(work: () => Promise<T>): Promise<T> {
    return this.database.permits.run(work);
  }

  /**
   * A mark, after the user's earlier ones (they take the same lock), under a permit. Past the
   * user's queue it is refused as busy, naming its ref: the client sends it again.
   */
  private async mark(work: () => Promise<unknown>): Promise<void> {
    const { permits, marks } = this.database;
    const done = marks.run(this.userId, () => permits.run(work));
    if (done === undefined)
      throw new ClientError('server_busy', 'Too many marks waiting: send it again later');
    await done;
  }
}
