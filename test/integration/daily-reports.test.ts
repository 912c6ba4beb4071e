import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import type { DailyReportRule } from '../../domain/daily-report.js';
import { dailyReportKey } from '../../domain/idempotency-keys.js';
import type { TestDatabase } from '../support/database.js';
import {
  emptyPeriodicJobTables,
  openPeriodicJobTables,
  periodicJobRows,
  runActivity,
  type Activities,
  type NotificationRow as Row,
} from '../support/periodic-jobs.js';

/**
 * The daily report (`sendDailyReports`) on real PostgreSQL, in the SDK's mock activity context:
 * one report per owner with something to report, in the owner's zone and language, none when
 * nothing is due; sent at 18:00 in each user's own zone, one per local date across a DST change,
 * within the catch-up window after an outage, and a stale one dropped.
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
const { insertUser, insertDossier, notifications, countNotifications } = periodicJobRows(() => db);

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
