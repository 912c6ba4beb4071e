import assert from 'node:assert/strict';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { createLogger } from '../../config/logger.js';
import type { TokenVerifier } from '../../server/auth/token-verifier.js';
import { NotificationHub } from '../../server/hub/notification-hub.js';
import { createServerMetrics } from '../../server/metrics.js';
import type { DatedCounts } from '../../server/notifications/inbox-counts.js';
import type { NotificationQueries } from '../../server/notifications/notification-queries.js';
import { DatabasePermits } from '../../server/ws/database-permits.js';
import { FlushQueue } from '../../server/ws/flush-queue.js';
import { SerialByKey } from '../../server/ws/serial-by-key.js';
import { SocketSession, type SocketPort } from '../../server/ws/socket-session.js';

/** A socket session on a scripted port, with stub queries (test/unit/socket-session*.test.ts). */

/** Counts with this unread count (the other states at zero), dated by this newest id. */
export const datedCounts = (unread: number, latestId: bigint): DatedCounts => ({
  counts: { unread, unseen: 0, archived: 0, lastSeenId: '0' },
  date: { latestId, version: 0n },
});

export interface SessionOptions {
  resumeFrom?: string;
  /** The token's `exp`, epoch seconds (an hour from now by default). */
  expiresAt?: number;
  clockToleranceSeconds?: number;
  maxBufferedBytes?: number;
  queries?: Partial<NotificationQueries>;
  verifier?: TokenVerifier;
  /** Do not wait for the opening reads (a test that holds them). */
  deferOpen?: boolean;
}

export async function openSession(port: SocketPort, options: SessionOptions = {}) {
  const hub = new NotificationHub();
  const session = new SocketSession(
    port,
    {
      subject: 'alice',
      isService: false,
      expiresAt: options.expiresAt ?? Math.floor(Date.now() / 1000) + 3600,
    },
    {
      hub,
      queries: {
        summary: async () => datedCounts(0, 0n),
        after: async () => [],
        markAllRead: async () => ({ updated: 0, ...datedCounts(0, 0n) }),
        ...options.queries,
      } as unknown as NotificationQueries,
      verifier: options.verifier ?? ({} as TokenVerifier),
      metrics: createServerMetrics(),
      settings: {
        maxBufferedBytes: options.maxBufferedBytes ?? 1 << 20,
        rateLimit: { perSecond: 10, burst: 30 },
        tokenExpiryWarningSeconds: 60,
        clockToleranceSeconds: options.clockToleranceSeconds ?? 30,
      },
      logger: createLogger('silent'),
      flushes: new FlushQueue((error) => assert.fail(String(error))),
      database: { permits: new DatabasePermits(5), marks: new SerialByKey(16) },
    },
  );
  const opened = session.open(options.resumeFrom);
  if (options.resumeFrom === undefined && !options.deferOpen) {
    await opened;
    await nextIteration();
  }
  return { hub, session, opened };
}

export const publishIds = (hub: NotificationHub, ids: number[]): void => {
  for (const id of ids) hub.publish('alice', { id: String(id), json: `{"id":"${id}"}` });
};

export const idsIn = (frames: string[]): string[] =>
  frames
    .map((text) => JSON.parse(text) as { type: string; notification?: { id: string } })
    .filter((message) => message.type === 'notification')
    .map((message) => message.notification!.id);

/** The frames as parsed messages. */
export const messagesOf = (frames: string[]) =>
  frames.map((text) => JSON.parse(text) as Record<string, unknown>);
