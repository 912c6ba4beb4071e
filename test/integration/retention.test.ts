import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import { createActivities } from '../../activities/index.js';
import { storeNotification, storeNotificationWhileDossierOpen } from '../../activities/notification-store.js';
import { createRetentionActivities, type RetentionOptions } from '../../activities/retention-activities.js';
import { loadConfig } from '../../config/config.js';
import { NOTIFICATION_CHANNEL, UNREAD_CHANNEL } from '../../db/orm.js';
import { reminderKey, urgentAlertKey } from '../../domain/idempotency-keys.js';
import {
  NO_RETENTION_PROGRESS,
  resumeRetention,
  retentionCutoff,
  type RetentionProgress,
} from '../../domain/retention.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

/**
 * The notification retention's activity against real PostgreSQL, in the SDK's mock activity
 * context (it heartbeats): what it removes and keeps, in batches, what it tells the user's tabs,
 * how a retry resumes, its time budget, rows it must not wait for, and why no reminder it removes
 * can be sent again (the hourly urgent check, a new plan of an open dossier, the audit's window).
 */

let db: TestDatabase;
const DAY = 86_400_000;
const now = () => new Date().toISOString();
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.query('delete from notifications');
  await db.query('delete from retired_notification_keys');
  await db.query('delete from dossiers');
  await db.query('delete from users');
  await db.query(`insert into users (id) values ('lea'), ('max')`);
});

const retention = (config: Record<string, string> = {}, options: RetentionOptions = {}) => {
  const removedByState = { read: 0, unread: 0 };
  const activities = createRetentionActivities(
    {
      orm: db.orm,
      temporal: { client: {} as never, taskQueue: 'unused' },
      config: loadConfig(config),
      retentionMetrics: {
        removed: ({ read, unread }) => {
          removedByState.read += read;
          removedByState.unread += unread;
        },
      },
    },
    options,
  );
  return { ...activities, removedByState };
};

/** Runs the activity in a mock activity context (with a retried attempt's heartbeat, if given). */
async function run<R>(
  fn: (arg: { at: string }) => Promise<R>,
  at: string,
  heartbeatDetails?: unknown,
): Promise<{ result: R; heartbeats: RetentionProgress[] }> {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? undefined : { heartbeatDetails }, {
    logger: new DefaultLogger('WARN'),
  });
  const heartbeats: RetentionProgress[] = [];
  env.on('heartbeat', (details: RetentionProgress) => heartbeats.push(structuredClone(details)));
  const result = await env.run<[{ at: string }], R, typeof fn>(fn, { at });
  return { result, heartbeats };
}

interface Seed {
  key: string;
  userId?: string;
  type?: string;
  kind?: string;
  dossierId?: string;
  createdAt: string;
  read?: boolean;
}

async function insertNotification(seed: Seed): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    `insert into notifications (idempotency_key, user_id, type, kind, dossier_id, title, body, created_at, read_at)
     values ($1, $2, $3, $4, $5, 't', 'b', $6, case when $7 then $6::timestamptz end)
     returning id::text as id`,
    [
      seed.key,
      seed.userId ?? 'lea',
      seed.type ?? 'dossier_update',
      seed.kind ?? 'updated',
      seed.dossierId ?? null,
      seed.createdAt,
      seed.read ?? true,
    ],
  );
  return row!.id;
}

async function insertDossier(
  id: string,
  fields: { status?: string; urgent?: boolean; urgentSince?: string },
) {
  await db.query(
    `insert into dossiers (id, title, owner_id, due_date, status, urgent, urgent_since)
     values ($1::text, $1::text, 'lea', '2025-01-31', $2, $3, $4)`,
    [id, fields.status ?? 'open', fields.urgent ?? false, fields.urgentSince ?? null],
  );
}

const createActivitiesForTest = () =>
  createActivities({
    orm: db.orm,
    temporal: { client: {} as never, taskQueue: 'unused' },
    config: loadConfig({}),
  });

const keys = async (): Promise<string[]> =>
  (await db.query<{ key: string }>('select idempotency_key as key from notifications order by 1')).map(
    (row) => row.key,
  );

/** The unread count of a counts NOTIFY, its user and its newest id (the other fields: inbox-states.test.ts). */
const unreadOf = (payload: string): { userId: string; unread: number; latestId: string } => {
  const { userId, unread, latestId } = JSON.parse(payload) as {
    userId: string;
    unread: number;
    latestId: string;
  };
  return { userId, unread, latestId };
};

describe('notification retention (real PostgreSQL)', () => {
  it('removes what is older than the retention in batches, read or not, and keeps the reminders of open dossiers', async () => {
    await insertDossier('d-open', {});
    await insertDossier('d-done', { status: 'done' });
    // Eight old rows it removes: updates and daily reports, read or unread, and the reminders of
    // a closed dossier and of one no longer in the table.
    for (let i = 0; i < 4; i += 1) {
      await insertNotification({ key: `old-update-${i}`, createdAt: ago(400 * DAY + i), read: i % 2 === 0 });
    }
    await insertNotification({
      key: 'old-report',
      type: 'daily_report',
      kind: 'report',
      createdAt: ago(500 * DAY),
      userId: 'max',
    });
    await insertNotification({
      key: 'old-done-reminder',
      type: 'deadline_reminder',
      kind: 'j-1',
      dossierId: 'd-done',
      createdAt: ago(380 * DAY),
      read: false,
    });
    await insertNotification({
      key: 'old-gone-alert',
      type: 'new_alert',
      kind: 'overdue',
      dossierId: 'd-gone',
      createdAt: ago(370 * DAY),
    });
    await insertNotification({ key: 'old-open-update', dossierId: 'd-open', createdAt: ago(366 * DAY) });
    // Old and kept: the reminder and the alert of a dossier still open.
    await insertNotification({
      key: 'old-open-reminder',
      type: 'deadline_reminder',
      kind: 'j-0',
      dossierId: 'd-open',
      createdAt: ago(390 * DAY),
      read: false,
    });
    await insertNotification({
      key: 'old-open-alert',
      type: 'new_alert',
      kind: 'overdue',
      dossierId: 'd-open',
      createdAt: ago(389 * DAY),
    });
    // Recent (under a year): kept, read or not.
    await insertNotification({ key: 'recent-unread', createdAt: ago(364 * DAY), read: false });
    await insertNotification({ key: 'recent-read', createdAt: ago(DAY), userId: 'max' });

    const { removeOldNotifications, removedByState } = retention({}, { batchSize: 3 });
    const { result, heartbeats } = await run(removeOldNotifications, now());
    // 10 rows older than a year, looked at 3 by 3: four batches (the last one short).
    assert.deepEqual(result, { removed: 8, unread: 3, kept: 2, skipped: 0, batches: 4, complete: true });
    assert.deepEqual(await keys(), ['old-open-alert', 'old-open-reminder', 'recent-read', 'recent-unread']);
    assert.deepEqual(removedByState, { read: 5, unread: 3 });
    // A heartbeat after each batch, its position going forward, its counts adding up.
    assert.equal(heartbeats.length, 4);
    assert.deepEqual(
      heartbeats.map((beat) => [beat.batches, beat.removed + beat.kept]),
      [
        [1, 3],
        [2, 6],
        [3, 9],
        [4, 10],
      ],
    );
    const positions = heartbeats.map(
      (beat) => `${beat.after!.createdAt} ${beat.after!.id.padStart(20, '0')}`,
    );
    assert.deepEqual([...positions].sort(), positions);
    assert.equal(new Set(positions).size, 4, 'the position moves at every batch');
    assert.match(heartbeats[0]!.after!.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // A second run finds nothing more to remove (the kept rows are looked at again, and kept).
    const second = await run(removeOldNotifications, now());
    assert.deepEqual(second.result, {
      removed: 0,
      unread: 0,
      kept: 2,
      skipped: 0,
      batches: 1,
      complete: true,
    });
    assert.equal((await keys()).length, 4);
  });

  it("tells the user's tabs their new unread count, under the user's lock, dated by the newest removed; never waits for a held user lock", async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const counts: Array<{ userId: string; unread: number; latestId: string }> = [];
    listener.on('notification', (message) => {
      if (message.channel === UNREAD_CHANNEL) counts.push(unreadOf(message.payload!));
    });
    await listener.query(`listen ${UNREAD_CHANNEL}`);
    try {
      const oldUnread = await insertNotification({
        key: 'lea-old-unread',
        createdAt: ago(400 * DAY),
        read: false,
      });
      await insertNotification({ key: 'lea-old-unread-2', createdAt: ago(399 * DAY), read: false });
      const newest = await insertNotification({ key: 'lea-recent-unread', createdAt: ago(DAY), read: false });
      // Max loses only read rows he has seen, and all of them: no count for Max (none has changed).
      const maxOld = await insertNotification({
        key: 'max-old-read',
        userId: 'max',
        createdAt: ago(400 * DAY),
      });
      await db.query(
        `insert into notification_inbox_states (user_id, last_seen_id) values ('max', $1)
         on conflict (user_id) do update set last_seen_id = excluded.last_seen_id`,
        [maxOld],
      );
      // A notification of Léa's being stored (its transaction holds her lock): the batch does not
      // wait for it (it would hold the locks of every other user of the batch meanwhile), it
      // leaves her rows for the next run and removes the others'.
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      let meanwhile: string;
      const { removeOldNotifications } = retention();
      try {
        await holder.query('begin');
        await holder.query(`select lock_user_notifications('lea')`);
        const started = Date.now();
        const held = await run(removeOldNotifications, now());
        assert.ok(Date.now() - started < 2_000, 'not waiting for a user lock');
        assert.deepEqual(held.result, {
          removed: 1,
          unread: 0,
          kept: 0,
          skipped: 2,
          batches: 1,
          complete: true,
        });
        assert.deepEqual(await keys(), ['lea-old-unread', 'lea-old-unread-2', 'lea-recent-unread']);
        // Max, whom the held lock does not concern, gets a notification meanwhile, at once.
        const stored = await storeNotification(db.orm.em.fork(), {
          idempotencyKey: 'max-new',
          userId: 'max',
          type: 'dossier_update',
          kind: 'updated',
          dossierId: null,
          title: 't',
          body: 'b',
          data: {},
          scheduledFor: null,
        });
        assert.equal(stored.created, true);
        [{ id: meanwhile }] = (
          await holder.query<{ id: string }>(
            `insert into notifications (idempotency_key, user_id, type, kind, title, body)
             values ('lea-meanwhile', 'lea', 'dossier_update', 'updated', 't', 'b') returning id::text as id`,
          )
        ).rows as [{ id: string }];
        await holder.query('commit');
      } finally {
        await holder.end();
      }
      assert.deepEqual(counts, [], 'no count for rows not removed');
      // The next run removes them; its count includes the notification stored meanwhile.
      const { result } = await run(removeOldNotifications, now());
      assert.equal(result.removed, 2);
      await waitFor('the unread count', () => counts.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(counts, [{ userId: 'lea', unread: 2, latestId: meanwhile }]);
      assert.ok(BigInt(meanwhile) > BigInt(newest) && BigInt(newest) > BigInt(oldUnread));

      // A user left with nothing: the count is dated by the newest row removed.
      counts.length = 0;
      await db.query(`delete from notifications where user_id = 'lea'`);
      const only = await insertNotification({
        key: 'lea-only-old-unread',
        createdAt: ago(400 * DAY),
        read: false,
      });
      await run(removeOldNotifications, now());
      await waitFor('the unread count', () => counts.length > 0);
      assert.deepEqual(counts, [{ userId: 'lea', unread: 0, latestId: only }]);

      // Her newest row removed was read (and her tab's count dated by it, as her mark dated it):
      // the count is dated by it, not by the newest unread one, or the hub would drop it as older.
      counts.length = 0;
      await insertNotification({ key: 'lea-older-unread', createdAt: ago(420 * DAY), read: false });
      const newestRead = await insertNotification({ key: 'lea-newest-read', createdAt: ago(400 * DAY) });
      await run(removeOldNotifications, now());
      await waitFor('the unread count', () => counts.length > 0);
      assert.deepEqual(counts, [{ userId: 'lea', unread: 0, latestId: newestRead }]);
    } finally {
      await listener.end();
    }
  });

  it('a retried attempt goes on from its last heartbeat, counts included', async () => {
    const ids = [];
    for (let i = 0; i < 6; i += 1)
      ids.push(await insertNotification({ key: `old-${i}`, createdAt: ago(400 * DAY - i) }));
    const { removeOldNotifications } = retention({}, { batchSize: 2 });
    // The first attempt got through the first two rows, then its worker was lost; the rows it
    // looked at are still there (say, they were being written at that moment).
    const [first] = await db.query<{ created_at: string }>(
      `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at
         from notifications where id = $1`,
      [ids[1]],
    );
    const details: RetentionProgress = {
      after: { createdAt: first!.created_at, id: ids[1]! },
      removed: 2,
      unread: 0,
      kept: 0,
      skipped: 0,
      batches: 1,
    };
    const { result, heartbeats } = await run(removeOldNotifications, now(), details);
    // Two full batches, then an empty one (a full batch may not be the last), after the first.
    assert.deepEqual(result, { removed: 6, unread: 0, kept: 0, skipped: 0, batches: 4, complete: true });
    assert.deepEqual(
      await keys(),
      ['old-0', 'old-1'],
      'the rows before the position are not looked at again',
    );
    assert.equal(heartbeats[0]!.batches, 2);
  });

  it('resumes only from a progress it can read; the cutoff is the run instant minus the retention', () => {
    const progress = {
      after: { createdAt: '2025-01-02T03:04:05.123456Z', id: '42' },
      removed: 3,
      unread: 1,
      kept: 0,
      skipped: 0,
      batches: 2,
    };
    assert.deepEqual(resumeRetention(progress), progress);
    for (const garbage of [
      undefined,
      'after',
      { ...progress, removed: -1 },
      { ...progress, batches: 1.5 },
      { ...progress, after: { createdAt: 'yesterday', id: '42' } },
      { ...progress, after: { createdAt: progress.after.createdAt, id: '42; drop table notifications' } },
      { ...progress, kept: undefined },
    ]) {
      assert.deepEqual(resumeRetention(garbage), NO_RETENTION_PROGRESS, JSON.stringify(garbage));
    }
    // Years are 365 days, months 30, whatever the calendar (2024 is a leap year).
    assert.equal(retentionCutoff('2024-03-01T03:15:00.000Z', 'P1Y'), '2023-03-02T03:15:00.000Z');
    assert.equal(retentionCutoff('2025-03-01T03:15:00.000Z', 'P1M'), '2025-01-30T03:15:00.000Z');
  });

  it('stops at its time budget, after a batch; the next run goes on', async () => {
    for (let i = 0; i < 5; i += 1)
      await insertNotification({ key: `old-${i}`, createdAt: ago(400 * DAY - i) });
    const { removeOldNotifications } = retention({}, { batchSize: 2, runBudgetMs: 60_000 });
    // A run whose instant is two minutes past: its budget is spent; one batch, then it stops.
    const late = await run(removeOldNotifications, ago(120_000));
    assert.deepEqual(late.result, {
      removed: 2,
      unread: 0,
      kept: 0,
      skipped: 0,
      batches: 1,
      complete: false,
    });
    assert.equal((await keys()).length, 3);
    const next = await run(removeOldNotifications, now());
    assert.deepEqual(next.result, { removed: 3, unread: 0, kept: 0, skipped: 0, batches: 2, complete: true });
    assert.deepEqual(await keys(), []);
  });

  it('never waits for a row being written: it is left for the next run', async () => {
    const busy = await insertNotification({ key: 'old-busy', createdAt: ago(400 * DAY), read: true });
    await insertNotification({ key: 'old-idle', createdAt: ago(401 * DAY) });
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    await writer.query('begin');
    await writer.query('select id from notifications where id = $1 for update', [busy]);
    // The writer lets go after 3 s: a run that waited for it would take that long, and remove both.
    const released = new Promise((resolve) => setTimeout(resolve, 3_000))
      .then(() => writer.query('commit'))
      .finally(() => writer.end());
    const { removeOldNotifications } = retention();
    const started = Date.now();
    const { result } = await run(removeOldNotifications, now());
    const tookMs = Date.now() - started;
    const left = await keys();
    await released;
    assert.ok(tookMs < 2_500, `not waiting for the locked row (took ${tookMs} ms)`);
    assert.deepEqual(result, { removed: 1, unread: 0, kept: 0, skipped: 1, batches: 1, complete: true });
    assert.deepEqual(left, ['old-busy']);
    assert.equal((await run(removeOldNotifications, now())).result.removed, 1);
    assert.deepEqual(await keys(), []);
  });

  it('NOTIFICATION_RETENTION=off removes nothing; a shorter retention removes more', async () => {
    await insertNotification({ key: 'old', createdAt: ago(400 * DAY) });
    await insertNotification({ key: 'month-old', createdAt: ago(31 * DAY) });
    const off = retention({ NOTIFICATION_RETENTION: 'off' });
    assert.deepEqual((await run(off.removeOldNotifications, now())).result, {
      removed: 0,
      unread: 0,
      kept: 0,
      skipped: 0,
      batches: 0,
      complete: true,
    });
    assert.equal((await keys()).length, 2);
    const month = retention({ NOTIFICATION_RETENTION: 'P30D' });
    assert.equal((await run(month.removeOldNotifications, now())).result.removed, 2);
  });

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
  it('a backlog: one unread count per user, not one per batch', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const counts: Array<{ userId: string; unread: number; latestId: string }> = [];
    listener.on('notification', (message) => {
      if (message.channel === UNREAD_CHANNEL) counts.push(unreadOf(message.payload!));
    });
    await listener.query(`listen ${UNREAD_CHANNEL}`);
    try {
      // Léa's and Max's old unread rows interleaved: each of the five batches removes some of both.
      let newest = { lea: '', max: '' };
      for (let i = 0; i < 10; i += 1) {
        const userId = i % 2 === 0 ? 'lea' : 'max';
        const id = await insertNotification({
          key: `old-${i}`,
          userId,
          createdAt: ago(400 * DAY - i),
          read: false,
        });
        newest = { ...newest, [userId]: id };
      }
      const recent = await insertNotification({ key: 'lea-recent', createdAt: ago(DAY), read: false });
      const { result } = await run(retention({}, { batchSize: 2 }).removeOldNotifications, now());
      assert.equal(result.removed, 10);
      assert.equal(result.batches, 6);
      await waitFor('the unread counts', () => counts.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(
        [...counts].sort((a, b) => a.userId.localeCompare(b.userId)),
        [
          { userId: 'lea', unread: 1, latestId: recent },
          { userId: 'max', unread: 0, latestId: newest.max },
        ],
      );
    } finally {
      await listener.end();
    }
  });
});
