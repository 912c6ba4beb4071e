import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NotificationLabels } from '../../activities/dependencies.js';
import { createPeriodicJobActivities } from '../../activities/periodic-job-activities.js';
import {
  createReminderAuditActivities,
  type AuditProgress,
} from '../../activities/reminder-audit-activities.js';
import { ensureSchedules, REMINDER_AUDIT_SCHEDULE_ID } from '../../client/schedules.js';
import { loadConfig } from '../../config/config.js';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import {
  startReminderEngine,
  WITHOUT_BUSINESS_DAYS,
  type ReminderEngine,
} from '../support/reminder-engine.js';
import { inActivity } from '../support/activity-context.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * The reminder audit on real components (dev server, real worker, PostgreSQL): reminders that
 * fire for real (`dueAt` a few seconds ahead), then a loss made on purpose (a row deleted, a
 * workflow terminated before its instant), and the audit restoring each exactly once, late,
 * with the workflow's own key, while a workflow working through its queue is left to it.
 */

// j-N at 00:00 (Paris): today's j-0 of a deadline set now has passed, so the rules skip it.
const AUDIT_ENV = {
  ...WITHOUT_BUSINESS_DAYS,
  REMINDER_AUDIT_GRACE: 'PT1S',
  REMINDER_AUDIT_LOOKBACK: 'PT26H',
  REMINDER_TIME: '00:00',
};
let env: TestWorkflowEnvironment;
let engine: ReminderEngine;
/** What the audit counted: `missed` (once per reminder) and `finding` (at each run). */
const missedCounts: Array<NotificationLabels & ({ outcome: string } | { finding: string })> = [];

before(async () => {
  env = await createDevServerEnv();
  engine = await startReminderEngine(env, AUDIT_ENV);
});
after(async () => {
  await engine?.close();
  await env?.teardown();
});

/** The audit activity as the worker builds it, run in an activity context; counts what it reports. */
async function audit() {
  const activities = createReminderAuditActivities({
    orm: engine.db.orm,
    temporal: { client: engine.client, taskQueue: engine.taskQueue },
    config: loadConfig(AUDIT_ENV),
    metrics: {
      stored: () => {},
      duplicateSkipped: () => {},
      reminderMissed: (labels) => missedCounts.push(labels),
      auditFinding: (labels) => missedCounts.push(labels),
    },
  });
  return (await inActivity(activities.auditReminders, { at: new Date().toISOString() })) as AuditProgress;
}

/** The hourly reconciliation, run once now: restarts the dossier workflows that should run. */
const reconcile = () =>
  inActivity(
    createPeriodicJobActivities({
      orm: engine.db.orm,
      temporal: { client: engine.client, taskQueue: engine.taskQueue },
      config: loadConfig(AUDIT_ENV),
    }).reconcileDossierWorkflows,
  ) as Promise<{ started: number }>;

const rowsOf = (dossierId: string, kind: string) =>
  engine.db.query<{ id: string; data: { late?: boolean }; scheduled_for: Date }>(
    'select id::text, data, scheduled_for from notifications where dossier_id = $1 and kind = $2',
    [dossierId, kind],
  );

/** Creates a dossier due `seconds` from now and waits for its workflow to store the creation notice. */
async function dueSoon(id: string, seconds: number): Promise<string> {
  const dueAt = new Date(Date.now() + seconds * 1000).toISOString();
  await engine.dossiers.create({ id, title: `Dossier ${id}`, ownerId: 'audited', dueAt });
  await waitFor(`${id} created`, async () => (await engine.notificationsOf(id)).length > 0, {
    timeoutMs: 20_000,
  });
  return dueAt;
}

describe('reminder audit (dev server, real worker and PostgreSQL)', () => {
  it('restores a deleted reminder once, late, with its own key; its schedule runs it', async () => {
    const dueAt = await dueSoon('audit-deleted', 2);
    await waitFor('the overdue alert', async () => (await rowsOf('audit-deleted', 'overdue')).length === 1, {
      timeoutMs: 20_000,
    });
    await engine.db.query(
      `delete from notifications where dossier_id = 'audit-deleted' and kind = 'overdue'`,
    );
    // Past the grace (1 s) after the instant.
    await waitFor('the grace', async () => Date.now() > Date.parse(dueAt) + 1500);

    // Through the schedule, as in production: the worker runs the audit workflow.
    await ensureSchedules(engine.client, {
      taskQueue: engine.taskQueue,
      timeZone: 'Europe/Paris',
      dailyReport: { hour: 18, minute: 0 },
      dailyReportCatchUpWindow: 'PT2H',
    });
    const schedule = engine.client.schedule.getHandle(REMINDER_AUDIT_SCHEDULE_ID);
    await schedule.trigger();
    const run = await waitFor('the audit run', async () =>
      (await schedule.describe()).info.recentActions.at(-1),
    );
    const result = await engine.client.workflow.getHandle(run.action.workflow.workflowId).result();
    assert.deepEqual(result, { missing: 1, restored: 1 });

    const restored = await rowsOf('audit-deleted', 'overdue');
    assert.equal(restored.length, 1);
    assert.equal(restored[0]!.data.late, true, 'marked late');
    assert.equal(restored[0]!.scheduled_for.toISOString(), dueAt, 'planned for the deadline');
    // A second run finds it: nothing twice.
    const again = await audit();
    assert.equal(again.missing, 0);
    assert.equal((await rowsOf('audit-deleted', 'overdue')).length, 1);
  });

  it('sends the reminder of a workflow terminated before its instant, once, even after reconciliation restarts it', async () => {
    const dueAt = await dueSoon('audit-terminated', 4);
    await engine.client.workflow
      .getHandle(dossierWorkflowId('audit-terminated'))
      .terminate('operator mistake');
    await waitFor('the instant and the grace', async () => Date.now() > Date.parse(dueAt) + 1500);
    assert.equal((await rowsOf('audit-terminated', 'overdue')).length, 0, 'lost: no workflow to send it');

    missedCounts.length = 0;
    const result = await audit();
    assert.equal(result.restored, 1);
    assert.deepEqual(missedCounts, [{ type: 'new_alert', kind: 'overdue', outcome: 'restored' }]);
    assert.equal((await rowsOf('audit-terminated', 'overdue')).length, 1);

    // The hourly reconciliation restarts the workflow, which finds the dossier late and sends
    // `overdue` at once, under the same key: still one.
    const { started } = await reconcile();
    assert.ok(started >= 1);
    const plan = await waitFor('the restarted workflow to plan', async () => {
      const view = await engine.dossiers.plan('audit-terminated');
      return view.sent.some((sent) => sent.kind === 'overdue') && view;
    });
    assert.ok(plan);
    assert.equal((await rowsOf('audit-terminated', 'overdue')).length, 1, 'nothing twice');
  });

  it('never sends what no run armed: a row whose plan stamp is stale owes a reminder the rules skipped', async () => {
    // The j-0 of a deadline set after that day's reminder time is skipped (docs/reminders.md). The
    // rows are made to say otherwise, as a write outside the API or a skewed clock could: the
    // plan stamp moved back before the j-0 instant.
    const dueAt = await dueSoon('audit-stale-stamp', 60);
    const jZero = `reminder:audit-stale-stamp:${new Date(dueAt).toISOString()}:j-0`;
    const plan = await engine.dossiers.plan('audit-stale-stamp');
    assert.ok(!plan.pending.some((reminder) => reminder.kind === 'j-0'), 'the engine skipped j-0');
    await engine.db.query(
      `update dossiers set planned_at = date_trunc('day', now()) - interval '1 day' where id = 'audit-stale-stamp'`,
    );
    const [row] = await engine.db.query<{ updated: Date }>(
      `select updated_at as updated from dossiers where id = 'audit-stale-stamp'`,
    );
    await waitFor('the grace after the last write', async () => Date.now() > row!.updated.getTime() + 1500);
    missedCounts.length = 0;
    const result = await audit();
    assert.ok(result.notArmed >= 1, `the rows owed j-0: ${JSON.stringify(result)}`);
    assert.deepEqual(
      await engine.db.query('select 1 from notifications where idempotency_key = $1', [jZero]),
      [],
      'nothing sent',
    );
    assert.deepEqual(missedCounts, []);
  });

  it('does not restore what a terminated run had armed when a call it never applied may have stopped it', async () => {
    const dueAt = await dueSoon('audit-terminated-queued', 4);
    await engine.stopWorker();
    try {
      // Done before the deadline, while no worker ran; then the run is terminated: the complete
      // never applied, the dossier stays open in its row, and the run still shows overdue armed.
      await engine.dossiers.complete('audit-terminated-queued');
      await engine.client.workflow
        .getHandle(dossierWorkflowId('audit-terminated-queued'))
        .terminate('mistake');
    } finally {
      await engine.startWorker();
    }
    await waitFor('the instant and the grace', async () => Date.now() > Date.parse(dueAt) + 1500);
    missedCounts.length = 0;
    const result = await audit();
    assert.equal(result.restored, 0, JSON.stringify(result));
    assert.deepEqual(missedCounts, [{ type: 'new_alert', kind: 'overdue', finding: 'unanswered' }]);
    assert.equal((await rowsOf('audit-terminated-queued', 'overdue')).length, 0);
  });

  it('leaves a missing reminder to a workflow working through its queue: a complete queued during an outage wins', async () => {
    const dueAt = await dueSoon('audit-queued', 4);
    await engine.stopWorker();
    try {
      await waitFor('the instant and the grace', async () => Date.now() > Date.parse(dueAt) + 1500);
      // Done while no worker ran: queued, it must apply before the due `overdue`.
      await engine.dossiers.complete('audit-queued');
      const result = await audit();
      // Left to the workflow (with any other dossier whose reminder fell due while it is down).
      assert.ok(result.deferred >= 1, 'left to the workflow');
      assert.equal(result.restored, 0);
      assert.equal((await rowsOf('audit-queued', 'overdue')).length, 0);
    } finally {
      await engine.startWorker();
    }
    await waitFor('the dossier done', async () => {
      const rows = await engine.db.query<{ status: string }>(
        `select status from dossiers where id = 'audit-queued'`,
      );
      return rows[0]?.status === 'done';
    });
    const after = await audit();
    assert.equal(after.restored, 0, 'a done dossier owes nothing');
    assert.equal((await rowsOf('audit-queued', 'overdue')).length, 0, 'the complete won');
  });

  it('marks late what its own workflow stores past the grace: a run restarted by the hourly check', async () => {
    // The hourly check (at :00) may restart a terminated run before the audit (at :30) looks:
    // the new run sends the reminder, hours late, under its key, and the audit finds nothing
    // missing. The user must still be told it is late, and ops see it counted.
    const dueAt = await dueSoon('audit-restarted', 3);
    await engine.client.workflow
      .getHandle(dossierWorkflowId('audit-restarted'))
      .terminate('operator mistake');
    await waitFor('the instant and the grace', async () => Date.now() > Date.parse(dueAt) + 1500);
    await reconcile();
    const [row] = await waitFor('the restarted run to send it', async () => {
      const rows = await rowsOf('audit-restarted', 'overdue');
      return rows.length === 1 && rows;
    });
    assert.equal(row!.data.late, true, 'stored past its grace: marked late');
    missedCounts.length = 0;
    const result = await audit();
    assert.equal(result.restored, 0, 'not missing: nothing restored');
  });
});
