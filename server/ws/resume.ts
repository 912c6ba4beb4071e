import { catchUpPages } from '../notifications/catch-up.js';
import type { SerializedNotification } from '../notifications/notification-queries.js';
import { frame, notificationFrame } from '../protocol/messages.js';
import type { IdRange } from './sent-ids.js';

/** Where a catch-up reads: the user's notifications, each read under a database permit. */
export interface CatchUpSource {
  /** The user's newest id. */
  newest(): Promise<bigint>;
  /**
   * A page of the user's notifications after `after`. The page's permit is released before the
   * frames wait for the socket to drain: a client that stops reading holds no database work.
   */
  readPage(after: string, limit: number): Promise<SerializedNotification[]>;
}

/** Where a catch-up writes: the socket's outbox (server/ws/outbox.ts). */
export interface CatchUpSink {
  /** Queues a control frame (`cursor_reset`). */
  queue(frame: string): unknown;
  queueNotification(frame: string): void;
  /** Writes what is queued and waits for the socket to drain. */
  waitForRoom(): Promise<void>;
  /** The socket ended. */
  readonly closed: boolean;
}

/** A catch-up run to its end: how far it read, and how many notifications it sent. */
export interface CaughtUp {
  cursor: bigint;
  count: number;
}

/**
 * Every notification after `lastId` from the database, in order, skipping `sentLive` (what went out
 * live before the first resume). Per user, ids follow commit order, so reading until the end
 * leaves no gap. Undefined when the socket closed during it (abandoned: no `resumed` follows).
 */
export async function catchUp(
  lastId: string,
  { sentLive, latestId }: { sentLive?: IdRange; latestId?: bigint },
  source: CatchUpSource,
  sink: CatchUpSink,
): Promise<CaughtUp | undefined> {
  let cursor = lastId;
  let count = 0;
  // A cursor above the user's newest id (kept from before a restore, say) would skip every
  // live id up to it, silently: the client is told, and the catch-up starts from the newest.
  const newest = latestId ?? (await source.newest());
  if (BigInt(lastId) > newest) {
    cursor = newest.toString();
    sink.queue(frame({ type: 'cursor_reset', lastId: newest > 0n ? cursor : null }));
  }
  let abandoned = false;
  await catchUpPages(
    (from, limit) => source.readPage(from, limit),
    cursor,
    async (batch) => {
      for (const notification of batch) {
        cursor = notification.id;
        const seq = BigInt(notification.id);
        if (sentLive && seq >= sentLive.from && seq <= sentLive.to) continue;
        // The catch-up is ours to pace: wait for the socket to drain rather than overfill it.
        await sink.waitForRoom();
        if (sink.closed) {
          abandoned = true;
          return false;
        }
        sink.queueNotification(notificationFrame(notification.json));
        count += 1;
      }
      return !sink.closed;
    },
  );
  return abandoned ? undefined : { cursor: BigInt(cursor), count };
}
