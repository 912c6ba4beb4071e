import { ClientError } from '../errors.js';
import type { DatedCounts } from '../notifications/inbox-counts.js';
import type { NotificationQueries, SerializedNotification } from '../notifications/notification-queries.js';
import type { DatabasePermits } from './database-permits.js';
import type { CatchUpSource } from './resume.js';
import type { SerialByKey } from './serial-by-key.js';

/** Why a socket's read was dropped: the socket closed while it waited. Not an error to report. */
export class SocketGone extends Error {
  constructor() {
    super('The socket closed before its database read ran');
    this.name = 'SocketGone';
  }
}

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
    /** Aborted when the socket is gone: its reads still waiting for a permit are dropped. */
    private readonly gone: AbortSignal,
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

  /**
   * A database read under a permit (released before anything waits for the socket). A read still
   * waiting when the socket goes is dropped (`SocketGone`): nobody would get its answer, and a
   * user opening and closing sockets would otherwise hold WS_MAX_OPENING_SOCKETS for everyone.
   * Marks are not dropped: one sent before the close is stored.
   */
  private read<T>(work: () => Promise<T>): Promise<T> {
    return this.database.permits.run(work, { abandon: this.gone });
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
