import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, type ScheduleHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { createDossierClient } from '../client/dossier-client.js';
import {
  DAILY_REPORT_SCHEDULE_ID,
  ensureSchedules,
  HOURLY_URGENT_CHECK_SCHEDULE_ID,
} from '../client/schedules.js';
import { loadConfig } from '../config/config.js';
import { dossierWorkflowId } from '../workflows/dossier-messages.js';
import { createNotifyWorker } from '../worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createDevServerEnv } from './support/temporal.js';
import { waitFor } from './support/wait.js';

/**
 * The Temporal Schedules against the real dev server, with a real worker and PostgreSQL:
 * created idempotently with the right spec and zone, and triggering them alerts and reports
 * once; a second trigger adds nothing.
 */

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `schedules-${randomBytes(4).toString('hex')}`;
const settings = { taskQueue, timeZone: 'Europe/Paris', dailyReport: { hour: 18, minute: 0 } };

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

    const daily = await client.schedule.getHandle(DAILY_REPORT_SCHEDULE_ID).describe();
    assert.deepEqual(daily.spec.calendars?.[0]?.hour, [{ start: 18, end: 18, step: 1 }]);
    assert.deepEqual(daily.spec.calendars?.[0]?.minute, [{ start: 0, end: 0, step: 1 }]);
    assert.equal(daily.spec.timezone, 'Europe/Paris');
    // The next 18:00 run, in Paris time.
    const next = DateTime.fromJSDate(daily.info.nextActionTimes[0]!, { zone: 'Europe/Paris' });
    assert.equal(next.toFormat('HH:mm'), '18:00');

    await ensureSchedules(client, {
      ...settings,
      timeZone: 'America/New_York',
      dailyReport: { hour: 17, minute: 30 },
    });
    const moved = await client.schedule.getHandle(DAILY_REPORT_SCHEDULE_ID).describe();
    assert.equal(moved.spec.timezone, 'America/New_York');
    assert.deepEqual(moved.spec.calendars?.[0]?.hour, [{ start: 17, end: 17, step: 1 }]);
    const schedules: string[] = [];
    for await (const schedule of client.schedule.list()) schedules.push(schedule.scheduleId);
    assert.deepEqual(schedules.sort(), [DAILY_REPORT_SCHEDULE_ID, HOURLY_URGENT_CHECK_SCHEDULE_ID]);
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

  it('18:00 report: one per user with something to report, once per local date', async () => {
    await db.query(`insert into users (id) values ('nobody')`);
    const daily = client.schedule.getHandle(DAILY_REPORT_SCHEDULE_ID);
    assert.deepEqual(await triggerAndWait(daily), { sent: 1 });
    const [report] = await db.query<{
      user_id: string;
      title: string;
      data: { report: Record<string, Array<{ id: string }>> };
    }>(`select user_id, title, data from notifications where type = 'daily_report'`);
    assert.equal(report?.user_id, 'lea');
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
});
