import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedCounter, KeyedRateLimit, type BucketRate } from '../../server/ws/upgrade-limits.js';

/** The upgrade limits (per address, per user) against a table of traffic shapes, on a fake clock. */
describe('KeyedRateLimit: a token bucket per address', () => {
  /** `at`: ms of each attempt; `allowed`: which of them pass. */
  const shapes: Array<{ name: string; rate: BucketRate; at: number[]; allowed: boolean[] }> = [
    {
      name: 'a burst takes the bucket, the rest is refused',
      rate: { perSecond: 2, burst: 3 },
      at: [0, 0, 0, 0, 0],
      allowed: [true, true, true, false, false],
    },
    {
      name: 'refills over time: one token per 1/perSecond',
      rate: { perSecond: 2, burst: 3 },
      at: [0, 0, 0, 0, 499, 500, 900, 1000],
      allowed: [true, true, true, false, false, true, false, true],
    },
    {
      name: 'a steady rate at the limit is never refused',
      rate: { perSecond: 10, burst: 1 },
      at: Array.from({ length: 50 }, (_, index) => index * 100),
      allowed: Array.from({ length: 50 }, () => true),
    },
    {
      name: 'half the rate in small bursts is never refused (the bucket refills between them)',
      rate: { perSecond: 4, burst: 4 },
      at: Array.from({ length: 40 }, (_, index) => Math.floor(index / 4) * 2000 + (index % 4)),
      allowed: Array.from({ length: 40 }, () => true),
    },
    {
      name: 'refused attempts do not spend tokens: a long pause refills to the burst, not beyond',
      rate: { perSecond: 1, burst: 2 },
      at: [0, 0, 0, 0, 60_000, 60_000, 60_000],
      allowed: [true, true, false, false, true, true, false],
    },
    {
      name: 'perSecond 0 turns the limit off',
      rate: { perSecond: 0, burst: 1 },
      at: [0, 0, 0, 0],
      allowed: [true, true, true, true],
    },
  ];
  for (const shape of shapes) {
    it(shape.name, () => {
      let now = 0;
      const limit = new KeyedRateLimit(shape.rate, { now: () => now });
      const allowed = shape.at.map((at) => {
        now = at;
        return limit.take('198.51.100.7') === 0;
      });
      assert.deepEqual(allowed, shape.allowed);
    });
  }

  it('says how long until the next token', () => {
    let now = 0;
    const limit = new KeyedRateLimit({ perSecond: 2, burst: 1 }, { now: () => now });
    assert.equal(limit.take('a'), 0);
    assert.equal(limit.take('a'), 500);
    now = 400;
    assert.equal(limit.take('a'), 100);
  });

  it('keeps addresses apart, and forgets refilled ones past maxKeys', () => {
    let now = 0;
    const limit = new KeyedRateLimit({ perSecond: 1, burst: 1 }, { now: () => now, maxKeys: 3 });
    assert.equal(limit.take('a'), 0);
    assert.notEqual(limit.take('a'), 0);
    assert.equal(limit.take('b'), 0, 'another address has its own bucket');
    now = 5000;
    for (const key of ['c', 'd', 'e']) assert.equal(limit.take(key), 0);
    assert.ok(limit.size <= 3, `${limit.size} buckets kept`);
  });
});

describe('KeyedCounter: sockets per user', () => {
  it('counts up to the cap, frees a place on release, and forgets a key at zero', () => {
    const counter = new KeyedCounter(2);
    assert.deepEqual(
      [counter.tryAcquire('u'), counter.tryAcquire('u'), counter.tryAcquire('u')],
      [true, true, false],
    );
    assert.equal(counter.tryAcquire('v'), true);
    counter.release('u');
    assert.equal(counter.tryAcquire('u'), true);
    for (const key of ['u', 'u', 'v']) counter.release(key);
    assert.equal(counter.size, 0);
  });

  it('0 is no cap', () => {
    const counter = new KeyedCounter(0);
    for (let index = 0; index < 1000; index += 1) assert.equal(counter.tryAcquire('u'), true);
  });
});
