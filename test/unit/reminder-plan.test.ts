import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planReminders, type ReminderPolicy } from '../../domain/reminder-plan.js';

const policy: ReminderPolicy = {
  reminderTime: { hour: 8, minute: 0 },
  offsetsDays: [7, 1, 0],
  criticalDelay: 'P3D',
};
const paris = 'Europe/Paris';
const at = (iso: string): number => Date.parse(iso);
const kindsAndInstants = (plan: ReturnType<typeof planReminders>) => plan.map((r) => [r.kind, r.at]);

describe('planReminders (pure)', () => {
  it('plans j-7, j-1, j-0 at 08:00 local, overdue at the next local midnight, critical 3 days later', () => {
    const plan = planReminders({
      deadline: { dueDate: '2027-06-15' },
      timeZone: paris,
      policy,
      now: at('2027-06-01T00:00:00Z'),
    });
    assert.deepEqual(kindsAndInstants(plan), [
      ['j-7', '2027-06-08T06:00:00.000Z'],
      ['j-1', '2027-06-14T06:00:00.000Z'],
      ['j-0', '2027-06-15T06:00:00.000Z'],
      ['overdue', '2027-06-15T22:00:00.000Z'],
      ['overdue_critical', '2027-06-18T22:00:00.000Z'],
    ]);
    assert.deepEqual(
      plan.map((r) => r.type),
      ['deadline_reminder', 'deadline_reminder', 'deadline_reminder', 'new_alert', 'new_alert'],
    );
  });

  it('keeps 08:00 local across the spring DST change (last Sunday of March)', () => {
    // 2027-03-28: clocks go from 02:00 CET to 03:00 CEST.
    const plan = planReminders({
      deadline: { dueDate: '2027-03-28' },
      timeZone: paris,
      policy,
      now: at('2027-03-01T00:00:00Z'),
    });
    assert.deepEqual(kindsAndInstants(plan), [
      ['j-7', '2027-03-21T07:00:00.000Z'], // CET, UTC+1
      ['j-1', '2027-03-27T07:00:00.000Z'], // CET
      ['j-0', '2027-03-28T06:00:00.000Z'], // CEST, UTC+2
      ['overdue', '2027-03-28T22:00:00.000Z'],
      ['overdue_critical', '2027-03-31T22:00:00.000Z'],
    ]);
  });

  it('keeps 08:00 local across the autumn DST change (last Sunday of October)', () => {
    // 2027-10-31: clocks go from 03:00 CEST back to 02:00 CET.
    const plan = planReminders({
      deadline: { dueDate: '2027-11-01' },
      timeZone: paris,
      policy,
      now: at('2027-10-01T00:00:00Z'),
    });
    assert.deepEqual(kindsAndInstants(plan), [
      ['j-7', '2027-10-25T06:00:00.000Z'], // CEST
      ['j-1', '2027-10-31T07:00:00.000Z'], // CET, the day of the change
      ['j-0', '2027-11-01T07:00:00.000Z'],
      ['overdue', '2027-11-01T23:00:00.000Z'],
      ['overdue_critical', '2027-11-04T23:00:00.000Z'],
    ]);
  });

  it("follows the owner's zone", () => {
    const plan = planReminders({
      deadline: { dueDate: '2027-06-15' },
      timeZone: 'America/New_York',
      policy,
      now: at('2027-06-01T00:00:00Z'),
    });
    assert.equal(plan.find((r) => r.kind === 'j-0')?.at, '2027-06-15T12:00:00.000Z');
    assert.equal(plan.find((r) => r.kind === 'overdue')?.at, '2027-06-16T04:00:00.000Z');
  });

  it('skips reminders already past instead of sending them late', () => {
    const plan = planReminders({
      deadline: { dueDate: '2027-06-15' },
      timeZone: paris,
      policy,
      now: at('2027-06-12T10:00:00Z'),
    });
    assert.deepEqual(
      plan.map((r) => r.kind),
      ['j-1', 'j-0', 'overdue', 'overdue_critical'],
    );
  });

  it('alerts an already-late dossier at once: overdue only when under 3 days late', () => {
    const now = at('2027-06-17T10:00:00Z');
    const plan = planReminders({ deadline: { dueDate: '2027-06-15' }, timeZone: paris, policy, now });
    assert.deepEqual(kindsAndInstants(plan), [
      ['overdue', '2027-06-17T10:00:00.000Z'],
      ['overdue_critical', '2027-06-18T22:00:00.000Z'],
    ]);
    assert.equal(plan[0]!.dueInstant, '2027-06-15T22:00:00.000Z');
  });

  it('alerts overdue then critical at once when 5 days late', () => {
    const now = at('2027-06-21T10:00:00Z');
    const plan = planReminders({ deadline: { dueDate: '2027-06-15' }, timeZone: paris, policy, now });
    assert.deepEqual(kindsAndInstants(plan), [
      ['overdue', '2027-06-21T10:00:00.000Z'],
      ['overdue_critical', '2027-06-21T10:00:00.000Z'],
    ]);
  });

  it('uses an exact dueAt as the overdue instant and its local date for j-N', () => {
    const plan = planReminders({
      deadline: { dueAt: '2027-06-15T15:30:00Z' },
      timeZone: paris,
      policy,
      now: at('2027-06-01T00:00:00Z'),
    });
    assert.deepEqual(kindsAndInstants(plan), [
      ['j-7', '2027-06-08T06:00:00.000Z'],
      ['j-1', '2027-06-14T06:00:00.000Z'],
      ['j-0', '2027-06-15T06:00:00.000Z'],
      ['overdue', '2027-06-15T15:30:00.000Z'],
      ['overdue_critical', '2027-06-18T15:30:00.000Z'],
    ]);
  });

  it('drops a j-0 that would come after a dueAt earlier than the reminder time', () => {
    const plan = planReminders({
      deadline: { dueAt: '2027-06-15T05:00:00Z' },
      timeZone: paris,
      policy,
      now: at('2027-06-01T00:00:00Z'),
    });
    assert.deepEqual(
      plan.map((r) => r.kind),
      ['j-7', 'j-1', 'overdue', 'overdue_critical'],
    );
  });

  it('honours a configured reminder time, offsets and critical delay', () => {
    const custom: ReminderPolicy = {
      reminderTime: { hour: 9, minute: 30 },
      offsetsDays: [3],
      criticalDelay: 'PT2H',
    };
    const plan = planReminders({
      deadline: { dueDate: '2027-06-15' },
      timeZone: paris,
      policy: custom,
      now: at('2027-06-01T00:00:00Z'),
    });
    assert.deepEqual(kindsAndInstants(plan), [
      ['j-3', '2027-06-12T07:30:00.000Z'],
      ['overdue', '2027-06-15T22:00:00.000Z'],
      ['overdue_critical', '2027-06-16T00:00:00.000Z'],
    ]);
  });
});
