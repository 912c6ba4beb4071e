import type { FeedHooks, FeedRead } from '../../server/hub/notification-feed.js';
import type { ListenerMessage } from '../../server/hub/notification-listener.js';
import { LISTEN_APPLICATION_NAME } from '../../server/hub/notification-listener.js';
import type { TestDatabase } from './database.js';
import { waitFor } from './wait.js';

/**
 * Holds and observes a notification feed through its hooks, by named points:
 * `catch-up <run>` (each read of that catch-up run), `payload` (the read of an oversized
 * payload), `reconnect` (before the LISTEN connection comes back), and `received <id>` (a
 * notification payload arriving). `hold` makes the feed wait at a point until `release`;
 * `reached` waits until the feed got there.
 */
export class FeedControl {
  private readonly held = new Map<string, { promise: Promise<void>; release: () => void }>();
  private readonly seen = new Set<string>();
  /** Set to inject a failure into the reads the feed makes (the hook's rejection is the read's). */
  failRead?: (read: FeedRead) => Error | undefined;

  readonly hooks: FeedHooks = {
    beforeRead: (read) => {
      const failure = this.failRead?.(read);
      if (failure) return Promise.reject(failure);
      return this.pass(read.kind === 'catch-up' ? `catch-up ${read.run}` : 'payload');
    },
    received: (message: ListenerMessage) => {
      const { id } = JSON.parse(message.payload) as { id?: string };
      this.seen.add(id === undefined ? 'received unread' : `received ${id}`);
    },
    beforeReconnect: () => this.pass('reconnect'),
  };

  hold(point: string): void {
    if (this.held.has(point)) return;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.held.set(point, { promise, release });
  }

  release(point: string): void {
    this.held.get(point)?.release();
    this.held.delete(point);
  }

  reached(point: string, timeoutMs = 10_000): Promise<true> {
    return waitFor(`the feed to reach "${point}"`, () => this.seen.has(point), { timeoutMs, intervalMs: 5 });
  }

  private async pass(point: string): Promise<void> {
    this.seen.add(point);
    await this.held.get(point)?.promise;
  }
}

/**
 * Terminates the feed's LISTEN backend in this database (found by its application_name) and
 * waits until it is gone; returns how many there were (0 while it is reconnecting).
 */
export async function killListener(db: TestDatabase): Promise<number> {
  const rows = await db.query(
    `select pg_terminate_backend(pid, 5000) from pg_stat_activity
      where datname = current_database() and application_name = $1`,
    [LISTEN_APPLICATION_NAME],
  );
  return rows.length;
}
