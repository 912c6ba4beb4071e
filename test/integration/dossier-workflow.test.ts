import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { DAY, kinds, local, localDate, PARIS } from '../support/dossier-lives.js';
import { assertFiredOnTime, reminderInstants, useDossierWorkflows } from '../support/dossier-workflows.js';

/**
 * A dossier's whole life on the time-skipping test server, with the real worker, activities and
 * PostgreSQL. Expected instants are written out from the rules (docs/reminders.md) here, independently of the
 * planner: 08:00 in the owner's zone for j-N, next local midnight for overdue, +3 local days.
 * Owners, updates and retried calls: dossier-workflow-owners.test.ts.
 */

const { stack, rowsOnceSettled, advanceTo, endOf, newId, planOf, advance } = useDossierWorkflows();

describe('dossier workflow (time-skipping server, real activities and PostgreSQL)', () => {
  it('lives a whole life: created, j-7, j-1, j-0, overdue, overdue_critical at their instants', async () => {
    const id = newId('life');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 10 })
      .toISODate()!;
    await stack.engine.dossiers.create({
      id,
      title: 'Bilan 2026 SARL Dupont',
      ownerId: 'alice',
      dueDate: due,
    });
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

    await stack.engine.dossiers.complete(id);
    assert.deepEqual(await endOf(id), { dossierId: id, outcome: 'done' });
    await stack.engine.recordHistory(id, 'whole-life');
  });

  it('re-plans from a later date when rescheduled midway', async () => {
    const id = newId('later');
    const start = await stack.env.currentTimeMs();
    const due = localDate(start).plus({ days: 10 }).toISODate()!;
    await stack.engine.dossiers.create({ id, title: 'TVA T3', ownerId: 'alice', dueDate: due });
    await advance(4 * DAY); // past j-7 (due - 7 days, 08:00)
    await rowsOnceSettled(id, 2);

    const later = DateTime.fromISO(due).plus({ days: 10 }).toISODate()!;
    await stack.engine.dossiers.reschedule(id, { dueDate: later });
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
    await stack.engine.dossiers.cancel(id);
    await endOf(id);
    await stack.engine.recordHistory(id, 'rescheduled-later');
  });

  it('re-plans from an earlier date, skipping what is already past', async () => {
    const id = newId('earlier');
    const start = await stack.env.currentTimeMs();
    const due = localDate(start).plus({ days: 20 }).toISODate()!;
    await stack.engine.dossiers.create({ id, title: 'Liasse fiscale', ownerId: 'alice', dueDate: due });
    const earlier = localDate(start).plus({ days: 3 }).toISODate()!;
    await stack.engine.dossiers.reschedule(id, { dueDate: earlier });
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
    await stack.engine.dossiers.cancel(id);
  });

  it('sends nothing more once completed, and re-arms future reminders when reopened', async () => {
    const id = newId('reopen');
    const start = await stack.env.currentTimeMs();
    const due = localDate(start).plus({ days: 10 }).toISODate()!;
    const dueDay = DateTime.fromISO(due);
    await stack.engine.dossiers.create({ id, title: 'Paie novembre', ownerId: 'alice', dueDate: due });
    await advanceTo(local(dueDay.minus({ days: 6 }).toISODate()!, '12:00'));
    await rowsOnceSettled(id, 2); // created, j-7
    await stack.engine.dossiers.complete(id);
    assert.equal((await endOf(id)).outcome, 'done');
    await advanceTo(local(dueDay.minus({ days: 1 }).toISODate()!, '12:00')); // j-1 would have fired here
    const whileDone = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(whileDone).slice(2), ['dossier_update/completed']);

    await stack.engine.dossiers.reopen(id); // a new run, from the database copy
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
    await stack.engine.dossiers.cancel(id);
    await endOf(id);
    await stack.engine.recordHistory(id, 'reopened');
  });

  it('alerts at once when marked urgent, once per marking', async () => {
    const id = newId('urgent');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 30 })
      .toISODate()!;
    await stack.engine.dossiers.create({
      id,
      title: 'Contrôle URSSAF',
      ownerId: 'bob',
      dueDate: due,
      urgent: true,
    });
    await rowsOnceSettled(id, 2);
    await stack.engine.dossiers.markUrgent(id); // already urgent: nothing new
    await stack.engine.dossiers.unmarkUrgent(id);
    await stack.engine.dossiers.markUrgent(id);
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'new_alert/urgent', 'new_alert/urgent']);
    const plan = await planOf(id);
    assert.equal(plan.dossier.urgent, true);
    const [stored] = await stack.engine.db.query<{ urgent: boolean; urgent_since: Date }>(
      'select urgent, urgent_since from dossiers where id = $1',
      [id],
    );
    assert.equal(stored?.urgent, true);
    assert.equal(stored?.urgent_since.toISOString(), plan.dossier.urgentSince);
    await stack.engine.dossiers.cancel(id);
    await endOf(id);
    await stack.engine.recordHistory(id, 'urgent');
  });

  it('alerts a dossier created 5 days late once, at once: overdue then overdue_critical', async () => {
    const id = newId('late');
    const now = await stack.env.currentTimeMs();
    const due = localDate(now).minus({ days: 5 }).toISODate()!;
    await stack.engine.dossiers.create({ id, title: 'CFE', ownerId: 'alice', dueDate: due });
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
    await stack.engine.dossiers.complete(id);
    await endOf(id);
    await stack.engine.recordHistory(id, 'created-late');
  });

  it('skips j-7 for a dossier created 3 days before its due date', async () => {
    const id = newId('short');
    const now = await stack.env.currentTimeMs();
    const due = localDate(now).plus({ days: 3 }).toISODate()!;
    await stack.engine.dossiers.create({ id, title: 'DSN', ownerId: 'alice', dueDate: due });
    await advance(5 * DAY);
    const rows = await rowsOnceSettled(id, 4);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'deadline_reminder/j-1',
      'deadline_reminder/j-0',
      'new_alert/overdue',
    ]);
    await stack.engine.dossiers.complete(id);
  });

  for (const [season, month] of [
    ['spring', 3],
    ['autumn', 10],
  ] as const) {
    it(`fires at 08:00 Paris time around the ${season} DST change (last Sunday of the month)`, async () => {
      const id = newId(`dst-${season}`);
      const now = DateTime.fromMillis(await stack.env.currentTimeMs(), { zone: PARIS });
      const due = nextLastSundayOf(month, now.plus({ days: 8 })).toISODate()!;
      await stack.engine.dossiers.create({ id, title: `DST ${season}`, ownerId: 'alice', dueDate: due });
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
      await stack.engine.dossiers.complete(id);
      await endOf(id);
      if (season === 'spring') await stack.engine.recordHistory(id, 'dst-spring');
    });
  }
});

function nextLastSundayOf(month: number, notBefore: DateTime): DateTime {
  for (let year = notBefore.year; ; year += 1) {
    const end = DateTime.fromObject({ year, month }, { zone: PARIS }).endOf('month').startOf('day');
    const lastSunday = end.minus({ days: end.weekday % 7 });
    if (lastSunday >= notBefore.startOf('day')) return lastSunday;
  }
}
