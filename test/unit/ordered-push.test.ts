import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import type { LiveBatch } from '../../server/hub/notification-hub.js';
import { FlushQueue } from '../../server/ws/flush-queue.js';
import { OrderedPush } from '../../server/ws/ordered-push.js';
import { Outbox } from '../../server/ws/outbox.js';

/**
 * A socket's notifications in order, on a recording socket and a table of stored ids: live
 * batches, held ones, and resumes, with no gap and no duplicate. (The whole session on real
 * sockets: test/integration/server-resume.test.ts.)
 */

interface Fixture {
  push: OrderedPush;
  /** Frames as written: a notification's id, `count`, `resumed:<lastId>/<count>`, `error`. */
  frames: string[];
  cutOffs: () => number;
}

function fixture({ stored = [] as number[], maxHeldBytes = 1 << 20 } = {}): Fixture {
  const frames: string[] = [];
  let cutOffs = 0;
  const outbox = new Outbox(
    {
      corked: (write) => write(),
      send: (frame) => {
        const message = JSON.parse(String(frame)) as {
          type: string;
          notification?: { id: string };
          lastId?: string | null;
          count?: number;
        };
        if (message.type === 'notification') frames.push(message.notification!.id);
        else if (message.type === 'resumed') frames.push(`resumed:${message.lastId}/${message.count}`);
        else frames.push(message.type);
        return true;
      },
      bufferedAmount: () => 0,
      end: () => assert.fail('not ended here'),
    },
    {
      flushes: new FlushQueue((error) => assert.fail(String(error))),
      maxBufferedBytes: 1 << 20,
      pushed: () => {},
      slow: () => assert.fail('never slow here'),
    },
  );
  const push = new OrderedPush(outbox, {
    maxHeldBytes,
    source: {
      newest: async () => BigInt(Math.max(0, ...stored)),
      readPage: async (after, limit) =>
        stored
          .filter((id) => id > Number(after))
          .slice(0, limit)
          .map((id) => ({ id: String(id), json: `{"id":"${id}"}` })),
    },
    cutOff: () => (cutOffs += 1),
  });
  return { push, frames, cutOffs: () => cutOffs };
}

const live = (...ids: number[]): LiveBatch =>
  ids.map((id) => ({
    id: String(id),
    seq: BigInt(id),
    frame: Buffer.from(`{"type":"notification","notification":{"id":"${id}"}}`),
  }));
const count = (unread: number): LiveBatch => [
  {
    counts: { unread, unseen: 0, archived: 0, lastSeenId: '0' },
    frame: JSON.stringify({ type: 'unread_count', count: unread }),
  },
];

type Step =
  | { live: LiveBatch }
  | 'count'
  | 'resumingAtOpen'
  | { resume: number; atOpen?: true; refused?: RegExp }
  /** Lets a resume started before run until it settles. */
  | 'settle';

describe('ordered push', () => {
  const cases: Array<{
    name: string;
    stored?: number[];
    steps: Step[];
    expect: string[];
    maxHeldBytes?: number;
  }> = [
    {
      name: 'live batches go out in order, a repeated id once',
      steps: ['count', { live: live(1, 2) }, { live: live(2, 3) }, { live: count(5) }],
      expect: ['1', '2', '3', 'unread_count'],
    },
    {
      name: 'what arrives before the count waits for it',
      steps: [{ live: live(1) }, { live: count(1) }, 'count', { live: live(2) }],
      expect: ['1', 'unread_count', '2'],
    },
    {
      name: 'a resume at open: stored ids, then what arrived meanwhile without repeats, then `resumed`',
      stored: [1, 2, 3, 4],
      steps: ['resumingAtOpen', { live: live(4, 5) }, 'count', { resume: 2, atOpen: true }, 'settle'],
      // What was held is released as the catch-up ends, in the same write as `resumed`, which
      // counts it in its lastId (its count is the catch-up's alone).
      expect: ['3', '4', '5', 'resumed:5/2'],
    },
    {
      name: 'the first resume skips what went out live, but reports it in its cursor',
      stored: [1, 2, 3],
      steps: ['count', { live: live(2, 3) }, { resume: 0 }, 'settle'],
      expect: ['2', '3', '1', 'resumed:3/1'],
    },
    {
      name: 'a later resume sends all it is asked for',
      stored: [1, 2],
      steps: ['count', { live: live(2) }, { resume: 2 }, 'settle', { resume: 0 }, 'settle'],
      expect: ['2', 'resumed:2/0', '1', '2', 'resumed:2/2'],
    },
    {
      name: 'a second resume while one runs is refused',
      stored: [1],
      steps: ['count', { resume: 0 }, { resume: 0, refused: /already running/ }, 'settle'],
      expect: ['1', 'resumed:1/1'],
    },
  ];

  for (const { name, stored, steps, expect, maxHeldBytes } of cases)
    it(name, async () => {
      const { push, frames } = fixture({ stored, maxHeldBytes });
      const running: Array<Promise<void>> = [];
      for (const step of steps) {
        if (step === 'count') push.countWentOut();
        else if (step === 'resumingAtOpen') push.resumingAtOpen();
        else if (step === 'settle') await Promise.all(running.splice(0));
        else if ('live' in step) push.push(step.live);
        else if (step.refused) await assert.rejects(push.resume(String(step.resume)), step.refused);
        else {
          // Started, not awaited: the next step runs while it is in flight.
          running.push(push.resume(String(step.resume), { atOpen: step.atOpen }));
          continue;
        }
        await nextIteration();
      }
      await Promise.all(running);
      await nextIteration();
      assert.deepEqual(frames, expect);
    });

  it('cuts the socket off when what waits behind a catch-up passes the bound', async () => {
    const { push, frames, cutOffs } = fixture({ maxHeldBytes: 100 });
    push.push(live(1));
    assert.equal(cutOffs(), 0);
    push.push(live(2, 3, 4));
    assert.equal(cutOffs(), 1);
    push.countWentOut();
    await nextIteration();
    assert.deepEqual(frames, [], 'what was held is dropped: the client catches up on reconnect');
  });
});
