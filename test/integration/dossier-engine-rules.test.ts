import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPeriodicJobActivities } from '../../activities/periodic-job-activities.js';
import { loadConfig } from '../../config/config.js';
import {
  dossierWorkflowId,
  upsertDossierSignal,
  type DossierWorkflowInput,
} from '../../workflows/dossier-messages.js';
import { DOSSIER_WORKFLOW_TYPE, DossierNotReadyError } from '../../client/dossier-client.js';
import { kinds, local, localDate, plusDays, uniqueId } from '../support/dossier-lives.js';
import { useDossierWorkflows } from '../support/dossier-workflows.js';
import { waitFor } from '../support/wait.js';
import { inActivity } from '../support/activity-context.js';

/**
 * The engine's rules where events, reminders and failures meet, each on the
 * time-skipping server with the real worker, activities and PostgreSQL. Events queued while the
 * workers are down are in test/integration/engine-queue.test.ts (the dev server: the time-skipping
 * one does not move its clock while a workflow task waits for a worker).
 */

const { stack, rowsOnceSettled, endOf, newId, endAfterTest } = useDossierWorkflows();

/** A due date `days` ahead of the test server's clock, in Paris. */
const dueIn = async (days: number): Promise<string> =>
  localDate(await stack.env.currentTimeMs())
    .plus({ days })
    .toISODate()!;
const userOf = (rows: Array<{ user_id: string; kind: string }>, kind: string) =>
  rows.filter((row) => row.kind === kind).map((row) => row.user_id);

describe('dossier engine: events, reminders and failures meeting (time-skipping, real worker and PostgreSQL)', () => {
  it("moves every open dossier of an owner to their new zone, from a dossier call or the user's profile", async () => {
    const [d5, d6] = [newId('zone-d5'), newId('zone-d6')];
    const due = await dueIn(10);
    const owner = uniqueId('owner');
    await stack.engine.dossiers.create({ id: d5, title: 'D5', ownerId: owner, dueDate: due });
    await stack.engine.dossiers.create({ id: d6, title: 'D6', ownerId: owner, dueDate: due });
    await rowsOnceSettled(d5, 1);
    await rowsOnceSettled(d6, 1);
    // An update of D5 that carries the owner's new zone and changes nothing else.
    await stack.engine.dossiers.update({
      id: d5,
      title: 'D5',
      ownerId: owner,
      dueDate: due,
      owner: { timezone: 'America/Montreal' },
    });
    const j0In = async (id: string, zone: string) =>
      waitFor(`${id} planned in ${zone}`, async () => {
        const plan = await stack.engine.dossiers.plan(id);
        return plan.timeZone === zone && plan.pending.find((reminder) => reminder.kind === 'j-0');
      });
    assert.equal((await j0In(d6, 'America/Montreal')).at, local(due, '08:00', 'America/Montreal'));
    assert.equal((await j0In(d5, 'America/Montreal')).at, local(due, '08:00', 'America/Montreal'));
    // A profile change with no dossier call.
    await stack.engine.dossiers.updateUserProfile(owner, { timezone: 'Asia/Tokyo' });
    assert.equal((await j0In(d5, 'Asia/Tokyo')).at, local(due, '08:00', 'Asia/Tokyo'));
    assert.equal((await j0In(d6, 'Asia/Tokyo')).at, local(due, '08:00', 'Asia/Tokyo'));
    // Changing a zone is not news to the owner: no notice beyond the creations.
    assert.deepEqual(kinds(await stack.engine.notificationsOf(d5)), ['dossier_update/created']);
    assert.deepEqual(kinds(await stack.engine.notificationsOf(d6)), ['dossier_update/created']);
    await stack.engine.recordHistory(d6, 'owner-zone-changed');
  });

  it('creates a new dossier whose urgent mark reached its workflow before the create', async () => {
    const id = newId('urgent-first');
    const due = await dueIn(10);
    await stack.engine.stopWorker();
    await stack.engine.dossiers.markUrgent(id); // starts the workflow
    await stack.engine.dossiers.create({ id, title: 'Urgent first', ownerId: 'alice', dueDate: due });
    await stack.engine.startWorker();
    const rows = await rowsOnceSettled(id, 2);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'new_alert/urgent']);
    assert.equal((await stack.engine.dossiers.plan(id)).dossier.urgent, true);
    await stack.engine.recordHistory(id, 'urgent-before-create');
  });

  it('applies calls that reached a run before its first task in the order they were made', async () => {
    const id = newId('arrival-order');
    const due = await dueIn(10);
    await stack.engine.stopWorker();
    await stack.engine.dossiers.create({ id, title: 'Order', ownerId: 'alice', dueDate: due });
    await stack.engine.dossiers.assign(id, 'bob');
    await stack.engine.dossiers.update({ id, title: 'Order, renamed', ownerId: 'alice', dueDate: due });
    await stack.engine.startWorker();
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(
      rows.map((row) => `${row.user_id} ${row.kind}`),
      ['alice created', 'bob assigned', 'alice assigned'],
    );
    assert.equal((await stack.engine.dossiers.plan(id)).dossier.ownerId, 'alice');
  });

  it('holds a call that came minutes before the create, then applies it', async () => {
    const id = newId('assign-first');
    const due = await dueIn(10);
    await stack.engine.dossiers.assign(id, 'bob');
    await stack.env.sleep(10 * 60 * 1000);
    await stack.engine.dossiers.create({ id, title: 'Assign first', ownerId: 'alice', dueDate: due });
    const rows = await rowsOnceSettled(id, 2);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'dossier_update/assigned']);
    assert.equal((await stack.engine.dossiers.plan(id)).dossier.ownerId, 'bob');
  });

  it('alerts the new owner of an urgent dossier, once', async () => {
    const id = newId('urgent-assign');
    const due = await dueIn(10);
    await stack.engine.dossiers.create({ id, title: 'Urgent', ownerId: 'alice', dueDate: due, urgent: true });
    await stack.engine.dossiers.assign(id, 'bob');
    await stack.engine.dossiers.assign(id, 'alice'); // alice had hers for this urgent period
    const rows = await rowsOnceSettled(id, 5);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'new_alert/urgent',
      'dossier_update/assigned',
      'new_alert/urgent',
      'dossier_update/assigned',
    ]);
    assert.deepEqual(userOf(rows, 'urgent'), ['alice', 'bob']);
    await stack.engine.recordHistory(id, 'urgent-reassigned');
  });

  it('stores silently an event that changes nothing the owner sees', async () => {
    const id = newId('silent');
    const due = await dueIn(10);
    const dossier = { id, title: 'Silent', ownerId: 'alice', dueDate: due };
    await stack.engine.dossiers.create(dossier);
    await stack.engine.dossiers.update({ ...dossier, owner: { name: 'Alice Martin', locale: 'en' } });
    await stack.engine.dossiers.assign(id, 'alice', { name: 'Alice M.' });
    await stack.engine.dossiers.update({ ...dossier, title: 'Silent, renamed' });
    const rows = await rowsOnceSettled(id, 2);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'dossier_update/updated']);
    const [user] = await stack.engine.db.query<{ name: string; locale: string }>(
      "select name, locale from users where id = 'alice'",
    );
    assert.deepEqual(user, { name: 'Alice M.', locale: 'en' });
  });

  it("keeps NormX's urgent flag through later saves, and does not alert twice", async () => {
    const id = newId('db-flag');
    const due = await dueIn(10);
    await stack.engine.dossiers.create({ id, title: 'Flag', ownerId: 'alice', dueDate: due });
    await rowsOnceSettled(id, 1);
    await stack.engine.db.query('update dossiers set urgent = true where id = $1', [id]);
    // The hourly job's alert (its activity alone: the time-skipping server cannot list workflows).
    const periodic = createPeriodicJobActivities({
      orm: stack.engine.db.orm,
      temporal: { client: stack.engine.client, taskQueue: stack.engine.taskQueue },
      config: loadConfig({}),
    });
    await inActivity(periodic.alertUrgentDossiers, { at: new Date().toISOString() });
    await rowsOnceSettled(id, 2);
    await stack.engine.dossiers.reschedule(id, { dueDate: plusDays(due, 3) });
    await rowsOnceSettled(id, 3);
    const [row] = await stack.engine.db.query<{ urgent: boolean }>(
      'select urgent from dossiers where id = $1',
      [id],
    );
    assert.equal(row?.urgent, true, 'the reschedule kept the flag set in the database');
    await stack.engine.dossiers.markUrgent(id);
    await stack.engine.dossiers.update({
      id,
      title: 'Flag, renamed',
      ownerId: 'alice',
      dueDate: plusDays(due, 3),
    });
    const rows = await rowsOnceSettled(id, 4);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'new_alert/urgent',
      'dossier_update/rescheduled',
      'dossier_update/updated',
    ]);
    assert.equal((await stack.engine.dossiers.plan(id)).dossier.urgent, true);
  });

  it('keeps apart the updates of dossier A with event B:evt-1 and of dossier A:B with event evt-1', async () => {
    const a = newId('A');
    const abId = `${a}:B`;
    endAfterTest(abId);
    const due = await dueIn(10);
    await stack.engine.dossiers.create({ id: a, title: 'A', ownerId: 'alice', dueDate: due });
    await stack.engine.dossiers.update({
      id: a,
      title: 'A renamed',
      ownerId: 'alice',
      dueDate: due,
      eventId: 'B:evt-1',
    });
    await stack.engine.dossiers.create({ id: abId, title: 'A:B', ownerId: 'alice', dueDate: due });
    await stack.engine.dossiers.update({
      id: abId,
      title: 'A:B renamed',
      ownerId: 'alice',
      dueDate: due,
      eventId: 'evt-1',
    });
    assert.deepEqual(kinds(await rowsOnceSettled(a, 2)), [
      'dossier_update/created',
      'dossier_update/updated',
    ]);
    assert.deepEqual(kinds(await rowsOnceSettled(abId, 2)), [
      'dossier_update/created',
      'dossier_update/updated',
    ]);
  });

  it("answers the client's plan right after a create, and names a dossier never created", async () => {
    for (let i = 0; i < 5; i += 1) {
      const id = newId(`plan-at-once-${i}`);
      const due = await dueIn(10);
      await stack.engine.dossiers.create({ id, title: 'At once', ownerId: 'alice', dueDate: due });
      assert.equal((await stack.engine.dossiers.plan(id)).dossier.id, id);
    }
    const unknown = uniqueId('never-created');
    await stack.engine.dossiers.complete(unknown); // a run that waits for a create
    await assert.rejects(stack.engine.dossiers.plan(unknown, { waitMs: 300 }), DossierNotReadyError);
  });

  it('gives a dueAt at local midnight its j-0 on the day before', async () => {
    const id = newId('midnight');
    const due = await dueIn(3);
    const dueAt = local(plusDays(due, 1), '00:00');
    await stack.engine.dossiers.create({ id, title: 'Midnight', ownerId: 'alice', dueAt });
    await rowsOnceSettled(id, 1);
    const plan = await stack.engine.dossiers.plan(id);
    assert.deepEqual(
      plan.pending.map((reminder) => [reminder.kind, reminder.at]),
      [
        ['j-1', local(plusDays(due, -1), '08:00')],
        ['j-0', local(due, '08:00')],
        ['overdue', dueAt],
        ['overdue_critical', local(plusDays(due, 4), '00:00')],
      ],
    );
  });

  it('records data the database refuses as rejected and goes on serving the dossier', async () => {
    const id = newId('refused');
    const due = await dueIn(10);
    await stack.engine.dossiers.create({ id, title: 'Refused', ownerId: 'alice', dueDate: due });
    await rowsOnceSettled(id, 1);
    // A NUL in the title: the API refuses it, so it is signalled as a buggy caller would.
    await stack.engine.client.workflow.signalWithStart(DOSSIER_WORKFLOW_TYPE, {
      workflowId: dossierWorkflowId(id),
      taskQueue: stack.engine.taskQueue,
      args: [{ dossierId: id } satisfies DossierWorkflowInput],
      signal: upsertDossierSignal,
      signalArgs: [
        { eventId: 'nul', dossier: { id, title: 'Bad\u0000title', ownerId: 'alice', dueDate: due } },
      ],
    });
    const plan = await waitFor('the update recorded as rejected', async () => {
      const view = await stack.engine.dossiers.plan(id);
      return (view.rejected ?? []).length > 0 && view;
    });
    assert.equal(plan.rejected![0]!.what, 'upsert');
    assert.equal(plan.rejected![0]!.eventId, 'nul');
    assert.equal(plan.dossier.title, 'Refused');
    await stack.engine.dossiers.complete(id); // still served
    assert.equal((await endOf(id)).outcome, 'done');
    await stack.engine.recordHistory(id, 'refused-update');
    assert.deepEqual(kinds(await stack.engine.notificationsOf(id)), [
      'dossier_update/created',
      'dossier_update/completed',
    ]);
  });

  it('ends the run of a create the database refuses as rejected; a valid create then works', async () => {
    const id = newId('refused-create');
    const due = await dueIn(10);
    await stack.engine.client.workflow.signalWithStart(DOSSIER_WORKFLOW_TYPE, {
      workflowId: dossierWorkflowId(id),
      taskQueue: stack.engine.taskQueue,
      args: [{ dossierId: id } satisfies DossierWorkflowInput],
      signal: upsertDossierSignal,
      signalArgs: [{ eventId: 'nul', dossier: { id, title: 'Bad\u0000', ownerId: 'alice', dueDate: due } }],
    });
    assert.equal((await endOf(id)).outcome, 'rejected');
    await stack.engine.dossiers.create({ id, title: 'Good', ownerId: 'alice', dueDate: due });
    assert.deepEqual(kinds(await rowsOnceSettled(id, 1)), ['dossier_update/created']);
  });
});
