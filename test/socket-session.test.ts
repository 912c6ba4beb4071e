import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { createLogger } from '../config/logger.js';
import type { TokenVerifier } from '../server/auth/token-verifier.js';
import { NotificationHub } from '../server/hub/notification-hub.js';
import { createServerMetrics } from '../server/metrics.js';
import type { NotificationQueries } from '../server/notifications/notification-queries.js';
import { FlushQueue } from '../server/ws/flush-queue.js';
import { SocketSession, type SocketPort } from '../server/ws/socket-session.js';

/**
 * The session's write path alone, on a scripted socket port (unit test of a pure part; the real
 * sockets are in test/server-*.test.ts).
 */

/**
 * A port that records frames and drops the `drop`-th one, as uWS drops a frame that would go past
 * its hard limit while a smaller one after it may still fit.
 */
function scriptedPort(drop = Infinity) {
  const frames: string[] = [];
  const writes: number[] = [];
  let attempts = 0;
  let corked = false;
  const port: SocketPort & { closedWith?: number } = {
    corked(write) {
      corked = true;
      const before = frames.length;
      write();
      corked = false;
      writes.push(frames.length - before);
    },
    send(frame) {
      assert.ok(corked, 'frames are sent under cork');
      attempts += 1;
      if (attempts === drop) return false;
      frames.push(String(frame));
      return true;
    },
    bufferedAmount: () => 0,
    end(code) {
      port.closedWith = code;
    },
  };
  return { port, frames, writes };
}

async function openSession(port: SocketPort) {
  const hub = new NotificationHub();
  const session = new SocketSession(
    port,
    { subject: 'alice', isService: false, expiresAt: Math.floor(Date.now() / 1000) + 3600 },
    {
      hub,
      queries: { summary: async () => ({ unread: 0, latestId: 0n }) } as unknown as NotificationQueries,
      verifier: {} as TokenVerifier,
      metrics: createServerMetrics(),
      settings: {
        maxBufferedBytes: 1 << 20,
        rateLimit: { perSecond: 10, burst: 10 },
        tokenExpiryWarningSeconds: 60,
      },
      logger: createLogger('silent'),
      flushes: new FlushQueue((error) => assert.fail(String(error))),
    },
  );
  await session.open(undefined);
  await nextIteration();
  return { hub, session };
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
      [{ type: 'unread_count', count: 0 }],
    );
    publishIds(hub, [1, 2, 3]);
    hub.publishUnread('alice', 3);
    await nextIteration();
    publishIds(hub, [3, 4]);
    await nextIteration();
    assert.deepEqual(idsIn(frames), ['1', '2', '3', '4']);
    assert.deepEqual(writes, [1, 4, 1], 'one write per iteration: the count, then 3 + the count, then 4');
    assert.equal(port.closedWith, undefined);
  });

  it('stops at the first frame the socket drops and closes it with 4503, so no later frame hides the gap', async () => {
    // The count at open is attempt 1; notifications 1 and 2 are attempts 2 and 3; 3 is dropped.
    const { port, frames } = scriptedPort(4);
    const { hub } = await openSession(port);
    publishIds(hub, [1, 2, 3, 4, 5]);
    await nextIteration();
    assert.deepEqual(idsIn(frames), ['1', '2'], 'nothing after the dropped frame');
    assert.equal(port.closedWith, 4503);
  });
});
