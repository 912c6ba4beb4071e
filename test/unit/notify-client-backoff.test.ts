import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../web/client/backoff.js';

/**
 * The client library's backoff (web/client/backoff.ts), for reconnections and for refused marks:
 * each delay drawn in [ceiling/2, ceiling], the ceiling doubling from initialMs up to maxMs.
 */
describe('client backoff: the delays, attempt after attempt', () => {
  const table: Array<{ name: string; initialMs: number; maxMs: number; random: number; delays: number[] }> = [
    {
      name: 'the longest draw doubles up to the ceiling',
      initialMs: 500,
      maxMs: 30_000,
      random: 1,
      delays: [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
    },
    {
      name: 'the shortest draw is half of it',
      initialMs: 500,
      maxMs: 30_000,
      random: 0,
      delays: [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000],
    },
    { name: 'a middle draw', initialMs: 100, maxMs: 300, random: 0.5, delays: [75, 150, 225, 225] },
    {
      name: 'a ceiling below the first delay caps it',
      initialMs: 500,
      maxMs: 200,
      random: 1,
      delays: [200, 200],
    },
  ];
  for (const { name, initialMs, maxMs, random, delays } of table) {
    it(name, () => {
      const backoff = new Backoff({ initialMs, maxMs }, () => random);
      assert.deepEqual(
        delays.map(() => backoff.next()),
        delays,
      );
      assert.equal(backoff.attempt, delays.length);
    });
  }

  it('starts over after a reset', () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 1000 }, () => 1);
    assert.equal(backoff.attempt, 0);
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 10);
  });

  it('a thousand attempts never go past the ceiling', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 }, () => 1);
    for (let attempt = 0; attempt < 1000; attempt += 1) assert.ok(backoff.next() <= 30_000);
  });
});
