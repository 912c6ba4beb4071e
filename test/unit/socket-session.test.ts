import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { scriptedPort } from '../support/scripted-port.js';
import {
  datedCounts,
  idsIn,
  messagesOf,
  openSession,
  publishIds,
} from '../support/socket-session-harness.js';

/**
 * The session's write path, its rate limit and its token expiry, on a scripted socket port (unit
 * test of a pure part; the real sockets are in test/integration/server-*.test.ts). Its catch-up and
 * answers: socket-session-answers.test.ts.
 */
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
