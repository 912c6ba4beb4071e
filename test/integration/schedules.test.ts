import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, ScheduleOverlapPolicy, type ScheduleHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { createDossierClient } from '../../client/dossier-client.js';
import {
  DAILY_REPORT_SCHEDULE_ID,
  ensureSchedules,
  HOURLY_URGENT_CHECK_SCHEDULE_ID,
  NOTIFICATION_RETENTION_SCHEDULE_ID,
  REMINDER_AUDIT_SCHEDULE_ID,
} from '../../client/schedules.js';
import { loadConfig } from '../../config/config.js';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { createNotifyWorker } from '../../worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * The Temporal Schedules against the real dev server, with a real worker and PostgreSQL:
 * created idempotently with the right spec and zone, and triggering them alerts, reports and
 * removes old notifications once; a second trigger adds (or removes) nothing.
 */

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `schedules-${randomBytes(4).toString('hex')}`;
const settings = {
  taskQueue,
  timeZone: 'Europe/Paris',
  dailyReport: { hour: 18, minute: 0 },
  dailyReportCatchUpWindow: 'PT2H',
};

before(async () => {
  env = await createDevServerEnv();
  db = await createTestDatabase();
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  worker = await createNotifyWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    dependencies: { orm: db.orm, temporal: { client, taskQueue }, config: loadConfig({}) },
  });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await db?.drop();
  await env?.teardown();
});

/** Triggers a schedule now and returns the result of the workflow run it started. */
async function triggerAndWait<T>(handle: ScheduleHandle): Promise<T> {
  const before = (await handle.describe()).info.recentActions.length;
  await handle.trigger();
  const action = await waitFor('the triggered run', async () => {
    const actions = (await handle.describe()).info.recentActions;
    return actions.length > before && actions[actions.length - 1];
  });
  return client.workflow.getHandle(action.action.workflow.workflowId).result();
}

const countOf = async (type: string, kind: string): Promise<number> =>
  Number(
    (
      await db.query<{ n: string }>('select count(*) as n from notifications where type = $1 and kind = $2', [
        type,
        kind,
      ])
    )[0]!.n,
  );

describe('Temporal Schedules (dev server, real worker and PostgreSQL)', () => {
  it('are created once with the right spec and zone, and updated in place at start-up', async () => {
    // A deployment of an earlier version has the daily schedule at 18:00 Paris time, no arguments.
    await client.schedule.create({
      scheduleId: DAILY_REPORT_SCHEDULE_ID,
      spec: { calendars: [{ hour: 18, minute: 0 }], timezone: 'Europe/Paris' },
      action: {
        type: 'startWorkflow',
        workflowType: 'dailyReportWorkflow',
        workflowId: 'daily-report',
        taskQueue,
      },
    });
    // One of its runs, as the new worker gets it before start-up updates the schedule: it
    // completes, sending nothing (the next run carries the rule), rather than failing.
    assert.deepEqual(await triggerAndWait(client.schedule.getHandle(DAILY_REPORT_SCHEDULE_ID)), { sent: 0 });
    await ensureSchedules(client, settings);
    await ensureSchedules(client, settings); // a second start-up: no error, no duplicate

    const hourly = await client.schedule.getHandle(HOURLY_URGENT_CHECK_SCHEDULE_ID).describe();
    assert.equal(hourly.spec.timezone, 'Europe/Paris');
    assert.deepEqual(hourly.spec.calendars?.[0]?.minute, [{ start: 0, end: 0, step: 1 }]);
    assert.deepEqual(hourly.spec.calendars?.[0]?.hour, [{ start: 0, end: 23, step: 1 }]);
    assert.equal(hourly.action.type, 'startWorkflow');
    assert.equal(
      hourly.action.type === 'startWorkflow' && hourly.action.workflowType,
      'hourlyUrgentCheckWorkflow',
    );
    assert.equal(hourly.action.type === 'startWorkflow' && hourly.action.taskQueue, taskQueue);

    // The retention: daily at 03:15 in the service's zone, runs never overlapping.
    const retention = await client.schedule.getHandle(NOTIFICATION_RETENTION_SCHEDULE_ID).describe();
    assert.equal(retention.spec.timezone, 'Europe/Paris');
    assert.deepEqual(retention.spec.calendars?.[0]?.hour, [{ start: 3, end: 3, step: 1 }]);
    assert.deepEqual(retention.spec.calendars?.[0]?.minute, [{ start: 15, end: 15, step: 1 }]);
    assert.equal(retention.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(
      retention.action.type === 'startWorkflow' && retention.action.workflowType,
      'notificationRetentionWorkflow',
    );
    const nextRetention = DateTime.fromJSDate(retention.info.nextActionTimes[0]!).setZone('Europe/Paris');
    assert.deepEqual([nextRetention.hour, nextRetention.minute], [3, 15]);

    // The daily report schedule, moved to a run every 15 minutes (UTC) carrying the rule: each
    // run reports to the users whose local 18:00 has come.
    const daily = await client.schedule.getHandle(DAILY_REPORT_SCHEDULE_ID).describe();
    assert.equal(daily.spec.timezone, 'UTC');
    assert.deepEqual(daily.spec.calendars?.[0]?.minute, [{ start: 0, end: 59, step: 15 }]);
    assert.deepEqual(daily.spec.calendars?.[0]?.hour, [{ start: 0, end: 23, step: 1 }]);
    assert.deepEqual(daily.action.type === 'startWorkflow' && daily.action.args, [
      { time: { hour: 18, minute: 0 }, catchUpWindow: 'PT2H' },
    ]);
    const runs = daily.info.nextActionTimes.slice(0, 4).map((at) => DateTime.fromJSDate(at).toUTC());
    assert.equal(runs.length, 4);
    assert.deepEqual(
      runs.map((at) => at.minute % 15),
      [0, 0, 0, 0],
    );
    assert.deepEqual(
      runs.slice(1).map((at, i) => at.diff(runs[i]!, 'minutes').minutes),
      [15, 15, 15],
    );

    await ensureSchedules(client, {
      ...settings,
      timeZone: 'America/New_York',
      dailyReport: { hour: 17, minute: 40 },
      dailyReportCatchUpWindow: 'PT1H',
    });
    const movedHourly = await client.schedule.getHandle(HOURLY_URGENT_CHECK_SCHEDULE_ID).describe();
    assert.equal(movedHourly.spec.timezone, 'America/New_York');
    const movedRetention = await client.schedule.getHandle(NOTIFICATION_RETENTION_SCHEDULE_ID).describe();
    assert.equal(movedRetention.spec.timezone, 'America/New_York');
    const moved = await client.schedule.getHandle(DAILY_REPORT_SCHEDULE_ID).describe();
    // 17:40 local is at 10, 25, 40 or 55 past the UTC hour in every zone.
    assert.deepEqual(moved.spec.calendars?.[0]?.minute, [{ start: 10, end: 59, step: 15 }]);
    assert.deepEqual(moved.action.type === 'startWorkflow' && moved.action.args, [
      { time: { hour: 17, minute: 40 }, catchUpWindow: 'PT1H' },
    ]);
    const schedules: string[] = [];
    for await (const schedule of client.schedule.list()) schedules.push(schedule.scheduleId);
    assert.deepEqual(
      schedules.sort(),
      [
        DAILY_REPORT_SCHEDULE_ID,
        HOURLY_URGENT_CHECK_SCHEDULE_ID,
        NOTIFICATION_RETENTION_SCHEDULE_ID,
        REMINDER_AUDIT_SCHEDULE_ID,
      ].sort(),
    );
    await ensureSchedules(client, settings);
  });

  it('hourly check: alerts urgent dossiers flagged elsewhere and starts missing workflows, once', async () => {
    const today = DateTime.now().setZone('Europe/Paris');
    await db.query(`insert into users (id, name) values ('lea', 'Léa')`);
    await db.query(
      `insert into dossiers (id, title, owner_id, due_date, urgent, urgent_since, status) values
         ('d-urgent', 'Bilan urgent', 'lea', $1, true, null, 'open'),
         ('d-orphan', 'Sans workflow', 'lea', $2, false, null, 'open'),
         ('d-late', 'En retard', 'lea', $3, false, null, 'open'),
         ('d-done', 'Terminé', 'lea', $3, true, null, 'done')`,
      [
        today.plus({ days: 10 }).toISODate(),
        today.plus({ days: 5 }).toISODate(),
        today.minus({ days: 2 }).toISODate(),
      ],
    );

    const hourly = client.schedule.getHandle(HOURLY_URGENT_CHECK_SCHEDULE_ID);
    assert.deepEqual(await triggerAndWait(hourly), { alerted: 1, started: 3 });
    assert.equal(await countOf('new_alert', 'urgent'), 1);
    for (const id of ['d-urgent', 'd-orphan', 'd-late']) {
      const description = await client.workflow.getHandle(dossierWorkflowId(id)).describe();
      assert.equal(description.status.name, 'RUNNING', `${id}'s workflow runs`);
    }
    // The reconciled workflow plans from the database copy: the late one is alerted at once.
    await waitFor('the late dossier alerted', async () => (await countOf('new_alert', 'overdue')) === 1);
    const plan = await createDossierClient(client, { taskQueue }).plan('d-orphan');
    assert.deepEqual(
      plan.pending.map((reminder) => reminder.kind),
      ['j-1', 'j-0', 'overdue', 'overdue_critical'],
    );

    // Once visibility shows them running, a second run finds nothing to do.
    const dossiers = createDossierClient(client, { taskQueue });
    await waitFor(
      'visibility to list the workflows',
      async () => (await dossiers.runningDossierIds()).size === 3,
    );
    assert.deepEqual(await triggerAndWait(hourly), { alerted: 0, started: 0 });
    assert.equal(await countOf('new_alert', 'urgent'), 1);
    assert.equal(await countOf('new_alert', 'overdue'), 1);
  });

  it('daily report: one per user with something to report whose local 18:00 has come, once per local date', async () => {
    // A zone in which it is 18:xx now (Etc/GMT-N is UTC+N): Léa's report is due. The run may
    // start up to two hours later and still send it.
    const hoursAhead = ((((18 - DateTime.utc().hour + 12) % 24) + 24) % 24) - 12;
    const zone = hoursAhead === 0 ? 'Etc/GMT' : `Etc/GMT${hoursAhead > 0 ? '-' : '+'}${Math.abs(hoursAhead)}`;
    assert.equal(DateTime.utc().setZone(zone).hour, 18);
    await db.query(`update users set timezone = $1 where id = 'lea'`, [zone]);
    // Someone whose report is not due now (06:xx in their zone), with something to report.
    const elsewhere = hoursAhead - 12 >= -12 ? hoursAhead - 12 : hoursAhead + 12;
    const otherZone = `Etc/GMT${elsewhere > 0 ? '-' : '+'}${Math.abs(elsewhere)}`;
    await db.query(`insert into users (id, name, timezone) values ('max', 'Max', $1)`, [otherZone]);
    await db.query(
      `insert into dossiers (id, title, owner_id, due_date, urgent, status) values ('d-max', 'Max', 'max', '2027-01-01', true, 'open')`,
    );
    await db.query(`insert into users (id) values ('nobody')`);
    const daily = client.schedule.getHandle(DAILY_REPORT_SCHEDULE_ID);
    assert.deepEqual(await triggerAndWait(daily), { sent: 1 });
    const [report] = await db.query<{
      user_id: string;
      title: string;
      idempotency_key: string;
      data: { report: Record<string, Array<{ id: string }>> };
    }>(`select user_id, title, idempotency_key, data from notifications where type = 'daily_report'`);
    assert.equal(report?.user_id, 'lea');
    assert.equal(report?.idempotency_key, `daily:lea:${DateTime.utc().setZone(zone).toISODate()}`);
    assert.equal(report?.title, 'Rapport quotidien');
    assert.deepEqual(
      report?.data.report.overdue?.map((item) => item.id),
      ['d-late'],
    );
    assert.deepEqual(
      report?.data.report.urgent?.map((item) => item.id),
      ['d-urgent'],
    );
    assert.deepEqual(report?.data.report.dueToday, []);

    assert.deepEqual(await triggerAndWait(daily), { sent: 0 });
    assert.equal(await countOf('daily_report', 'report'), 1);
  });

  it('retention: a run removes the notifications older than a year, then nothing', async () => {
    await db.query(`insert into users (id, name) values ('ret', 'Retenu')`);
    await db.query(
      `insert into notifications (idempotency_key, user_id, type, kind, title, body, created_at) values
         ('ret-old', 'ret', 'dossier_update', 'updated', 't', 'b', now() - interval '400 days'),
         ('ret-recent', 'ret', 'dossier_update', 'updated', 't', 'b', now() - interval '300 days')`,
    );
    const retention = client.schedule.getHandle(NOTIFICATION_RETENTION_SCHEDULE_ID);
    assert.deepEqual(await triggerAndWait(retention), { removed: 1, complete: true });
    assert.deepEqual(
      (
        await db.query<{ key: string }>(
          `select idempotency_key as key from notifications where user_id = 'ret'`,
        )
      ).map((row) => row.key),
      ['ret-recent'],
    );
    assert.deepEqual(await triggerAndWait(retention), { removed: 0, complete: true });
  });
});
