import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageRateLimit, TokenBucket, type RateDecision } from '../../server/ws/token-bucket.js';

/**
 * The socket rate limit against traffic shapes, on a clock the test drives (no real time): the
 * default settings, WS_RATE_LIMIT_PER_SECOND 10 and WS_RATE_LIMIT_BURST 30.
 */

const RATE = { perSecond: 10, burst: 30 };

/** Sends `count` messages at `at` ms; a shape is a list of them over time. */
type Shape = Array<{ at: number; count: number }>;

/** Every `everyMs` from 0 to `forMs`, `count` messages at once. */
const bursts = (count: number, everyMs: number, forMs: number): Shape =>
  Array.from({ length: Math.floor(forMs / everyMs) + 1 }, (_, index) => ({ at: index * everyMs, count }));

function play(shape: Shape): { accepted: number; refused: number; closedAt: number | undefined } {
  let now = 0;
  const limit = new MessageRateLimit({ ...RATE, now: () => now });
  const tally: Record<RateDecision, number> = { accept: 0, refuse: 0, close: 0 };
  for (const { at, count } of shape) {
    now = at;
    for (let index = 0; index < count; index += 1) {
      const decision = limit.decide();
      tally[decision] += 1;
      if (decision === 'close') return { accepted: tally.accept, refused: tally.refuse, closedAt: at };
    }
  }
  return { accepted: tally.accept, refused: tally.refuse, closedAt: undefined };
}

const MINUTE = 60_000;

describe('socket rate limit: traffic shapes over a minute', () => {
  const cases: Array<{
    name: string;
    shape: Shape;
    expect: { refused?: number; closedBy?: number; open?: true; acceptedAtMost?: number };
  }> = [
    {
      name: 'steady under the rate (9 a second)',
      shape: bursts(9, 1000, MINUTE),
      expect: { refused: 0, open: true },
    },
    {
      name: 'steady at the rate (1 every 100 ms)',
      shape: bursts(1, 100, MINUTE),
      expect: { refused: 0, open: true },
    },
    {
      name: 'bursts within the burst (30 every 3 s)',
      shape: bursts(30, 3000, MINUTE),
      expect: { refused: 0, open: true },
    },
    {
      name: 'bursts averaging half the rate, a little over the burst (35 every 7 s)',
      shape: bursts(35, 7000, MINUTE),
      // 5 of each burst are refused (the client retries them), and it is never closed.
      expect: { refused: 5 * 9, open: true },
    },
    {
      name: 'bursts averaging half the rate, each 1.5 times the burst (45 every 9 s)',
      shape: bursts(45, 9000, MINUTE),
      expect: { refused: 15 * 7, open: true },
    },
    {
      name: 'one burst of twice the burst (60 at once): more refusals than the tolerance',
      shape: [{ at: 0, count: 60 }],
      expect: { closedBy: 0, acceptedAtMost: 30 },
    },
    {
      name: 'sustained flood (100 a second)',
      shape: bursts(100, 1000, MINUTE),
      // The first second: the burst is accepted, FLOOD_TOLERANCE refused, then the close.
      expect: { closedBy: 0, acceptedAtMost: 30 },
    },
    {
      name: 'twice the rate, steadily (1 every 50 ms)',
      shape: bursts(1, 50, MINUTE),
      // Refused 10 a second, forgiven 2 a second: the tolerance of 20 lasts a few seconds.
      expect: { closedBy: 10_000 },
    },
    {
      name: 'one huge burst (500 at once)',
      shape: [{ at: 0, count: 500 }],
      expect: { closedBy: 0, acceptedAtMost: 30 },
    },
  ];

  for (const { name, shape, expect } of cases) {
    it(name, () => {
      const result = play(shape);
      if (expect.open) assert.equal(result.closedAt, undefined, `closed at ${result.closedAt} ms`);
      if (expect.refused !== undefined) assert.equal(result.refused, expect.refused);
      if (expect.closedBy !== undefined) {
        assert.notEqual(result.closedAt, undefined, 'closed');
        assert.ok(result.closedAt! <= expect.closedBy, `closed at ${result.closedAt} ms`);
      }
      if (expect.acceptedAtMost !== undefined) assert.ok(result.accepted <= expect.acceptedAtMost);
    });
  }
});

describe('token bucket', () => {
  it('refills over time up to its capacity, never beyond, and a clock going back refills nothing', () => {
    let now = 1_000;
    const bucket = new TokenBucket({ perSecond: 2, capacity: 3, now: () => now });
    const takes = (count: number) => Array.from({ length: count }, () => bucket.take());
    assert.deepEqual(takes(4), [true, true, true, false]);
    now += 500; // one token back
    assert.deepEqual(takes(2), [true, false]);
    now += 60_000; // full, not 120
    assert.deepEqual(takes(4), [true, true, true, false]);
    now -= 10_000;
    assert.deepEqual(takes(1), [false]);
    now += 500;
    assert.deepEqual(takes(2), [true, false]);
  });
});
