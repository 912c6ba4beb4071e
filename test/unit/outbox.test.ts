import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import type { LiveEvent } from '../../server/hub/notification-hub.js';
import { FlushQueue } from '../../server/ws/flush-queue.js';
import { Outbox } from '../../server/ws/outbox.js';
import { scriptedPort } from '../support/scripted-port.js';

/** The outbox alone, on a scripted socket: what it writes, in how many corked writes, and when it gives up. */

interface Script {
  /** The n-th send (1-based) is dropped, as uWS drops a frame past its hard limit. */
  drop?: number;
  /** What the socket reports as buffered. */
  buffered?: number;
}

const MAX = 1000;

function scripted({ drop = Infinity, buffered = 0 }: Script = {}) {
  const { port, frames, writes } = scriptedPort({ drop, buffered });
  port.end = () => assert.fail('the outbox never ends the socket');
  const pushed: number[] = [];
  let slow = 0;
  const outbox = new Outbox(port, {
    flushes: new FlushQueue((error) => assert.fail(String(error))),
    maxBufferedBytes: MAX,
    pushed: (count) => pushed.push(count),
    slow: () => (slow += 1),
  });
  return { outbox, frames, writes, pushed, slowCount: () => slow };
}

const live = (ids: number[]): LiveEvent[] =>
  ids.map((id) => ({ id: String(id), seq: BigInt(id), frame: Buffer.from(`n${id}`) }));
const count = (unread: number): LiveEvent => ({
  counts: { unread, unseen: 0, archived: 0, lastSeenId: '0' },
  frame: `c${unread}`,
});

describe('outbox', () => {
  const cases: Array<{
    name: string;
    script?: Script;
    run(outbox: Outbox): void;
    expect: { frames: string[]; writes: number[]; pushed: number[]; slow: number };
  }> = [
    {
      name: 'frames queued in one iteration leave in one corked write',
      run: (outbox) => {
        outbox.queue('a');
        outbox.queueNotification('n1');
        outbox.queueNotification('n2');
      },
      expect: { frames: ['a', 'n1', 'n2'], writes: [3], pushed: [2], slow: 0 },
    },
    {
      name: 'a dropped frame stops the write and reports the socket slow',
      script: { drop: 2 },
      run: (outbox) => ['a', 'b', 'c'].forEach((frame) => outbox.queueNotification(frame)),
      expect: { frames: ['a'], writes: [1], pushed: [3], slow: 1 },
    },
    {
      name: 'a socket whose buffer is past the bound after the flush is slow',
      script: { buffered: MAX + 1 },
      run: (outbox) => outbox.queue('a'),
      expect: { frames: ['a'], writes: [1], pushed: [], slow: 1 },
    },
    {
      name: 'a write without the backpressure check (before a close) gives no second verdict',
      script: { buffered: MAX + 1 },
      run: (outbox) => {
        outbox.queue('a');
        outbox.write({ checkBackpressure: false });
      },
      expect: { frames: ['a'], writes: [1], pushed: [], slow: 0 },
    },
    {
      name: 'closed: nothing is queued, nothing written',
      run: (outbox) => {
        outbox.close();
        assert.equal(outbox.queue('a'), false);
        outbox.writeLive(live([1]), () => true);
      },
      expect: { frames: [], writes: [], pushed: [], slow: 0 },
    },
    {
      name: 'closed after queueing: the queued frames are dropped',
      run: (outbox) => {
        outbox.queue('a');
        outbox.close();
      },
      expect: { frames: [], writes: [], pushed: [], slow: 0 },
    },
    {
      name: 'a live batch goes straight out, its filter skipping repeats; counts are not notifications',
      run: (outbox) => outbox.writeLive([...live([1, 2]), count(2), ...live([2, 3])], seen()),
      expect: { frames: ['n1', 'n2', 'c2', 'n3'], writes: [4], pushed: [3], slow: 0 },
    },
    {
      name: 'a live batch stops at the dropped frame',
      script: { drop: 2 },
      run: (outbox) => outbox.writeLive(live([1, 2, 3]), () => true),
      expect: { frames: ['n1'], writes: [1], pushed: [1], slow: 1 },
    },
  ];

  for (const { name, script, run, expect } of cases)
    it(name, async () => {
      const { outbox, frames, writes, pushed, slowCount } = scripted(script);
      run(outbox);
      await nextIteration();
      assert.deepEqual({ frames, writes, pushed, slow: slowCount() }, expect);
    });

  it('waits for room only past half the bound, until the socket drains', async () => {
    for (const { buffered, waits } of [
      { buffered: 0, waits: false },
      { buffered: MAX / 2 - 1, waits: false },
      { buffered: MAX / 2, waits: true },
    ]) {
      const { outbox, frames } = scripted({ buffered });
      outbox.queue('a');
      let done = false;
      const waiting = outbox.waitForRoom().then(() => (done = true));
      assert.deepEqual(frames, ['a'], 'what was queued is written before the wait');
      await nextIteration();
      assert.equal(done, !waits, `buffered ${buffered}`);
      outbox.drained();
      await waiting;
    }
  });
});

/** A filter that accepts each id once (the session's SentIds does it in order). */
function seen(): (notification: { seq: bigint }) => boolean {
  const ids = new Set<bigint>();
  return ({ seq }) => !ids.has(seq) && Boolean(ids.add(seq));
}
