import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeMissing, type RunEvidence } from '../domain/reminder-audit.js';

/** The audit's verdict on a missing reminder, from what the dossier's runs say (a table). */
const KEY = 'reminder:D-1:2027-03-31:j-0';
const dueBy = Date.parse('2027-03-31T07:00:00Z');
const armed = (at: string) => ({ sent: [], pending: [{ idempotencyKey: KEY, at }] });
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
    'running with it armed and due (busy, or failing)',
    [{ status: 'RUNNING', plan: armed('2027-03-31T06:00:00Z') }],
    'late',
  ],
  ['running, cannot answer', [{ status: 'RUNNING' }], 'unanswered'],
  ['completed (done): cannot answer, nothing owed', [{ status: 'COMPLETED' }], 'not-armed'],
  ['no run armed it (the rules skipped it)', [{ status: 'RUNNING', plan: nothing }], 'not-armed'],
  ['no run at all', [], 'not-armed'],
];

describe('judgeMissing', () => {
  for (const [name, runs, verdict] of cases) {
    it(`${name}: ${verdict}`, () => assert.equal(judgeMissing(KEY, runs, { dueBy }), verdict));
  }
});
