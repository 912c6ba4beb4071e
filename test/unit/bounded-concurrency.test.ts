import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapBounded } from '../../domain/bounded-concurrency.js';

/**
 * The one bounded-concurrency loop (domain/bounded-concurrency.ts), on a table of jobs. A job
 * lasts a number of event-loop turns, so that which job runs beside which is the same every run.
 */

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Case {
  name: string;
  /** Each job's length in event-loop turns. */
  turns: number[];
  concurrency: number;
  /** The jobs that throw when they end. */
  failing?: number[];
  /** The jobs started, in the order they started. */
  started: number[];
  maxInFlight: number;
  /** The error thrown (its message), or the results. */
  outcome: { error: string } | { results: string[] };
}

const cases: Case[] = [
  {
    name: "at most K in flight, each lane taking the next job in order; results in the jobs' order",
    turns: [3, 1, 1, 2, 1, 1],
    concurrency: 2,
    started: [0, 1, 2, 3, 4, 5],
    maxInFlight: 2,
    outcome: { results: ['job 0', 'job 1', 'job 2', 'job 3', 'job 4', 'job 5'] },
  },
  {
    name: 'K larger than the jobs: all at once',
    turns: [2, 1, 3],
    concurrency: 10,
    started: [0, 1, 2],
    maxInFlight: 3,
    outcome: { results: ['job 0', 'job 1', 'job 2'] },
  },
  {
    name: 'K of one: one after the other',
    turns: [1, 2, 1],
    concurrency: 1,
    started: [0, 1, 2],
    maxInFlight: 1,
    outcome: { results: ['job 0', 'job 1', 'job 2'] },
  },
  {
    name: 'K below one: still one lane',
    turns: [1, 1],
    concurrency: 0,
    started: [0, 1],
    maxInFlight: 1,
    outcome: { results: ['job 0', 'job 1'] },
  },
  {
    name: 'no job: no result',
    turns: [],
    concurrency: 4,
    started: [],
    maxInFlight: 0,
    outcome: { results: [] },
  },
  {
    name: 'a failure starts no further job; the running one ends, then the error is thrown',
    turns: [3, 1, 1, 1],
    concurrency: 2,
    failing: [1],
    started: [0, 1],
    maxInFlight: 2,
    outcome: { error: 'job 1 failed' },
  },
  {
    name: 'two failures: the first one to end is thrown',
    turns: [2, 1, 1],
    concurrency: 2,
    failing: [0, 1],
    started: [0, 1],
    maxInFlight: 2,
    outcome: { error: 'job 1 failed' },
  },
];

describe('mapBounded: N async jobs, at most K in flight', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const started: number[] = [];
      const ended: number[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const run = mapBounded(testCase.turns, testCase.concurrency, async (turns, index) => {
        started.push(index);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        for (let n = 0; n < turns; n += 1) await turn();
        inFlight -= 1;
        ended.push(index);
        if (testCase.failing?.includes(index)) throw new Error(`job ${index} failed`);
        return `job ${index}`;
      });
      const outcome = await run.then(
        (results) => ({ results }),
        (error: Error) => ({ error: error.message }),
      );
      assert.deepEqual(outcome, testCase.outcome);
      assert.deepEqual(started, testCase.started);
      assert.equal(maxInFlight, testCase.maxInFlight);
      assert.deepEqual([...ended].sort(), [...started].sort(), 'every job started has ended when it settles');
    });
  }
});
