import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { poll, waitFor } from '../../support/wait.js';

/** The one polling loop of the tests and the benchmarks (support/wait.ts), on scripted probes. */

/** What each call of the probe does: return a value, or throw. */
type Answer = { value: unknown } | { throws: string };

interface Case {
  name: string;
  answers: Answer[];
  probeErrors: 'retry' | 'throw';
  /** The deadline has passed before the first probe. */
  late?: boolean;
  /** How the poll settles: its value, or the message of its error. */
  outcome: { value: unknown } | { error: string };
  calls: number;
}

const cases: Case[] = [
  {
    name: 'returns the first value that is neither undefined nor false',
    answers: [{ value: undefined }, { value: false }, { value: 0 }],
    probeErrors: 'throw',
    outcome: { value: 0 },
    calls: 3,
  },
  {
    name: "'retry': a probe's error counts as not yet",
    answers: [{ throws: 'not up' }, { value: 'up' }],
    probeErrors: 'retry',
    outcome: { value: 'up' },
    calls: 2,
  },
  {
    name: "'throw': a probe's error ends the poll at once",
    answers: [{ value: undefined }, { throws: 'process gone' }, { value: 'up' }],
    probeErrors: 'throw',
    outcome: { error: 'process gone' },
    calls: 2,
  },
  {
    name: "past the deadline: onTimeout's answer, with the last retried error",
    answers: [{ throws: 'refused' }],
    probeErrors: 'retry',
    late: true,
    outcome: { value: 'timed out after refused' },
    calls: 1,
  },
];

describe('poll', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      let calls = 0;
      const probe = () => {
        const answer = testCase.answers[Math.min(calls, testCase.answers.length - 1)]!;
        calls += 1;
        if ('throws' in answer) throw new Error(answer.throws);
        return answer.value;
      };
      const outcome = await poll(probe, {
        deadline: testCase.late ? Date.now() - 1 : Date.now() + 10_000,
        intervalMs: 1,
        probeErrors: testCase.probeErrors,
        onTimeout: (lastError) => `timed out after ${(lastError as Error).message}`,
      }).then(
        (value) => ({ value }),
        (error: Error) => ({ error: error.message }),
      );
      assert.deepEqual(outcome, testCase.outcome);
      assert.equal(calls, testCase.calls);
    });
  }

  it('waitFor fails at its timeout naming what it waited for, the last error as the cause', async () => {
    const error = await waitFor(
      'the answer',
      () => {
        throw new Error('no answer yet');
      },
      { timeoutMs: 20, intervalMs: 5 },
    ).then(
      () => assert.fail('resolved'),
      (failure: Error) => failure,
    );
    assert.equal(error.message, 'Timed out after 20 ms waiting for the answer');
    assert.equal((error.cause as Error).message, 'no answer yet');
  });
});
