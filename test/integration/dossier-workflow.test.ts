import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import type { ReminderPlanView } from '../../workflows/dossier-messages.js';
import { DAY, dossierLives, kinds, local, localDate, PARIS, uniqueId } from '../support/dossier-lives.js';
import {
  startReminderEngine,
  type NotificationRow,
  type ReminderEngine,
} from '../support/reminder-engine.js';
import { createTimeSkippingEnv } from '../support/temporal.js';

/**
 * A dossier's whole life on the time-skipping test server, with the real worker, activities and
 * PostgreSQL. Expected instants are written out from the rules (docs/reminders.md) here, independently of the
 * planner: 08:00 in the owner's zone for j-N, next local midnight for overdue, +3 local days.
 */

let env: TestWorkflowEnvironment;
let engine: ReminderEngine;
const { rowsOnceSettled, advanceTo, endOf } = dossierLives(
  () => engine,
  () => env,
);

before(async () => {
  env = await createTimeSkippingEnv();
  engine = await startReminderEngine(env);
});
// The clock is global to the test server: a workflow left running by a failed test would have
// its timers fire, and move time, while a later test waits. Each test's workflows are ended
// through the API (terminating one with a task in flight stalls the test server's clock).
const startedDossiers: string[] = [];
afterEach(async () => {
  for (const id of startedDossiers.splice(0)) {
    await engine.dossiers.cancel(id);
    await endOf(id);
  }
});

after(async () => {
  await engine?.close();
  await env?.teardown();
});

const newId = (label: string): string => {
  const id = uniqueId(label);
  startedDossiers.push(id);
  return id;
};
const reminderInstants = (rows: NotificationRow[]) =>
  rows
    .filter((row) => row.type !== 'dossier_update')
    .map((row) => [row.kind, row.scheduled_for?.toISOString()]);

async function planOf(dossierId: string): Promise<ReminderPlanView> {
  return engine.dossiers.plan(dossierId);
}

/** Each sent reminder fired at its instant on the workflow clock, not in a late burst. */
function assertFiredOnTime(plan: ReminderPlanView): void {
  for (const sent of plan.sent) {
    const lateness = Date.parse(sent.sentAt) - Date.parse(sent.dueInstant);
    assert.ok(
      lateness >= 0 && lateness < 60_000,
      `${sent.kind} fired ${lateness} ms after ${sent.dueInstant}`,
    );
  }
}

async function advance(ms: number): Promise<void> {
  await env.sleep(ms);
}

describe('dossier workflow (time-skipping server, real activities and PostgreSQL)', () => {
  it('lives a whole life: created, j-7, j-1, j-0, overdue, overdue_critical at their instants', async () => {
    const id = newId('life');
    const due = localDate(await env.currentTimeMs())
      .plus({ days: 10 })
      .toISODate()!;
    await engine.dossiers.create({ id, title: 'Bilan 2026 SARL Dupont', ownerId: 'alice', dueDate: due });
    await advance(16 * DAY);

    const rows = await rowsOnceSettled(id, 6);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'deadline_reminder/j-7',
      'deadline_reminder/j-1',
      'deadline_reminder/j-0',
      'new_alert/overdue',
      'new_alert/overdue_critical',
    ]);
    const dueDay = DateTime.fromISO(due);
    assert.deepEqual(reminderInstants(rows), [
      ['j-7', local(dueDay.minus({ days: 7 }).toISODate()!, '08:00')],
      ['j-1', local(dueDay.minus({ days: 1 }).toISODate()!, '08:00')],
      ['j-0', local(due, '08:00')],
      ['overdue', local(dueDay.plus({ days: 1 }).toISODate()!, '00:00')],
      ['overdue_critical', local(dueDay.plus({ days: 4 }).toISODate()!, '00:00')],
    ]);
    assert.ok(rows.every((row) => row.user_id === 'alice'));
    assert.match(rows[1]!.title, /Bilan 2026 SARL Dupont/);
    const plan = await planOf(id);
    assert.equal(plan.pending.length, 0);
    assert.equal(plan.sent.length, 5);
    assertFiredOnTime(plan);

    await engine.dossiers.complete(id);
    assert.deepEqual(await endOf(id), { dossierId: id, outcome: 'done' });
    await engine.recordHistory(id, 'whole-life');
  });

  it('re-plans from a later date when rescheduled midway', async () => {
    const id = newId('later');
    const start = await env.currentTimeMs();
    const due = localDate(start).plus({ days: 10 }).toISODate()!;
    await engine.dossiers.create({ id, title: 'TVA T3', ownerId: 'alice', dueDate: due });
    await advance(4 * DAY); // past j-7 (due - 7 days, 08:00)
    await rowsOnceSettled(id, 2);

    const later = DateTime.fromISO(due).plus({ days: 10 }).toISODate()!;
    await engine.dossiers.reschedule(id, { dueDate: later });
    await rowsOnceSettled(id, 3);
    const laterDay = DateTime.fromISO(later);
    // Past the old j-1, j-0 and overdue, and the new j-7 and j-1.
    await advanceTo(local(laterDay.minus({ days: 1 }).toISODate()!, '12:00'));
    const rows = await rowsOnceSettled(id, 5);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'deadline_reminder/j-7',
      'dossier_update/rescheduled',
      'deadline_reminder/j-7',
      'deadline_reminder/j-1',
    ]);
    assert.deepEqual(reminderInstants(rows).slice(1), [
      ['j-7', local(laterDay.minus({ days: 7 }).toISODate()!, '08:00')],
      ['j-1', local(laterDay.minus({ days: 1 }).toISODate()!, '08:00')],
    ]);
    assert.deepEqual(
      (await planOf(id)).pending.map((reminder) => [reminder.kind, reminder.at]),
      [
        ['j-0', local(later, '08:00')],
        ['overdue', local(laterDay.plus({ days: 1 }).toISODate()!, '00:00')],
        ['overdue_critical', local(laterDay.plus({ days: 4 }).toISODate()!, '00:00')],
      ],
    );
    await engine.dossiers.cancel(id);
    await endOf(id);
    await engine.recordHistory(id, 'rescheduled-later');
  });

  it('re-plans from an earlier date, skipping what is already past', async () => {
    const id = newId('earlier');
    const start = await env.currentTimeMs();
    const due = localDate(start).plus({ days: 20 }).toISODate()!;
    await engine.dossiers.create({ id, title: 'Liasse fiscale', ownerId: 'alice', dueDate: due });
    const earlier = localDate(start).plus({ days: 3 }).toISODate()!;
    await engine.dossiers.reschedule(id, { dueDate: earlier });
    await rowsOnceSettled(id, 2);
    await advance(5 * DAY);
    const rows = await rowsOnceSettled(id, 5);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'dossier_update/rescheduled',
      'deadline_reminder/j-1',
      'deadline_reminder/j-0',
      'new_alert/overdue',
    ]);
    const earlierDay = DateTime.fromISO(earlier);
    assert.deepEqual(reminderInstants(rows), [
      ['j-1', local(earlierDay.minus({ days: 1 }).toISODate()!, '08:00')],
      ['j-0', local(earlier, '08:00')],
      ['overdue', local(earlierDay.plus({ days: 1 }).toISODate()!, '00:00')],
    ]);
    assertFiredOnTime(await planOf(id));
    await engine.dossiers.cancel(id);
  });

  it('sends nothing more once completed, and re-arms future reminders when reopened', async () => {
    const id = newId('reopen');
    const start = await env.currentTimeMs();
    const due = localDate(start).plus({ days: 10 }).toISODate()!;
    const dueDay = DateTime.fromISO(due);
    await engine.dossiers.create({ id, title: 'Paie novembre', ownerId: 'alice', dueDate: due });
    await advanceTo(local(dueDay.minus({ days: 6 }).toISODate()!, '12:00'));
    await rowsOnceSettled(id, 2); // created, j-7
    await engine.dossiers.complete(id);
    assert.equal((await endOf(id)).outcome, 'done');
    await advanceTo(local(dueDay.minus({ days: 1 }).toISODate()!, '12:00')); // j-1 would have fired here
    const whileDone = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(whileDone).slice(2), ['dossier_update/completed']);

    await engine.dossiers.reopen(id); // a new run, from the database copy
    await rowsOnceSettled(id, 4);
    await advanceTo(local(dueDay.plus({ days: 1 }).toISODate()!, '12:00'));
    const rows = await rowsOnceSettled(id, 6);
    assert.deepEqual(kinds(rows).slice(3), [
      'dossier_update/reopened',
      'deadline_reminder/j-0',
      'new_alert/overdue',
    ]);
    assert.deepEqual(reminderInstants(rows).slice(1), [
      ['j-0', local(due, '08:00')],
      ['overdue', local(dueDay.plus({ days: 1 }).toISODate()!, '00:00')],
    ]);
    assertFiredOnTime(await planOf(id));
    await engine.dossiers.cancel(id);
    await endOf(id);
    await engine.recordHistory(id, 'reopened');
  });

  it('alerts at once when marked urgent, once per marking', async () => {
    const id = newId('urgent');
    const due = localDate(await env.currentTimeMs())
      .plus({ days: 30 })
      .toISODate()!;
    await engine.dossiers.create({
      id,
      title: 'Contrôle URSSAF',
      ownerId: 'bob',
      dueDate: due,
      urgent: true,
    });
    await rowsOnceSettled(id, 2);
    await engine.dossiers.markUrgent(id); // already urgent: nothing new
    await engine.dossiers.unmarkUrgent(id);
    await engine.dossiers.markUrgent(id);
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'new_alert/urgent', 'new_alert/urgent']);
    const plan = await planOf(id);
    assert.equal(plan.dossier.urgent, true);
    const [stored] = await engine.db.query<{ urgent: boolean; urgent_since: Date }>(
      'select urgent, urgent_since from dossiers where id = $1',
      [id],
    );
    assert.equal(stored?.urgent, true);
    assert.equal(stored?.urgent_since.toISOString(), plan.dossier.urgentSince);
    await engine.dossiers.cancel(id);
    await endOf(id);
    await engine.recordHistory(id, 'urgent');
  });

  it('alerts a dossier created 5 days late once, at once: overdue then overdue_critical', async () => {
    const id = newId('late');
    const now = await env.currentTimeMs();
    const due = localDate(now).minus({ days: 5 }).toISODate()!;
    await engine.dossiers.create({ id, title: 'CFE', ownerId: 'alice', dueDate: due });
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'new_alert/overdue',
      'new_alert/overdue_critical',
    ]);
    const plan = await planOf(id);
    for (const sent of plan.sent)
      assert.ok(Date.parse(sent.sentAt) - now < 60_000, `${sent.kind} sent at once`);
    await advance(10 * DAY);
    await rowsOnceSettled(id, 3); // nothing more, ever
    await engine.dossiers.complete(id);
    await endOf(id);
    await engine.recordHistory(id, 'created-late');
  });

  it('skips j-7 for a dossier created 3 days before its due date', async () => {
    const id = newId('short');
    const now = await env.currentTimeMs();
    const due = localDate(now).plus({ days: 3 }).toISODate()!;
    await engine.dossiers.create({ id, title: 'DSN', ownerId: 'alice', dueDate: due });
    await advance(5 * DAY);
    const rows = await rowsOnceSettled(id, 4);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'deadline_reminder/j-1',
      'deadline_reminder/j-0',
      'new_alert/overdue',
    ]);
    await engine.dossiers.complete(id);
  });

  for (const [season, month] of [
    ['spring', 3],
    ['autumn', 10],
  ] as const) {
    it(`fires at 08:00 Paris time around the ${season} DST change (last Sunday of the month)`, async () => {
      const id = newId(`dst-${season}`);
      const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: PARIS });
      const due = nextLastSundayOf(month, now.plus({ days: 8 })).toISODate()!;
      await engine.dossiers.create({ id, title: `DST ${season}`, ownerId: 'alice', dueDate: due });
      const dueDay = DateTime.fromISO(due, { zone: PARIS });
      await advance(dueDay.plus({ days: 2 }).toMillis() - now.toMillis());
      const rows = await rowsOnceSettled(id, 5);
      const instants = reminderInstants(rows);
      assert.deepEqual(instants, [
        ['j-7', local(dueDay.minus({ days: 7 }).toISODate()!, '08:00')],
        ['j-1', local(dueDay.minus({ days: 1 }).toISODate()!, '08:00')],
        ['j-0', local(due, '08:00')],
        ['overdue', local(dueDay.plus({ days: 1 }).toISODate()!, '00:00')],
      ]);
      // The UTC hour moves with the change: the local hour does not.
      const utcHours = instants.slice(0, 3).map(([, at]) => new Date(at!).getUTCHours());
      assert.deepEqual(utcHours, season === 'spring' ? [7, 7, 6] : [6, 6, 7]);
      await engine.dossiers.complete(id);
      await endOf(id);
      if (season === 'spring') await engine.recordHistory(id, 'dst-spring');
    });
  }

  it("plans in the owner's own zone", async () => {
    const id = newId('tz');
    const zone = 'America/New_York';
    const now = await env.currentTimeMs();
    const due = localDate(now, zone).plus({ days: 2 }).toISODate()!;
    await engine.dossiers.create({
      id,
      title: 'Filiale US',
      ownerId: 'carol',
      dueDate: due,
      owner: { name: 'Carol', locale: 'en', timezone: zone },
    });
    await advance(4 * DAY);
    const rows = await rowsOnceSettled(id, 4);
    assert.deepEqual(reminderInstants(rows), [
      ['j-1', local(DateTime.fromISO(due).minus({ days: 1 }).toISODate()!, '08:00', zone)],
      ['j-0', local(due, '08:00', zone)],
      ['overdue', local(DateTime.fromISO(due).plus({ days: 1 }).toISODate()!, '00:00', zone)],
    ]);
    assert.equal(rows[1]!.title, 'Due tomorrow: Filiale US'); // the owner's language
    await engine.dossiers.complete(id);
  });

  it('moves future reminders to the new owner when reassigned', async () => {
    const id = newId('assign');
    const due = localDate(await env.currentTimeMs())
      .plus({ days: 3 })
      .toISODate()!;
    await engine.dossiers.create({ id, title: 'Révision', ownerId: 'alice', dueDate: due });
    await engine.dossiers.assign(id, 'bob');
    await advanceTo(local(due, '12:00'));
    const rows = await rowsOnceSettled(id, 4);
    assert.deepEqual(
      rows.map((row) => [row.kind, row.user_id]),
      [
        ['created', 'alice'],
        ['assigned', 'bob'],
        ['j-1', 'bob'],
        ['j-0', 'bob'],
      ],
    );
    await engine.dossiers.cancel(id);
  });

  it('updates a completed dossier without reopening it', async () => {
    const id = newId('update-done');
    const due = localDate(await env.currentTimeMs())
      .plus({ days: 2 })
      .toISODate()!;
    await engine.dossiers.create({ id, title: 'Avant', ownerId: 'alice', dueDate: due });
    await engine.dossiers.complete(id);
    assert.equal((await endOf(id)).outcome, 'done');
    await engine.dossiers.update({ id, title: 'Après', ownerId: 'alice', dueDate: due }); // a new run
    assert.equal((await endOf(id)).outcome, 'done');
    await advanceTo(local(DateTime.fromISO(due).plus({ days: 1 }).toISODate()!, '12:00'));
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'dossier_update/completed',
      'dossier_update/updated',
    ]);
    assert.match(rows[2]!.title, /Après/);
    const [stored] = await engine.db.query<{ title: string; status: string }>(
      'select title, status from dossiers where id = $1',
      [id],
    );
    assert.deepEqual(stored, { title: 'Après', status: 'done' });
  });

  it('stores a retried call once: the same eventId gives one notification', async () => {
    const id = newId('retry');
    const due = localDate(await env.currentTimeMs())
      .plus({ days: 30 })
      .toISODate()!;
    const first = await engine.dossiers.create({ id, title: 'Retry', ownerId: 'alice', dueDate: due });
    await engine.dossiers.create({
      id,
      title: 'Retry',
      ownerId: 'alice',
      dueDate: due,
      eventId: first.eventId,
    });
    await engine.dossiers.reschedule(id, { dueDate: due }); // same date: no change, no notification
    await engine.dossiers.complete(id, { eventId: 'done-1' });
    await endOf(id);
    await engine.dossiers.complete(id, { eventId: 'done-1' }); // a retry after the run ended
    await endOf(id);
    const rows = await engine.notificationsOf(id);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'dossier_update/completed']);
  });
});

function nextLastSundayOf(month: number, notBefore: DateTime): DateTime {
  for (let year = notBefore.year; ; year += 1) {
    const end = DateTime.fromObject({ year, month }, { zone: PARIS }).endOf('month').startOf('day');
    const lastSunday = end.minus({ days: end.weekday % 7 });
    if (lastSunday >= notBefore.startOf('day')) return lastSunday;
  }
}
