import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeMissing, type RunEvidence } from '../../domain/reminder-audit.js';

/** The audit's verdict on a missing reminder, from what the dossier's runs say (a table). */
const KEY = 'reminder:D-1:2027-03-31:j-0';
const dueBy = Date.parse('2027-03-31T07:00:00Z');
const armed = (at: string, queued = 0) => ({ sent: [], pending: [{ idempotencyKey: KEY, at }], queued });
const sent = { sent: [{ idempotencyKey: KEY }], pending: [] };
const nothing = { sent: [], pending: [] };

const cases: Array<[string, RunEvidence[], ReturnType<typeof judgeMissing>]> = [
  ['a run sent it (its row was deleted)', [{ status: 'RUNNING', plan: sent }], 'sent'],
  [
    'an earlier run sent it',
    [
      { status: 'RUNNING', plan: nothing },
      { status: 'CONTINUED_AS_NEW', plan: sent },
    ],
    'sent',
  ],
  [
    'terminated with it armed and due',
    [
      { status: 'RUNNING', plan: nothing },
      { status: 'TERMINATED', plan: armed('2027-03-31T06:00:00Z') },
    ],
    'orphaned',
  ],
  ['failed with it armed and due', [{ status: 'FAILED', plan: armed('2027-03-31T06:00:00Z') }], 'orphaned'],
  [
    'terminated with it armed, not due yet',
    [{ status: 'TERMINATED', plan: armed('2027-03-31T08:00:00Z') }],
    'not-armed',
  ],
  [
    'continued as new with it armed: the next run carries it',
    [
      { status: 'RUNNING', plan: nothing },
      { status: 'CONTINUED_AS_NEW', plan: armed('2027-03-31T06:00:00Z') },
    ],
    'not-armed',
  ],
  [
    'running with it armed and due within the last audit period (busy, or failing)',
    [{ status: 'RUNNING', plan: armed('2027-03-31T06:30:00Z') }],
    'late',
  ],
  [
    'running with it armed and due for a whole audit period, no call queued (a lost timer)',
    [{ status: 'RUNNING', plan: armed('2027-03-31T06:00:00Z') }],
    'stuck',
  ],
  [
    'running with it armed and due for a day, no call queued',
    [{ status: 'RUNNING', plan: armed('2027-03-30T07:00:00Z') }],
    'stuck',
  ],
  [
    'running with it armed and due for a whole period, a call queued (a complete may be waiting)',
    [{ status: 'RUNNING', plan: armed('2027-03-31T05:00:00Z', 1) }],
    'late',
  ],
  [
    'running v1 run (no queue shown), armed and due for a day: left to it',
    [
      {
        status: 'RUNNING',
        plan: { sent: [], pending: [{ idempotencyKey: KEY, at: '2027-03-30T07:00:00Z' }] },
      },
    ],
    'late',
  ],
  ['running, cannot answer', [{ status: 'RUNNING' }], 'unanswered'],
  ['completed (done): cannot answer, nothing owed', [{ status: 'COMPLETED' }], 'not-armed'],
  ['no run armed it (the rules skipped it)', [{ status: 'RUNNING', plan: nothing }], 'not-armed'],
  ['no run at all (past retention)', [], 'no-runs'],
  [
    'armed and due in the running run, and in a terminated one: the running run decides (a complete may wait in it)',
    [
      { status: 'RUNNING', plan: armed('2027-03-31T06:00:00Z', 1) },
      { status: 'TERMINATED', plan: armed('2027-03-31T06:00:00Z') },
    ],
    'late',
  ],
  [
    'terminated with it armed and due, but a call unapplied (a complete it never applied)',
    [{ status: 'TERMINATED', plan: armed('2027-03-31T06:00:00Z', 1) }],
    'unanswered',
  ],
  [
    'terminated v1 run (no queue shown): not restored',
    [
      {
        status: 'TERMINATED',
        plan: { sent: [], pending: [{ idempotencyKey: KEY, at: '2027-03-31T06:00:00Z' }] },
      },
    ],
    'unanswered',
  ],
];

describe('judgeMissing', () => {
  for (const [name, runs, verdict] of cases) {
    it(`${name}: ${verdict}`, () => assert.equal(judgeMissing(KEY, runs, { dueBy }), verdict));
  }
});
