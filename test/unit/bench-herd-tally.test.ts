import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { drainUntilQuiet, exactlyOnceTarget, tallyHerd } from '../../bench/herd-tally.js';

/**
 * The herd bench's tally (bench/herd-tally.ts) decides whether "none lost, none twice" is met:
 * checked against a per-dossier model (seeded, replayable with FC_SEED), and its drain against a
 * counter that keeps moving or goes still.
 */

const T = 1_000_000;
const TIMEOUT = 10_000;

/** Per dossier: the instants of its rows and frames, each before, within or after the timeout. */
const instant = fc.oneof(
  // The edges: at T, exactly at the timeout (in time) and just after it (late).
  fc.constantFrom(T, T + TIMEOUT, T + TIMEOUT + 1),
  fc.integer({ min: T - 500, max: T + 3 * TIMEOUT }),
);
const dossierArbitrary = fc.record({
  rows: fc.array(instant, { maxLength: 3 }),
  frames: fc.array(instant, { maxLength: 3 }),
});

/** The model: each dossier on its own, its first row and first frame classified. */
function model(dossiers: Array<{ rows: number[]; frames: number[] }>) {
  const totals = { inTimeRows: 0, inTimeFrames: 0, late: [0, 0], lost: [0, 0], twice: [0, 0] };
  dossiers.forEach(({ rows, frames }) => {
    [rows, frames].forEach((times, side) => {
      if (times.length === 0) totals.lost[side]! += 1;
      else if (Math.min(...times) - T > TIMEOUT) totals.late[side]! += 1;
      else if (side === 0) totals.inTimeRows += 1;
      else totals.inTimeFrames += 1;
      totals.twice[side]! += Math.max(0, times.length - 1);
    });
  });
  return totals;
}

const seed = process.env.FC_SEED === undefined ? 20261203 : Number(process.env.FC_SEED);

describe('herd tally', () => {
  it('classifies each dossier in time, late or lost, and counts every duplicate (property)', () => {
    console.log(`herd tally property: FC_SEED=${seed}`);
    fc.assert(
      fc.property(fc.array(dossierArbitrary, { minLength: 1, maxLength: 30 }), (dossiers) => {
        const ids = dossiers.map((_, i) => `H-${i}`);
        // Rows arrive in any order; a stranger's row (another prefix) must not count.
        const stored = dossiers
          .flatMap(({ rows }, i) => rows.map((at) => ({ dossierId: ids[i]!, at })))
          .reverse()
          .concat([{ dossierId: 'P-1', at: T }]);
        const frames = new Map(
          dossiers.flatMap(({ frames: times }, i) => (times.length ? [[ids[i]!, times] as const] : [])),
        );
        frames.set('P-1', [T, T]);
        const tally = tallyHerd({ ids, stored, frames, T, timeoutMs: TIMEOUT });
        const expected = model(dossiers);
        assert.equal(tally.storedMs.length, expected.inTimeRows);
        assert.equal(tally.frameMs.length, expected.inTimeFrames);
        assert.deepEqual([tally.lateRows, tally.lateFrames], expected.late);
        assert.deepEqual([tally.lostRows, tally.lostFrames], expected.lost);
        assert.deepEqual([tally.twiceRows, tally.twiceFrames], expected.twice);
        assert.deepEqual(
          tally.storedMs,
          [...tally.storedMs].sort((a, b) => a - b),
        );
        assert.ok(tally.storedMs.every((ms) => ms <= TIMEOUT));
      }),
      { seed, numRuns: 300, ...(process.env.FC_PATH && { path: process.env.FC_PATH }) },
    );
  });

  it('takes the earliest of two rows as the stored instant, whatever their order', () => {
    const tally = tallyHerd({
      ids: ['H-1'],
      stored: [
        { dossierId: 'H-1', at: T + 2 * TIMEOUT },
        { dossierId: 'H-1', at: T + 100 },
      ],
      frames: new Map([['H-1', [T + 150]]]),
      T,
      timeoutMs: TIMEOUT,
    });
    assert.deepEqual(tally.storedMs, [100]);
    assert.equal(tally.lateRows, 0);
    assert.equal(tally.twiceRows, 1);
    assert.deepEqual(tally.deliveryMs, [50]);
  });

  it('meets "none lost, none twice" only when nothing is missing or repeated and the drain went quiet', () => {
    const clean = { n: 10, lostRows: 0, lostFrames: 0, twiceRows: 0, twiceFrames: 0 };
    const quiet = { quiet: true, drainedMs: 15_000 };
    assert.equal(exactlyOnceTarget([{ ...clean, drain: quiet }]).met, true);
    assert.equal(exactlyOnceTarget([{ ...clean, twiceFrames: 1, drain: quiet }]).met, false);
    assert.equal(exactlyOnceTarget([{ ...clean, lostRows: 1, drain: quiet }]).met, false);
    assert.equal(exactlyOnceTarget([{ ...clean, drain: { quiet: false, drainedMs: 60_000 } }]).met, false);
    assert.equal(exactlyOnceTarget([]).met, false);
  });
});

describe('drain until quiet', () => {
  it('ends once the count has stood still for the quiet time', async () => {
    let count = 0;
    const moving = setInterval(() => (count < 5 ? (count += 1) : undefined), 20);
    try {
      const { quiet, drainedMs } = await drainUntilQuiet({
        count: () => count,
        quietMs: 200,
        deadline: Date.now() + 5000,
        intervalMs: 10,
      });
      assert.equal(quiet, true);
      assert.equal(count, 5, 'it waited for the count to stop');
      assert.ok(drainedMs >= 200, `drained in ${drainedMs} ms`);
    } finally {
      clearInterval(moving);
    }
  });

  it('reports a count still moving at the deadline as not quiet', async () => {
    let count = 0;
    const { quiet } = await drainUntilQuiet({
      count: () => (count += 1),
      quietMs: 200,
      deadline: Date.now() + 300,
      intervalMs: 10,
    });
    assert.equal(quiet, false);
  });
});
