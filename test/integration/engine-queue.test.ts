import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { dossierLives, kinds, uniqueId } from '../support/dossier-lives.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * Events queued while the workers are down (a deploy, a crash, the 08:00 backlog) against the
 * reminders that fell due meanwhile, on the dev server in real time: a dossier's `overdue` alert
 * is set a few seconds ahead with `dueAt`, the worker is stopped, a call is made before that
 * instant, and the worker comes back after it. The state that holds when the alert is actually
 * sent wins: queued events apply first (docs/reminders.md).
 */

let env: TestWorkflowEnvironment;
let engine: ReminderEngine;
const { rowsOnceSettled, endOf } = dossierLives(
  () => engine,
  () => env,
);

before(async () => {
  env = await createDevServerEnv();
  engine = await startReminderEngine(env);
});
after(async () => {
  await engine?.close();
  await env?.teardown();
});

/** Waits (real time) until the instant has passed. */
const until = (instant: number) =>
  waitFor(`${new Date(instant).toISOString()} has passed`, async () => Date.now() > instant, {
    timeoutMs: 60_000,
  });

/** A dossier due a few seconds from now, created and announced, with its worker then stopped. */
async function dueSoonWithWorkerDown(label: string, ownerId = 'alice') {
  const id = uniqueId(label);
  const dueAt = Date.now() + 6_000;
  await engine.dossiers.create({ id, title: label, ownerId, dueAt: new Date(dueAt).toISOString() });
  await rowsOnceSettled(id, 1);
  await engine.stopWorker();
  return { id, dueAt };
}

describe('events queued while the workers are down apply before the reminders due meanwhile (dev server)', () => {
  it('a complete queued before the deadline stops its overdue alert', async () => {
    const { id, dueAt } = await dueSoonWithWorkerDown('complete-queued');
    await engine.dossiers.complete(id);
    await until(dueAt + 1_000);
    await engine.startWorker();
    assert.equal((await endOf(id)).outcome, 'done');
    assert.deepEqual(kinds(await engine.notificationsOf(id)), [
      'dossier_update/created',
      'dossier_update/completed',
    ]);
  });

  it("a reschedule queued before the deadline stops the old date's overdue alert", async () => {
    const { id, dueAt } = await dueSoonWithWorkerDown('reschedule-queued');
    const later = new Date(dueAt + 30 * 24 * 3600 * 1000).toISOString();
    await engine.dossiers.reschedule(id, { dueAt: later });
    await until(dueAt + 1_000);
    await engine.startWorker();
    const rows = await rowsOnceSettled(id, 2);
    assert.deepEqual(kinds(rows), ['dossier_update/created', 'dossier_update/rescheduled']);
    const plan = await engine.dossiers.plan(id);
    assert.equal(plan.dossier.dueAt, later);
    assert.ok(plan.sent.every((reminder) => reminder.kind !== 'overdue'));
    await engine.dossiers.cancel(id);
    await endOf(id);
  });

  it('an assign queued before the deadline sends its overdue alert to the new owner', async () => {
    const { id, dueAt } = await dueSoonWithWorkerDown('assign-queued');
    await engine.dossiers.assign(id, 'bob');
    await until(dueAt + 1_000);
    await engine.startWorker();
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(
      rows.map((row) => [row.kind, row.user_id]),
      [
        ['created', 'alice'],
        ['assigned', 'bob'],
        ['overdue', 'bob'],
      ],
    );
    await engine.dossiers.cancel(id);
    await endOf(id);
  });
});
