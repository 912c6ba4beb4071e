import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { createActivities } from '../../activities/index.js';
import { storeNotification } from '../../activities/notification-store.js';
import { loadConfig } from '../../config/config.js';
import type { DailyReportRule } from '../../domain/daily-report.js';
import { dailyReportKey, urgentAlertKey } from '../../domain/idempotency-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The scheduled activities run directly against real PostgreSQL, inside the SDK's mock activity
 * context (they heartbeat). Rows are seeded with SQL, as the NormX backend or an operator would.
 */

let db: TestDatabase;
let activities: ReturnType<typeof createActivities>;

before(async () => {
  db = await createTestDatabase();
  activities = createActivities({
    orm: db.orm,
    // alertUrgentDossiers and sendDailyReports never reach Temporal; only reconcileDossierWorkflows
    // does, and it is covered by the integration tests against a real Temporal server.
    temporal: { client: {} as never, taskQueue: 'unused' },
    config: loadConfig({}),
  });
});
after(async () => {
  await db?.drop();
});
// Both activities scan every user and dossier: each test starts from empty tables.
beforeEach(async () => {
  await db.query('delete from notifications');
  await db.query('delete from dossiers');
  await db.query('delete from users');
});

/** Runs an activity in a mock activity context; counts its heartbeats. */
async function runActivity<A, R>(
  fn: (arg: A) => Promise<R>,
  arg: A,
): Promise<{ result: R; heartbeats: number }> {
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') });
  let heartbeats = 0;
  env.on('heartbeat', () => (heartbeats += 1));
  const result = await env.run<[A], R, typeof fn>(fn, arg);
  return { result, heartbeats };
}

async function insertUser(id: string, fields: { locale?: string; timezone?: string } = {}): Promise<void> {
  await db.query(
    `insert into users (id, name, locale, timezone)
     values ($1, $2, coalesce($3, 'fr'), coalesce($4, 'Europe/Paris'))`,
    [id, `User ${id}`, fields.locale ?? null, fields.timezone ?? null],
  );
}

interface DossierSeed {
  id: string;
  title: string;
  ownerId: string;
  dueDate?: string;
  dueAt?: string;
  urgent?: boolean;
  urgentSince?: string;
  status?: 'open' | 'done' | 'cancelled';
}

async function insertDossier(seed: DossierSeed): Promise<void> {
  await db.query(
    `insert into dossiers (id, title, owner_id, due_date, due_at, urgent, urgent_since, status)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      seed.id,
      seed.title,
      seed.ownerId,
      seed.dueDate ?? null,
      seed.dueAt ?? null,
      seed.urgent ?? false,
      seed.urgentSince ?? null,
      seed.status ?? 'open',
    ],
  );
}

interface Row {
  id: string;
  idempotency_key: string;
  user_id: string;
  type: string;
  kind: string;
  dossier_id: string | null;
  title: string;
  body: string;
  data: Record<string, unknown>;
}
const notifications = (type: string) =>
  db.query<Row>(
    `select id::text as id, idempotency_key, user_id, type, kind, dossier_id, title, body, data
       from notifications where type = $1 order by idempotency_key`,
    [type],
  );
const countNotifications = async (): Promise<number> =>
  Number((await db.query<{ n: string }>('select count(*) as n from notifications'))[0]!.n);
const urgentSinceOf = async (id: string): Promise<string | null> => {
  const [row] = await db.query<{ urgent_since: Date | null }>(
    'select urgent_since from dossiers where id = $1',
    [id],
  );
  return row!.urgent_since?.toISOString() ?? null;
};

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

/** 18:00 in each user's zone; a run delayed by up to two hours still sends. */
const rule: DailyReportRule = { time: { hour: 18, minute: 0 }, catchUpWindow: 'PT2H' };

describe('sendDailyReports', () => {
  // 18:00 in Paris on 2027-01-15 (CET, UTC+1).
  const at = '2027-01-15T17:00:00.000Z';
  // 18:00 in Auckland (NZDT, UTC+13) on 2027-01-16: that owner's report is for the 16th.
  const atAuckland = '2027-01-16T05:00:00.000Z';

  it("sends one report per owner with something to report, in the owner's zone and language", async () => {
    await insertUser('ua'); // locale and zone by default: fr, Europe/Paris
    await insertDossier({ id: 'a1-overdue', title: 'TVA décembre', ownerId: 'ua', dueDate: '2027-01-14' });
    await insertDossier({ id: 'a2-today', title: 'DSN janvier', ownerId: 'ua', dueDate: '2027-01-15' });
    await insertDossier({
      id: 'a3-urgent',
      title: 'Bilan Martin',
      ownerId: 'ua',
      dueDate: '2027-02-20',
      urgent: true,
      urgentSince: '2027-01-02T09:00:00Z',
    });
    await insertDossier({
      id: 'a4-done',
      title: 'Liasse 2025',
      ownerId: 'ua',
      dueDate: '2027-01-10',
      status: 'done',
    });
    // Exact deadlines: 17:00 Paris has passed, 22:00 Paris is later today.
    await insertDossier({ id: 'a5-due-at-past', title: 'CFE', ownerId: 'ua', dueAt: '2027-01-15T16:00:00Z' });
    await insertDossier({
      id: 'a6-due-at-tonight',
      title: 'Acompte IS',
      ownerId: 'ua',
      dueAt: '2027-01-15T21:00:00Z',
    });
    await insertDossier({ id: 'a7-later', title: 'Paie février', ownerId: 'ua', dueDate: '2027-02-05' });
    await insertDossier({
      id: 'a8-cancelled',
      title: 'Annulé',
      ownerId: 'ua',
      dueDate: '2027-01-03',
      urgent: true,
      status: 'cancelled',
    });

    await insertUser('ub');
    await insertDossier({ id: 'b1-in-10-days', title: 'TVA février', ownerId: 'ub', dueDate: '2027-01-25' });

    await insertUser('uc', { locale: 'en', timezone: 'Pacific/Auckland' });
    await insertDossier({ id: 'c1', title: 'GST return', ownerId: 'uc', dueDate: '2027-01-16' });
    await insertDossier({ id: 'c2', title: 'Payroll', ownerId: 'uc', dueDate: '2027-01-15' });

    await insertUser('ud'); // no dossiers at all

    const { result, heartbeats } = await runActivity(activities.sendDailyReports, { at, rule });
    assert.deepEqual(result, { sent: 1 }, '18:00 in Paris: the Paris owner with something to report');
    assert.ok(heartbeats >= 1, 'heartbeats while scanning');
    assert.deepEqual((await runActivity(activities.sendDailyReports, { at: atAuckland, rule })).result, {
      sent: 1,
    });

    const reports = await notifications('daily_report');
    assert.deepEqual(
      reports.map((row) => [row.user_id, row.idempotency_key, row.kind, row.dossier_id]),
      [
        ['ua', dailyReportKey('ua', '2027-01-15'), 'report', null],
        ['uc', dailyReportKey('uc', '2027-01-16'), 'report', null],
      ],
    );
    assert.equal(dailyReportKey('ua', '2027-01-15'), 'daily:ua:2027-01-15');

    const [reportA, reportC] = reports as [Row, Row];
    assert.deepEqual(reportA.data, {
      report: {
        overdue: [
          { id: 'a1-overdue', title: 'TVA décembre' },
          { id: 'a5-due-at-past', title: 'CFE' },
        ],
        dueToday: [
          { id: 'a2-today', title: 'DSN janvier' },
          { id: 'a6-due-at-tonight', title: 'Acompte IS' },
        ],
        urgent: [{ id: 'a3-urgent', title: 'Bilan Martin' }],
      },
    });
    assert.equal(reportA.title, 'Rapport quotidien');
    assert.equal(
      reportA.body,
      "2 en retard (TVA décembre, CFE) ; 2 à traiter aujourd'hui (DSN janvier, Acompte IS) ; 1 urgent (Bilan Martin).",
    );

    // In Auckland the 15th is over (overdue) and the 16th is today.
    assert.deepEqual(reportC.data, {
      report: {
        overdue: [{ id: 'c2', title: 'Payroll' }],
        dueToday: [{ id: 'c1', title: 'GST return' }],
        urgent: [],
      },
    });
    assert.deepEqual(
      [reportC.title, reportC.body],
      ['Daily report', '1 overdue (Payroll); 1 due today (GST return).'],
    );

    // A second run the same evening (a retried or doubled schedule) sends nothing more.
    const again = await runActivity(activities.sendDailyReports, { at: '2027-01-15T17:30:00.000Z', rule });
    assert.deepEqual(again.result, { sent: 0 });
    assert.equal(await countNotifications(), 2);
  });

  it('sends nothing when no owner has anything overdue, due today or urgent', async () => {
    await insertUser('ub');
    await insertDossier({ id: 'b1-in-10-days', title: 'TVA février', ownerId: 'ub', dueDate: '2027-01-25' });
    await insertDossier({
      id: 'b2-done',
      title: 'Clos',
      ownerId: 'ub',
      dueDate: '2027-01-02',
      status: 'done',
    });
    assert.deepEqual((await runActivity(activities.sendDailyReports, { at, rule })).result, { sent: 0 });
    assert.equal(await countNotifications(), 0);
  });
});

describe("sendDailyReports: at the report time in each user's own zone", () => {
  const zones: Record<string, string> = {
    'u-paris': 'Europe/Paris',
    'u-bangkok': 'Asia/Bangkok',
    'u-kathmandu': 'Asia/Kathmandu', // +05:45
    'u-tokyo': 'Asia/Tokyo',
  };

  /** Each user has an urgent open dossier: every one of their reports has something to say. */
  async function seedUsers(): Promise<void> {
    for (const [userId, timezone] of Object.entries(zones)) {
      await insertUser(userId, { timezone });
      await insertDossier({
        id: `urgent-of-${userId}`,
        title: 'Bilan',
        ownerId: userId,
        dueDate: '2027-06-30',
        urgent: true,
        urgentSince: '2027-03-01T09:00:00Z',
      });
    }
  }

  /** The daily reports stored since `afterId`, as [user, local date, id]. */
  const reportsAfter = async (afterId: string) =>
    db.query<{ id: string; user_id: string; idempotency_key: string }>(
      `select id::text as id, user_id, idempotency_key from notifications
        where type = 'daily_report' and id > $1::bigint order by id`,
      [afterId],
    );

  it('sends each user one report per local date at 18:00 local, across the Paris DST change', async () => {
    await seedUsers();
    // Every 15 minutes over four days around 28 March 2027 (Paris goes from +01:00 to +02:00).
    const start = DateTime.fromISO('2027-03-26T00:00:00Z', { zone: 'utc' });
    const end = start.plus({ days: 4 });
    const sentAt = new Map<string, string>(); // idempotency key → the run that stored it
    let lastId = '0';
    for (let at = start; at < end; at = at.plus({ minutes: 15 })) {
      await runActivity(activities.sendDailyReports, { at: at.toISO()!, rule });
      for (const row of await reportsAfter(lastId)) {
        assert.ok(!sentAt.has(row.idempotency_key), `${row.idempotency_key} stored once`);
        sentAt.set(row.idempotency_key, at.toISO()!);
        lastId = row.id;
      }
    }

    // Expected: for every local date whose 18:00 falls in the span, one report at that instant.
    const expected = new Map<string, string>();
    for (const [userId, zone] of Object.entries(zones)) {
      for (let day = start.minus({ days: 1 }); day <= end; day = day.plus({ days: 1 })) {
        const localDate = day.toISODate()!;
        const reportAt = DateTime.fromISO(`${localDate}T18:00`, { zone }).toUTC();
        if (reportAt >= start && reportAt < end)
          expected.set(dailyReportKey(userId, localDate), reportAt.toISO()!);
      }
    }
    assert.deepEqual(
      [...sentAt].sort(([a], [b]) => a.localeCompare(b)),
      [...expected].sort(([a], [b]) => a.localeCompare(b)),
    );
    // Four local dates per user: none dropped, none doubled (the Bangkok case of the issue).
    assert.equal(expected.size, 16);
  });

  it('a run delayed by an outage still sends within the catch-up window, and a stale report is dropped', async () => {
    await seedUsers();
    // 18:00 in Tokyo on 1 April 2027 is 09:00Z; the runs from 09:00Z to 10:30Z did not happen.
    const late = await runActivity(activities.sendDailyReports, { at: '2027-04-01T10:45:00.000Z', rule });
    assert.deepEqual(late.result, { sent: 1 });
    assert.deepEqual(
      (await reportsAfter('0')).map((row) => row.idempotency_key),
      [dailyReportKey('u-tokyo', '2027-04-01')],
    );
    // The same run retried sends nothing more.
    const retried = await runActivity(activities.sendDailyReports, { at: '2027-04-01T10:45:00.000Z', rule });
    assert.deepEqual(retried.result, { sent: 0 });
    // Paris: 18:00 local on 2 April is 16:00Z; a run at 18:00Z is two hours late: not sent.
    assert.deepEqual(
      (await runActivity(activities.sendDailyReports, { at: '2027-04-02T18:00:00.000Z', rule })).result,
      {
        sent: 0,
      },
    );
    assert.equal(await countNotifications(), 1);
  });
});
