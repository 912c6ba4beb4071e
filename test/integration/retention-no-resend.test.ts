import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createActivities } from '../../activities/index.js';
import { storeNotification, storeNotificationWhileDossierOpen } from '../../activities/notification-store.js';
import { loadConfig } from '../../config/config.js';
import { NOTIFICATION_CHANNEL } from '../../db/orm.js';
import { reminderKey, urgentAlertKey } from '../../domain/idempotency-keys.js';
import {
  ago,
  DAY,
  db,
  insertDossier,
  insertNotification,
  keys,
  now,
  retention,
  run,
  setUpRetentionDatabase,
} from '../support/retention.js';

/**
 * The notification retention's activity against real PostgreSQL (test/support/retention.ts): why
 * no reminder it removes can be sent again: the audit's window kept, an urgent alert kept for its
 * open dossier (the hourly urgent check, a new plan of the dossier), and the keys of a closed
 * dossier's removed alerts retired when it is reopened.
 */

setUpRetentionDatabase();
const createActivitiesForTest = () =>
  createActivities({
    orm: db.orm,
    temporal: { client: {} as never, taskQueue: 'unused' },
    config: loadConfig({}),
  });

describe('notification retention (real PostgreSQL)', () => {
  it('removes no reminder the audit still looks at: rows within REMINDER_AUDIT_LOOKBACK plus a day stay', async () => {
    // The shortest retention the configuration accepts with a 10-day lookback (P10D is refused).
    const config = { REMINDER_AUDIT_LOOKBACK: 'P10D', NOTIFICATION_RETENTION: 'P11D' };
    assert.throws(() => loadConfig({ ...config, NOTIFICATION_RETENTION: 'P10D' }), /NOTIFICATION_RETENTION/);
    await insertDossier('d-done', { status: 'done' });
    // Reminders of a closed dossier (nothing else keeps them): stored when due, the first at the
    // very start of the audit's window, the second an hour short of the retention.
    const reminder = (kind: string, createdAt: string) =>
      insertNotification({
        key: reminderKey('d-done', '2025-01-31', kind),
        type: 'deadline_reminder',
        kind,
        dossierId: 'd-done',
        createdAt,
      });
    await reminder('j-1', ago(10 * DAY));
    await reminder('j-0', ago(11 * DAY - 3_600_000));
    await reminder('j-7', ago(11 * DAY + 60_000));
    const { removeOldNotifications } = retention(config);
    assert.equal((await run(removeOldNotifications, now())).result.removed, 1);
    assert.deepEqual(await keys(), [
      reminderKey('d-done', '2025-01-31', 'j-0'),
      reminderKey('d-done', '2025-01-31', 'j-1'),
    ]);
  });

  it('an urgent alert kept for its open dossier: the hourly check does not alert it again', async () => {
    const since = ago(400 * DAY);
    await insertDossier('d-urgent', { urgent: true, urgentSince: since });
    await insertNotification({
      key: urgentAlertKey('d-urgent', since, 'lea'),
      type: 'new_alert',
      kind: 'urgent',
      dossierId: 'd-urgent',
      createdAt: since,
    });
    const all = createActivities({
      orm: db.orm,
      temporal: { client: {} as never, taskQueue: 'unused' },
      config: loadConfig({}),
    });
    assert.equal((await run(all.removeOldNotifications, now())).result.kept, 1);
    assert.deepEqual((await run(all.alertUrgentDossiers, now())).result, { alerted: 0 });
    // The overdue alert of the open dossier is kept too: a new plan of the dossier (a workflow
    // started afresh by the reconciliation) stores nothing under its key.
    await insertNotification({
      key: reminderKey('d-urgent', '2025-01-31', 'overdue'),
      type: 'new_alert',
      kind: 'overdue',
      dossierId: 'd-urgent',
      createdAt: ago(700 * DAY),
    });
    assert.equal((await run(all.removeOldNotifications, now())).result.kept, 2);
    const draft = (key: string) => ({
      idempotencyKey: key,
      userId: 'lea',
      type: 'new_alert',
      kind: 'overdue',
      dossierId: 'd-urgent',
      title: 't',
      body: 'b',
      data: {},
      scheduledFor: null,
    });
    const replan = await storeNotification(
      db.orm.em.fork(),
      draft(reminderKey('d-urgent', '2025-01-31', 'overdue')),
    );
    assert.equal(replan.created, false, 'not sent again');
    // What the key guards against: once a row is gone, the same key stores (and sends) again.
    await db.query(`delete from notifications where kind = 'overdue'`);
    const gone = await storeNotification(
      db.orm.em.fork(),
      draft(reminderKey('d-urgent', '2025-01-31', 'overdue')),
    );
    assert.equal(gone.created, true);
  });

  it('a dossier reopened after the retention removed its alerts is not sent them again: their keys are retired', async () => {
    const since = ago(400 * DAY);
    await insertDossier('d-reopened', { status: 'done', urgent: true, urgentSince: since });
    const alert = (key: string, kind: string) =>
      insertNotification({ key, type: 'new_alert', kind, dossierId: 'd-reopened', createdAt: since });
    const keysOfAlerts = [
      urgentAlertKey('d-reopened', since, 'lea'),
      reminderKey('d-reopened', '2025-01-31', 'overdue'),
      reminderKey('d-reopened', '2025-01-31', 'overdue_critical'),
    ];
    await alert(keysOfAlerts[0]!, 'urgent');
    await alert(keysOfAlerts[1]!, 'overdue');
    await alert(keysOfAlerts[2]!, 'overdue_critical');
    const { removeOldNotifications } = retention();
    assert.equal((await run(removeOldNotifications, now())).result.removed, 3);
    assert.deepEqual(await keys(), []);
    const retired = await db.query<{ key: string }>(
      'select idempotency_key as key from retired_notification_keys order by 1',
    );
    assert.deepEqual(
      retired.map((row) => row.key),
      [...keysOfAlerts].sort(),
    );
    // Reopened (through the API or in the table): its workflow and the hourly check ask again.
    await db.query(`update dossiers set status = 'open' where id = 'd-reopened'`);
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const announced: string[] = [];
    listener.on('notification', (message) => announced.push(message.channel));
    await listener.query(`listen ${NOTIFICATION_CHANNEL}`);
    try {
      for (const [i, key] of keysOfAlerts.entries()) {
        const draft = {
          idempotencyKey: key,
          userId: 'lea',
          type: 'new_alert',
          kind: ['urgent', 'overdue', 'overdue_critical'][i]!,
          dossierId: 'd-reopened',
          title: 't',
          body: 'b',
          data: {},
          scheduledFor: null,
        };
        assert.equal((await storeNotification(db.orm.em.fork(), draft)).created, false, key);
        const guarded = await storeNotificationWhileDossierOpen(db.orm.em.fork(), draft, {
          id: 'd-reopened',
          dueDate: '2025-01-31',
          dueAt: null,
        });
        assert.equal(guarded.created, false, key);
      }
      assert.deepEqual((await run(createActivitiesForTest().alertUrgentDossiers, now())).result, {
        alerted: 0,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(await keys(), [], 'nothing stored again');
      assert.deepEqual(announced, [], 'nothing announced');
    } finally {
      await listener.end();
    }
  });
});
