import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { DAY, kinds, local, localDate } from '../support/dossier-lives.js';
import { reminderInstants, useDossierWorkflows } from '../support/dossier-workflows.js';

/**
 * A dossier's owner and calls on the time-skipping test server, with the real worker, activities
 * and PostgreSQL: planned in the owner's own zone, moved to a new owner, a completed dossier
 * updated without reopening, a retried call stored once.
 */

const { stack, rowsOnceSettled, advanceTo, endOf, newId, advance } = useDossierWorkflows();

describe('dossier workflow: owners, updates and retries (time-skipping server, real activities and PostgreSQL)', () => {
  it("plans in the owner's own zone", async () => {
    const id = newId('tz');
    const zone = 'America/New_York';
    const now = await stack.env.currentTimeMs();
    const due = localDate(now, zone).plus({ days: 2 }).toISODate()!;
    await stack.engine.dossiers.create({
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
    await stack.engine.dossiers.complete(id);
  });

  it('moves future reminders to the new owner when reassigned', async () => {
    const id = newId('assign');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 3 })
      .toISODate()!;
    await stack.engine.dossiers.create({ id, title: 'Révision', ownerId: 'alice', dueDate: due });
    await stack.engine.dossiers.assign(id, 'bob');
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
    await stack.engine.dossiers.cancel(id);
  });

  it('updates a completed dossier without reopening it', async () => {
    const id = newId('update-done');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 2 })
      .toISODate()!;
    await stack.engine.dossiers.create({ id, title: 'Avant', ownerId: 'alice', dueDate: due });
    await stack.engine.dossiers.complete(id);
    assert.equal((await endOf(id)).outcome, 'done');
    await stack.engine.dossiers.update({ id, title: 'Après', ownerId: 'alice', dueDate: due }); // a new run
    assert.equal((await endOf(id)).outcome, 'done');
    await advanceTo(local(DateTime.fromISO(due).plus({ days: 1 }).toISODate()!, '12:00'));
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'dossier_update/completed',
      'dossier_update/updated',
    ]);
    assert.match(rows[2]!.title, /Après/);
    const [stored] = await stack.engine.db.query<{ title: string; status: string }>(
      'select title, status from dossiers where id = $1',
      [id],
    );
    assert.deepEqual(stored, { title: 'Après', status: 'done' });
  });

  it('stores a retried call once: the same eventId gives one notification', async () => {
    const id = newId('retry');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 30 })
      .toISODate()!;
    const first = await stack.engine.dossiers.create({ id, title: 'Retry', ownerId: 'alice', dueDate: due });
    await stack.engine.dossiers.create({
      id,
      title: 'Retry',
      ownerId: 'alice',
      dueDate: due,
      eventId: first.eventId,
    });
    await stack.engine.dossiers.reschedule(id, { dueDate: due }); // same date: no change, no notification
    await stack.engine.dossiers.complete(id, { eventId: 'done-1' });
    await endOf(id);
    await stack.engine.dossiers.complete(id, { eventId: 'done-1' }); // a retry after the run ended
    await endOf(id);
    const rows = await stack.engine.notificationsOf(id);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'dossier_update/completed']);
  });
});
