import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { dossierLives, kinds, uniqueId } from '../support/dossier-lives.js';
import {
  startReminderEngine,
  type NotificationRow,
  type ReminderEngine,
} from '../support/reminder-engine.js';
import { createTimeSkippingEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * Business days end to end on the time-skipping server, with the real worker, activities and
 * PostgreSQL: reminders that fall on a weekend or a French public holiday come on the business day
 * before, in France (BUSINESS_CALENDAR=FR, the default) and in Alsace (FR-67: 26 December is
 * closed), with the words, the plan and the Temporal UI's summaries saying so. The expected
 * instants are written out by hand (Paris: UTC+1 in winter, UTC+2 from 28 March 2027).
 */

let env: TestWorkflowEnvironment;
let france: ReminderEngine;
let alsace: ReminderEngine;
const started: Array<{ engine: ReminderEngine; id: string }> = [];
const owner = { timezone: 'Europe/Paris' } as const;

before(async () => {
  env = await createTimeSkippingEnv();
  france = await startReminderEngine(env, { BUSINESS_CALENDAR: 'FR' });
  alsace = await startReminderEngine(env, { BUSINESS_CALENDAR: 'FR-67' });
});

after(async () => {
  // Ended through the API: the clock is global to the test server (see dossier-workflow.test.ts).
  for (const { engine, id } of started) {
    await engine.dossiers.cancel(id);
    await engine.client.workflow.getHandle(dossierWorkflowId(id)).result();
  }
  await france?.close();
  await alsace?.close();
  await env?.teardown();
});

async function create(engine: ReminderEngine, label: string, dueDate: string): Promise<string> {
  const id = uniqueId(label);
  started.push({ engine, id });
  await engine.dossiers.create({ id, title: `Liasse ${label}`, ownerId: `owner-${label}`, dueDate, owner });
  return id;
}

const reminders = (rows: NotificationRow[]) =>
  rows
    .filter((row) => row.type === 'deadline_reminder')
    .map((row) => `${row.kind} ${row.scheduled_for?.toISOString()}`);

/** The summaries of the timers the dossier's workflow started, in order. */
async function timerSummaries(engine: ReminderEngine, id: string): Promise<string[]> {
  const history = await engine.client.workflow.getHandle(dossierWorkflowId(id)).fetchHistory();
  const started = proto.temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED;
  return (history.events ?? []).flatMap((event) =>
    event.eventType === started && event.userMetadata?.summary
      ? [defaultPayloadConverter.fromPayload<string>(event.userMetadata.summary)]
      : [],
  );
}

describe('business days (time-skipping server, real worker, activities and PostgreSQL)', () => {
  it('moves reminders off weekends and holidays, in France and in Alsace, and says so', async () => {
    const easter = await create(france, 'easter', '2027-03-30');
    const moved = await create(france, 'moved', '2027-06-01');
    const christmas = await create(france, 'christmas', '2028-12-27');
    const christmasAlsace = await create(alsace, 'alsace', '2028-12-27');
    const newYear = await create(france, 'newyear', '2029-01-02');
    // A reschedule re-reads the closed days around the new deadline: Monday 5 April 2027.
    await france.dossiers.reschedule(moved, { dueDate: '2027-04-05' });

    const { rowsOnceSettled: franceRows, advanceTo } = dossierLives(
      () => france,
      () => env,
    );
    const { rowsOnceSettled: alsaceRows } = dossierLives(
      () => alsace,
      () => env,
    );

    // The plan shows where each moved reminder comes from, before it fires.
    const plan = await france.dossiers.plan(easter);
    assert.deepEqual(
      plan.pending.filter((r) => r.type === 'deadline_reminder').map((r) => [r.kind, r.at, r.movedFrom]),
      [
        ['j-7', '2027-03-23T07:00:00.000Z', undefined],
        ['j-1', '2027-03-26T07:00:00.000Z', { date: '2027-03-29', reason: 'Lundi de Pâques' }],
        ['j-0', '2027-03-30T06:00:00.000Z', undefined],
      ],
    );

    await advanceTo('2027-04-07T12:00:00Z');
    const easterRows = await franceRows(easter, 6);
    assert.deepEqual(reminders(easterRows), [
      'j-7 2027-03-23T07:00:00.000Z',
      'j-1 2027-03-26T07:00:00.000Z',
      'j-0 2027-03-30T06:00:00.000Z',
    ]);
    // Its words count from Friday: four days, not "tomorrow".
    assert.equal(
      easterRows.find((row) => row.kind === 'j-1')!.title,
      'Échéance dans 4 jours : Liasse easter',
    );
    assert.ok(
      (await timerSummaries(france, easter)).some((summary) =>
        summary.endsWith('at 2027-03-26 08:00 Europe/Paris (moved from Monday 2027-03-29, Lundi de Pâques)'),
      ),
    );
    // With RECORD_HISTORIES=1: a run that moved reminders, for the replay test.
    await france.recordHistory(easter, 'business-days-easter');
    // The overdue alert keeps its instant: Tuesday's midnight, in summer time.
    assert.equal(
      easterRows.find((row) => row.kind === 'overdue')!.scheduled_for?.toISOString(),
      '2027-03-30T22:00:00.000Z',
    );

    // Rescheduled to Monday 5 April: j-7 avoids Easter Monday, j-1 avoids Sunday.
    const movedRows = await franceRows(moved, 6);
    assert.deepEqual(kinds(movedRows).slice(0, 2), ['dossier_update/created', 'dossier_update/rescheduled']);
    assert.deepEqual(reminders(movedRows), [
      'j-7 2027-03-26T07:00:00.000Z',
      'j-1 2027-04-02T06:00:00.000Z',
      'j-0 2027-04-05T06:00:00.000Z',
    ]);

    await advanceTo('2029-01-02T12:00:00Z');
    // 26 December 2028 is a Tuesday: a working day in France, closed in Alsace (j-1 goes back
    // over the weekend and Christmas to Friday 22).
    assert.deepEqual(reminders(await franceRows(christmas, 6)), [
      'j-7 2028-12-20T07:00:00.000Z',
      'j-1 2028-12-26T07:00:00.000Z',
      'j-0 2028-12-27T07:00:00.000Z',
    ]);
    const alsaceReminders = await alsaceRows(christmasAlsace, 6);
    assert.deepEqual(reminders(alsaceReminders), [
      'j-7 2028-12-20T07:00:00.000Z',
      'j-1 2028-12-22T07:00:00.000Z',
      'j-0 2028-12-27T07:00:00.000Z',
    ]);
    // A deadline on 2 January: j-1 on New Year's Day comes on Friday 29 December.
    assert.deepEqual(reminders(await franceRows(newYear, 4)), [
      'j-7 2028-12-26T07:00:00.000Z',
      'j-1 2028-12-29T07:00:00.000Z',
      'j-0 2029-01-02T07:00:00.000Z',
    ]);
  });

  it("follows a user's own calendar and reminder time, and re-plans their open dossiers when they change", async () => {
    // Thursday 27 December 2029: its j-1 (Wednesday 26) is a working day in France.
    const id = await create(france, 'own', '2029-12-27');
    const ownerId = 'owner-own';
    const pendingReminders = async () =>
      (await france.dossiers.plan(id)).pending
        .filter((r) => r.type === 'deadline_reminder')
        .map(
          (r) => `${r.kind} ${r.at}${r.movedFrom ? ` from ${r.movedFrom.date} ${r.movedFrom.reason}` : ''}`,
        );
    assert.deepEqual(await pendingReminders(), [
      'j-7 2029-12-20T07:00:00.000Z',
      'j-1 2029-12-26T07:00:00.000Z',
      'j-0 2029-12-27T07:00:00.000Z',
    ]);

    // The owner works in Strasbourg, at 09:30: 26 December is closed there.
    await france.dossiers.updateUserProfile(ownerId, {
      businessCalendar: { country: 'FR', region: '67' },
      reminderTime: '09:30',
    });
    const alsatian = [
      'j-7 2029-12-20T08:30:00.000Z',
      'j-1 2029-12-24T08:30:00.000Z from 2029-12-26 Lendemain de Noël',
      'j-0 2029-12-27T08:30:00.000Z',
    ];
    await waitFor('the dossier re-planned in Alsace at 09:30', async () =>
      JSON.stringify(await pendingReminders()) === JSON.stringify(alsatian) ? true : undefined,
    );

    // Business days off for this user, back to the service's time: every reminder on its own day.
    await france.dossiers.updateUserProfile(ownerId, { businessCalendar: 'off', reminderTime: null });
    const own = [
      'j-7 2029-12-20T07:00:00.000Z',
      'j-1 2029-12-26T07:00:00.000Z',
      'j-0 2029-12-27T07:00:00.000Z',
    ];
    await waitFor('the dossier re-planned without business days', async () =>
      JSON.stringify(await pendingReminders()) === JSON.stringify(own) ? true : undefined,
    );
    // And the reminders come as planned, at 08:00 on their own days.
    const { rowsOnceSettled, advanceTo } = dossierLives(
      () => france,
      () => env,
    );
    await advanceTo('2029-12-27T12:00:00Z');
    assert.deepEqual(reminders(await rowsOnceSettled(id, 4)), [
      'j-7 2029-12-20T07:00:00.000Z',
      'j-1 2029-12-26T07:00:00.000Z',
      'j-0 2029-12-27T07:00:00.000Z',
    ]);
  });
});
