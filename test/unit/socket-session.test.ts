import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
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
import { scriptedPort } from '../support/scripted-port.js';
import { waitFor } from '../support/wait.js';

/**
 * The session's write path alone, on a scripted socket port (unit test of a pure part; the real
 * sockets are in test/integration/server-*.test.ts).
 */

/** Counts with this unread count (the other states at zero), dated by this newest id. */
const datedCounts = (unread: number, latestId: bigint): DatedCounts => ({
  counts: { unread, unseen: 0, archived: 0, lastSeenId: '0' },
  date: { latestId, version: 0n },
});

interface SessionOptions {
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

async function openSession(port: SocketPort, options: SessionOptions = {}) {
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

const publishIds = (hub: NotificationHub, ids: number[]): void => {
  for (const id of ids) hub.publish('alice', { id: String(id), json: `{"id":"${id}"}` });
};

const idsIn = (frames: string[]): string[] =>
  frames
    .map((text) => JSON.parse(text) as { type: string; notification?: { id: string } })
    .filter((message) => message.type === 'notification')
    .map((message) => message.notification!.id);

describe('socket session writes', () => {
  it("writes a user's notifications of one iteration in one corked write, skipping repeats", async () => {
    const { port, frames, writes } = scriptedPort();
    const { hub } = await openSession(port);
    assert.deepEqual(
      frames.map((text) => JSON.parse(text) as unknown),
      [
        {
          type: 'unread_count',
          count: 0,
          unseen: 0,
          archived: 0,
          lastSeenId: '0',
          latestId: null,
          version: '0',
        },
      ],
    );
    publishIds(hub, [1, 2, 3]);
    hub.publishCounts('alice', datedCounts(3, 3n).counts, datedCounts(3, 3n).date);
    await nextIteration();
    publishIds(hub, [3, 4]);
    await nextIteration();
    assert.deepEqual(idsIn(frames), ['1', '2', '3', '4']);
    assert.deepEqual(writes, [1, 4, 1], 'one write per iteration: the count, then 3 + the count, then 4');
    assert.equal(port.closedWith, undefined);
  });

  it('stops at the first frame the socket drops and closes it with 4503, so no later frame hides the gap', async () => {
    // The count at open is attempt 1; notifications 1 and 2 are attempts 2 and 3; 3 is dropped.
    const { port, frames } = scriptedPort({ drop: 4 });
    const { hub } = await openSession(port);
    publishIds(hub, [1, 2, 3, 4, 5]);
    await nextIteration();
    assert.deepEqual(idsIn(frames), ['1', '2'], 'nothing after the dropped frame');
    assert.equal(port.closedWith, 4503);
  });
});

const messagesOf = (frames: string[]) => frames.map((text) => JSON.parse(text) as Record<string, unknown>);

describe('socket session rate limit: bursts within the average pass, a flood is closed', () => {
  it('never closes a client averaging half the rate in bursts a little over the burst size, over a minute', async () => {
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.UTC(2026, 11, 2) });
    try {
      const { port, frames } = scriptedPort();
      const { session } = await openSession(port);
      // 35 messages every 7 s: 5 a second on average, half of WS_RATE_LIMIT_PER_SECOND (10).
      for (let burst = 0; burst < 9; burst += 1) {
        for (let index = 0; index < 35; index += 1) await session.receive('{"type":"mark_all_read"}');
        await nextIteration();
        mock.timers.tick(7_000);
      }
      assert.equal(port.closedWith, undefined, 'not closed');
      const refused = messagesOf(frames).filter((message) => message.code === 'rate_limited');
      assert.ok(refused.length <= 9 * 5, `each burst over the bucket is refused (${refused.length})`);
    } finally {
      mock.timers.reset();
    }
  });

  it('still closes a sustained flood with 4429', async () => {
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.UTC(2026, 11, 2) });
    try {
      const { port } = scriptedPort();
      const { session } = await openSession(port);
      // 100 a second for 10 s: ten times the rate.
      for (let second = 0; second < 10 && port.closedWith === undefined; second += 1) {
        for (let index = 0; index < 100; index += 1) await session.receive('{"type":"mark_all_read"}');
        await nextIteration();
        mock.timers.tick(1_000);
      }
      assert.equal(port.closedWith, 4429);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('socket session token expiry: the clock tolerance and the warning', () => {
  it("closes at exp plus the verifier's clock tolerance, not at the raw exp, and warns before", async () => {
    const start = Date.UTC(2026, 11, 2, 12);
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: start });
    try {
      const { port, frames } = scriptedPort();
      // exp 5 s ago: the verifier (tolerance 30 s) accepted it, so the socket lives 25 s more.
      await openSession(port, { expiresAt: start / 1000 - 5, clockToleranceSeconds: 30 });
      mock.timers.tick(0);
      await nextIteration();
      assert.equal(port.closedWith, undefined, 'not closed at once');
      // 25 s left, less than the 60-s warning: warned at half of it, not at once.
      mock.timers.tick(12_500);
      await nextIteration();
      assert.deepEqual(
        messagesOf(frames).find((message) => message.type === 'token_expiring'),
        { type: 'token_expiring', expiresAt: new Date(start + 25_000).toISOString() },
        'warned at half the remaining life, with the instant of the close',
      );
      mock.timers.tick(12_499);
      assert.equal(port.closedWith, undefined);
      mock.timers.tick(1);
      assert.equal(port.closedWith, 4401);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('socket session catch-up: bounded while paused, a cursor above the newest id', () => {
  it('bounds what waits behind a paused catch-up: past maxBufferedBytes it closes with 4503', async () => {
    // The socket never drains: the catch-up waits for room after its first frame.
    const { port, frames } = scriptedPort({ buffered: 1 << 20 });
    const { hub, session } = await openSession(port, {
      resumeFrom: '0',
      maxBufferedBytes: 64 * 1024,
      queries: {
        after: async () => [1, 2, 3].map((id) => ({ id: String(id), json: `{"id":"${id}"}` })),
      },
    });
    // The count is written just before the catch-up waits for room.
    await waitFor('the catch-up to wait for room', () => frames.length === 1);
    const body = 'x'.repeat(1000);
    for (let id = 100; id < 400 && port.closedWith === undefined; id += 1) {
      hub.publish('alice', { id: String(id), json: `{"id":"${id}","body":"${body}"}` });
      await nextIteration();
    }
    assert.equal(port.closedWith, 4503);
    session.closedByPeer();
  });

  it('a cursor above the newest id: cursor_reset with the newest, then the live stream', async () => {
    const { port, frames } = scriptedPort();
    const { hub, opened } = await openSession(port, {
      resumeFrom: '1000000',
      queries: {
        summary: async () => datedCounts(2, 42n),
        after: async (_user: string, afterId: string) =>
          afterId === '42' || afterId === '1000000' ? [] : assert.fail(`read after ${afterId}`),
        latestId: async () => 42n,
      } as Partial<NotificationQueries>,
    });
    await opened;
    await nextIteration();
    publishIds(hub, [43]);
    await nextIteration();
    const messages = messagesOf(frames);
    assert.deepEqual(
      messages.map((message) => message.type),
      ['unread_count', 'cursor_reset', 'resumed', 'notification'],
    );
    assert.deepEqual(messages[1], { type: 'cursor_reset', lastId: '42' });
    assert.deepEqual(idsIn(frames), ['43']);
  });
});

describe('socket session answers: error refs, short tokens, refresh_token, the first frame', () => {
  it('an error answering a mark that fails validation echoes its ref', async () => {
    const { port, frames } = scriptedPort();
    const { session } = await openSession(port);
    for (const message of [
      { type: 'mark_read', ids: ['007'], ref: 'r-lead0' },
      { type: 'mark_read', ids: ['9999999999999999999'], ref: 'r-huge' },
      { type: 'mark_read', ids: ['1'], ref: 'r-extra', extra: 1 },
      { type: 'mark_all_read', ref: 'r-all', padding: true },
      // Not a usable ref (empty, too long, not a string): the error carries none.
      { type: 'mark_all_read', ref: '' },
      { type: 'mark_all_read', ref: 'x'.repeat(65) },
      { type: 'mark_all_read', ref: 7 },
    ])
      await session.receive(JSON.stringify(message));
    await nextIteration();
    const errors = messagesOf(frames).filter((message) => message.type === 'error');
    assert.deepEqual(
      errors.map((error) => [error.code, error.ref]),
      [
        ['validation_failed', 'r-lead0'],
        ['validation_failed', 'r-huge'],
        ['validation_failed', 'r-extra'],
        ['validation_failed', 'r-all'],
        ['validation_failed', undefined],
        ['validation_failed', undefined],
        ['validation_failed', undefined],
      ],
    );
  });

  it('a token shorter-lived than the warning window warns at half its remaining life, not at once', async () => {
    const start = Date.UTC(2026, 11, 2, 12);
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: start });
    try {
      const { port, frames } = scriptedPort();
      // exp in 20 s, tolerance 0: closes in 20 s; the 60-s warning would fire at once.
      await openSession(port, { expiresAt: start / 1000 + 20, clockToleranceSeconds: 0 });
      mock.timers.tick(0);
      await nextIteration();
      const warned = () => messagesOf(frames).some((message) => message.type === 'token_expiring');
      assert.equal(warned(), false, 'no warning at once');
      mock.timers.tick(9_999);
      await nextIteration();
      assert.equal(warned(), false, 'none before half the remaining life');
      mock.timers.tick(1);
      await nextIteration();
      assert.equal(warned(), true, 'warned at exp - remaining/2');
    } finally {
      mock.timers.reset();
    }
  });

  it('refresh_token refuses an older token (socket kept) and a service token (forbidden)', async () => {
    const { port, frames } = scriptedPort();
    const now = Math.floor(Date.now() / 1000);
    const principals: Record<string, { subject: string; isService: boolean; expiresAt: number }> = {
      older: { subject: 'alice', isService: false, expiresAt: now + 3 },
      service: { subject: 'alice', isService: true, expiresAt: now + 7200 },
      newer: { subject: 'alice', isService: false, expiresAt: now + 7200 },
    };
    const { session } = await openSession(port, {
      verifier: { verify: async (token: string) => principals[token]! } as unknown as TokenVerifier,
    });
    for (const token of ['older', 'service', 'newer'])
      await session.receive(JSON.stringify({ type: 'refresh_token', token }));
    await nextIteration();
    const errors = messagesOf(frames).filter((message) => message.type === 'error');
    assert.deepEqual(
      errors.map((error) => error.code),
      ['bad_request', 'forbidden'],
    );
    assert.match(String(errors[0]!.message), /expires before/);
    assert.equal(port.closedWith, undefined, 'the socket is kept');
    session.closedByPeer();
  });

  it('unread_count is the first frame even when a notification arrives during the count read', async () => {
    const { port, frames } = scriptedPort();
    let countRead: (value: DatedCounts) => void = () => {};
    const { hub, opened } = await openSession(port, {
      resumeFrom: undefined,
      deferOpen: true,
      queries: { summary: () => new Promise((resolve) => (countRead = resolve)) },
    });
    await nextIteration();
    publishIds(hub, [7]);
    await nextIteration();
    countRead(datedCounts(1, 6n));
    await opened;
    await nextIteration();
    assert.deepEqual(
      messagesOf(frames).map((message) => message.type),
      ['unread_count', 'notification'],
    );
  });
});
