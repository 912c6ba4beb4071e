import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { storeNotification } from '../../activities/notification-store.js';
import { urgentAlertKey } from '../../domain/idempotency-keys.js';
import type { TestDatabase } from '../support/database.js';
import {
  emptyPeriodicJobTables,
  openPeriodicJobTables,
  periodicJobRows,
  runActivity,
  type Activities,
} from '../support/periodic-jobs.js';

/**
 * The hourly urgent check (`alertUrgentDossiers`) on real PostgreSQL, in the SDK's mock activity
 * context: each urgent open dossier alerted once per `urgent_since` (stamped when missing), again
 * when it becomes urgent anew, its current owner alerted after a reassignment and the previous one
 * not again, and no second alert under the older key without the owner.
 */

let db: TestDatabase;
let activities: Activities;
before(async () => {
  ({ db, activities } = await openPeriodicJobTables());
});
after(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await emptyPeriodicJobTables(db);
});
const { insertUser, insertDossier, notifications, countNotifications, urgentSinceOf } = periodicJobRows(
  () => db,
);

describe('alertUrgentDossiers', () => {
  const at = '2027-01-15T08:00:00.000Z';

  it('alerts each urgent open dossier once per urgent_since, stamping a missing urgent_since', async () => {
    await insertUser('u1');
    // Flag set outside the API: no urgent_since yet.
    await insertDossier({
      id: 'urg-a-new',
      title: 'Bilan Durand',
      ownerId: 'u1',
      dueDate: '2027-03-28',
      urgent: true,
    });
    // Became urgent through the API, alert not stored yet (e.g. the workflow is behind).
    await insertDossier({
      id: 'urg-b-since',
      title: 'TVA janvier',
      ownerId: 'u1',
      dueAt: '2027-02-01T10:00:00Z',
      urgent: true,
      urgentSince: '2027-01-10T09:00:00Z',
    });
    // The workflow already stored this one's alert, under the same key.
    await insertDossier({
      id: 'urg-c-already',
      title: 'Liasse fiscale',
      ownerId: 'u1',
      dueDate: '2027-05-15',
      urgent: true,
      urgentSince: '2027-01-12T09:00:00Z',
    });
    const workflowAlert = await storeNotification(db.orm.em.fork(), {
      idempotencyKey: urgentAlertKey('urg-c-already', '2027-01-12T09:00:00Z', 'u1'),
      userId: 'u1',
      type: 'new_alert',
      kind: 'urgent',
      dossierId: 'urg-c-already',
      title: 'stored by the workflow',
      body: 'stored by the workflow',
      data: {},
      scheduledFor: null,
    });
    await insertDossier({
      id: 'urg-d-done',
      title: 'Clos',
      ownerId: 'u1',
      dueDate: '2027-01-01',
      urgent: true,
      status: 'done',
    });
    await insertDossier({ id: 'urg-e-plain', title: 'Normal', ownerId: 'u1', dueDate: '2027-01-20' });

    const { result, heartbeats } = await runActivity(activities.alertUrgentDossiers, { at });
    assert.deepEqual(result, { alerted: 2 });
    assert.ok(heartbeats >= 1, 'heartbeats while scanning');

    assert.equal(await urgentSinceOf('urg-a-new'), at, 'missing urgent_since stamped to `at`');
    assert.equal(
      await urgentSinceOf('urg-b-since'),
      '2027-01-10T09:00:00.000Z',
      'existing urgent_since kept',
    );
    assert.equal(await urgentSinceOf('urg-d-done'), null, 'a done dossier is left alone');

    const alerts = await notifications('new_alert');
    assert.deepEqual(alerts.map((row) => [row.dossier_id, row.kind, row.idempotency_key]).sort(), [
      ['urg-a-new', 'urgent', urgentAlertKey('urg-a-new', at, 'u1')],
      ['urg-b-since', 'urgent', urgentAlertKey('urg-b-since', '2027-01-10T09:00:00Z', 'u1')],
      ['urg-c-already', 'urgent', urgentAlertKey('urg-c-already', '2027-01-12T09:00:00Z', 'u1')],
    ]);
    assert.equal(urgentAlertKey('urg-a-new', at, 'u1'), `urgent:urg-a-new:${at}:u1`);

    const alertA = alerts.find((row) => row.dossier_id === 'urg-a-new')!;
    assert.equal(alertA.user_id, 'u1');
    assert.equal(alertA.title, 'Dossier urgent : Bilan Durand');
    assert.equal(alertA.body, 'Le dossier « Bilan Durand » est marqué urgent. Échéance : 28 mars 2027.');
    assert.deepEqual(alertA.data, { dossierTitle: 'Bilan Durand', dueDate: '2027-03-28', urgent: true });
    const alertB = alerts.find((row) => row.dossier_id === 'urg-b-since')!;
    assert.deepEqual(alertB.data, {
      dossierTitle: 'TVA janvier',
      dueAt: '2027-02-01T10:00:00.000Z',
      urgent: true,
    });

    const alertC = alerts.find((row) => row.dossier_id === 'urg-c-already')!;
    assert.deepEqual([alertC.id, alertC.title], [workflowAlert.id, 'stored by the workflow']);
    assert.equal(await countNotifications(), 3);

    // The next hourly run finds nothing new, and does not move urgent_since.
    const again = await runActivity(activities.alertUrgentDossiers, { at: '2027-01-15T09:00:00.000Z' });
    assert.deepEqual(again.result, { alerted: 0 });
    assert.equal(await countNotifications(), 3);
    assert.equal(await urgentSinceOf('urg-a-new'), at);
  });

  it('alerts again when a dossier becomes urgent anew (new urgent_since)', async () => {
    await insertUser('u2', { locale: 'en' });
    await insertDossier({
      id: 'urg-again',
      title: 'Payroll',
      ownerId: 'u2',
      dueDate: '2027-03-28',
      urgent: true,
      urgentSince: '2027-01-01T10:00:00Z',
    });
    assert.deepEqual((await runActivity(activities.alertUrgentDossiers, { at })).result, { alerted: 1 });
    // Unmarked then marked again outside the API: urgent_since cleared, then stamped by the next run.
    await db.query("update dossiers set urgent_since = null where id = 'urg-again'");
    const later = '2027-01-20T08:00:00.000Z';
    assert.deepEqual((await runActivity(activities.alertUrgentDossiers, { at: later })).result, {
      alerted: 1,
    });

    const alerts = await notifications('new_alert');
    assert.deepEqual(
      alerts.map((row) => row.idempotency_key),
      [urgentAlertKey('urg-again', '2027-01-01T10:00:00Z', 'u2'), urgentAlertKey('urg-again', later, 'u2')],
    );
    assert.equal(alerts[0]!.body, 'The dossier "Payroll" is marked urgent. Due: 28 March 2027.');
  });

  it('alerts the current owner of a reassigned urgent dossier once, and not the previous owner again', async () => {
    await insertUser('u1');
    await insertUser('u2');
    const since = '2027-01-10T09:00:00Z';
    await insertDossier({
      id: 'urg-moved',
      title: 'Bilan',
      ownerId: 'u1',
      dueDate: '2027-03-28',
      urgent: true,
      urgentSince: since,
    });
    assert.deepEqual((await runActivity(activities.alertUrgentDossiers, { at })).result, { alerted: 1 });
    // Reassigned while urgent (NormX writes the row; the workflow is behind).
    await db.query("update dossiers set owner_id = 'u2' where id = 'urg-moved'");
    assert.deepEqual((await runActivity(activities.alertUrgentDossiers, { at })).result, { alerted: 1 });
    assert.deepEqual((await runActivity(activities.alertUrgentDossiers, { at })).result, { alerted: 0 });
    // Back to the first owner, who had the alert for this urgency already.
    await db.query("update dossiers set owner_id = 'u1' where id = 'urg-moved'");
    assert.deepEqual((await runActivity(activities.alertUrgentDossiers, { at })).result, { alerted: 0 });

    const alerts = await notifications('new_alert');
    assert.deepEqual(
      alerts.map((row) => [row.user_id, row.idempotency_key]),
      [
        ['u1', urgentAlertKey('urg-moved', since, 'u1')],
        ['u2', urgentAlertKey('urg-moved', since, 'u2')],
      ],
    );
  });

  it('does not alert again an owner whose alert was stored under the key without the owner', async () => {
    await insertUser('u0');
    await insertUser('u1');
    /** An alert as stored before the owner joined the key: `urgent:<id>:<urgent_since>`. */
    const storeLegacyAlert = async (dossierId: string, userId: string, since: string, createdAt: string) => {
      await db.query(
        `insert into notifications (idempotency_key, user_id, type, kind, dossier_id, title, body, data, created_at)
         values ($1, $2, 'new_alert', 'urgent', $3, 'Dossier urgent', 'stored before the upgrade', '{}', $4)`,
        [`urgent:${dossierId}:${new Date(since).toISOString()}`, userId, dossierId, createdAt],
      );
    };
    // Alerted before the upgrade, same owner, same urgency: nothing to send.
    await insertDossier({
      id: 'urg-legacy',
      title: 'Bilan',
      ownerId: 'u1',
      dueDate: '2027-03-28',
      urgent: true,
      urgentSince: '2027-01-10T09:00:00Z',
    });
    await storeLegacyAlert('urg-legacy', 'u1', '2027-01-10T09:00:00Z', '2027-01-10T09:00:01Z');
    // Alerted before the upgrade for an earlier urgency (unmarked since, marked again): alerted.
    await insertDossier({
      id: 'urg-legacy-earlier',
      title: 'TVA',
      ownerId: 'u1',
      dueDate: '2027-03-28',
      urgent: true,
      urgentSince: '2027-01-12T09:00:00Z',
    });
    await storeLegacyAlert('urg-legacy-earlier', 'u1', '2027-01-02T09:00:00Z', '2027-01-02T09:00:01Z');
    // Alerted before the upgrade, but its owner then was u0: u1 is alerted.
    await insertDossier({
      id: 'urg-legacy-moved',
      title: 'Paie',
      ownerId: 'u1',
      dueDate: '2027-03-28',
      urgent: true,
      urgentSince: '2027-01-10T09:00:00Z',
    });
    await storeLegacyAlert('urg-legacy-moved', 'u0', '2027-01-10T09:00:00Z', '2027-01-10T09:00:01Z');

    assert.deepEqual((await runActivity(activities.alertUrgentDossiers, { at })).result, { alerted: 2 });
    const alerts = await db.query<{ user_id: string; idempotency_key: string }>(
      `select user_id, idempotency_key from notifications
        where body <> 'stored before the upgrade' order by idempotency_key`,
    );
    assert.deepEqual(
      alerts.map((row) => [row.user_id, row.idempotency_key]),
      [
        ['u1', urgentAlertKey('urg-legacy-earlier', '2027-01-12T09:00:00Z', 'u1')],
        ['u1', urgentAlertKey('urg-legacy-moved', '2027-01-10T09:00:00Z', 'u1')],
      ],
    );
    assert.equal(await countNotifications(), 5);
  });
});
