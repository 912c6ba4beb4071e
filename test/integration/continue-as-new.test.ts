import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * A long-lived dossier continues as new when Temporal suggests it, carrying its state: the dev
 * server is told to suggest it after 30 history events instead of thousands.
 */

let env: TestWorkflowEnvironment;
let engine: ReminderEngine;

before(async () => {
  env = await createDevServerEnv(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=30']);
  engine = await startReminderEngine(env);
});
after(async () => {
  await engine?.close();
  await env?.teardown();
});

describe('continue-as-new (dev server)', () => {
  it(
    'continues as new under a long history, keeping the plan and sending nothing twice',
    { timeout: 60_000 },
    async () => {
      const id = 'long-lived';
      const due = DateTime.now().setZone('Europe/Paris').plus({ days: 20 }).toISODate()!;
      await engine.dossiers.create({ id, title: 'Dossier au long cours', ownerId: 'alice', dueDate: due });
      const handle = engine.client.workflow.getHandle(dossierWorkflowId(id));
      const firstRunId = (await handle.describe()).runId;
      const planBefore = await waitFor('the plan', () => engine.dossiers.plan(id));
      assert.equal(planBefore.pending.length, 5);

      const markings = 12;
      for (let index = 0; index < markings; index += 1) {
        await engine.dossiers.markUrgent(id);
        await engine.dossiers.unmarkUrgent(id);
      }
      const alerts = async () =>
        (await engine.notificationsOf(id)).filter((row) => row.kind === 'urgent').length;
      await waitFor(`${markings} urgent alerts`, async () => (await alerts()) === markings, {
        timeoutMs: 30_000,
      });
      const lastRunId = await waitFor('a new run', async () => {
        const { runId } = await handle.describe();
        return runId !== firstRunId && runId;
      });

      const firstRun = await engine.client.workflow.getHandle(dossierWorkflowId(id), firstRunId).describe();
      assert.equal(firstRun.status.name, 'CONTINUED_AS_NEW');
      const planAfter = await engine.dossiers.plan(id);
      assert.deepEqual(planAfter.pending, planBefore.pending, 'the armed reminders survive');
      assert.equal(planAfter.dossier.urgent, false);
      assert.equal(await alerts(), markings, 'no alert sent twice');
      assert.equal((await engine.notificationsOf(id)).filter((row) => row.kind === 'created').length, 1);

      await engine.dossiers.complete(id);
      assert.deepEqual(await engine.client.workflow.getHandle(dossierWorkflowId(id), lastRunId).result(), {
        dossierId: id,
        outcome: 'done',
      });
    },
  );
});
