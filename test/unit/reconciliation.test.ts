import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  forEachInOrder,
  isReconcilableId,
  NO_PROGRESS,
  resumeFrom,
  runningWorkflowsQuery,
} from '../../domain/reconciliation.js';

/** The pure parts of reconciliation (domain/reconciliation.ts); the I/O is tested on the dev server. */

describe('reconciliation rules', () => {
  it('resumes from its own heartbeat details only', () => {
    const progress = { after: 'D-0042', checked: 42, started: 3, skipped: 0 };
    assert.deepEqual(resumeFrom(progress), progress);
    for (const details of [undefined, null, 'D-0042', { after: 'D-0042' }, { ...progress, checked: -1 }]) {
      assert.deepEqual(resumeFrom(details), NO_PROGRESS, JSON.stringify(details));
    }
  });

  it('names the page workflows in one query, and refuses what it cannot quote', () => {
    assert.equal(
      runningWorkflowsQuery('dossierWorkflow', ['dossier:a', 'dossier:b.1']),
      "WorkflowType = 'dossierWorkflow' AND ExecutionStatus = 'Running' AND WorkflowId IN ('dossier:a', 'dossier:b.1')",
    );
    assert.throws(() => runningWorkflowsQuery('dossierWorkflow', ["dossier:it's"]), RangeError);
    assert.ok(isReconcilableId('D-2026:0042_a.b'));
    assert.ok(!isReconcilableId("it's"));
    assert.ok(!isReconcilableId('back\\slash'));
  });

  it('reports completion in order, at most `concurrency` at a time, whatever order work ends in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(5), { minLength: 0, maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        async (delays, concurrency) => {
          let active = 0;
          let peak = 0;
          const reports: Array<[number, number[]]> = [];
          await forEachInOrder(
            delays.map((delay, index) => ({ delay, index })),
            concurrency,
            async ({ delay, index }) => {
              active += 1;
              peak = Math.max(peak, active);
              // Work that ends out of order: a random number of turns of the event loop.
              for (let turn = 0; turn < delay; turn += 1)
                await new Promise((resolve) => setImmediate(resolve));
              active -= 1;
              return index;
            },
            (count, results) => reports.push([count, results]),
          );
          assert.ok(peak <= concurrency, `peak ${peak} > ${concurrency}`);
          // Counts grow; the results reported are each item once, in order.
          assert.deepEqual(
            reports.map(([count]) => count),
            [...new Set(reports.map(([count]) => count))].sort((a, b) => a - b),
          );
          assert.deepEqual(
            reports.flatMap(([, results]) => results),
            delays.map((_, index) => index),
          );
          assert.equal(reports.at(-1)?.[0] ?? 0, delays.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('on a failure reports only the items done before it in order, then throws', async () => {
    const reported: number[] = [];
    await assert.rejects(
      forEachInOrder(
        [0, 1, 2, 3, 4, 5],
        2,
        async (item) => {
          if (item === 2) throw new Error('Temporal unavailable');
          return item;
        },
        (count) => reported.push(count),
      ),
      /Temporal unavailable/,
    );
    // Items 0 and 1 are done; 3 may have finished too, but the prefix stops before 2.
    assert.equal(reported.at(-1), 2);
  });
});
