import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { dossierWorkflowId, type ReminderPlanView } from '../../workflows/dossier-messages.js';
import { dossierLives, uniqueId } from './dossier-lives.js';
import { startReminderEngine, type NotificationRow, type ReminderEngine } from './reminder-engine.js';
import { createTimeSkippingEnv } from './temporal.js';

/**
 * What the dossier workflow tests share (dossier-workflow*.test.ts, dossier-engine-rules): the
 * time-skipping server with the real worker on a fresh database, each test's dossiers ended after
 * it, and helpers on their plans and rows.
 */
export interface DossierWorkflows {
  env: TestWorkflowEnvironment;
  engine: ReminderEngine;
}

export function useDossierWorkflows() {
  const stack = {} as DossierWorkflows;
  const lives = dossierLives(
    () => stack.engine,
    () => stack.env,
  );
  before(async () => {
    stack.env = await createTimeSkippingEnv();
    stack.engine = await startReminderEngine(stack.env);
  });
  // The clock is global to the test server: a workflow left running by a failed test would have
  // its timers fire, and move time, while a later test waits. Each test's workflows are ended
  // through the API (terminating one with a task in flight stalls the test server's clock).
  const startedDossiers: string[] = [];
  afterEach(async () => {
    for (const id of startedDossiers.splice(0)) {
      // One the test ended (completed, refused) is left as it is: a cancel would start a new run.
      const { status } = await stack.engine.client.workflow.getHandle(dossierWorkflowId(id)).describe();
      if (status.name !== 'RUNNING') continue;
      await stack.engine.dossiers.cancel(id);
      await lives.endOf(id);
    }
  });
  after(async () => {
    await stack.engine?.close();
    await stack.env?.teardown();
  });

  /** Ends the dossier `id` after the test, if it still runs. */
  const endAfterTest = (id: string): void => void startedDossiers.push(id);
  /** A dossier id ended after the test. */
  const newId = (label: string): string => {
    const id = uniqueId(label);
    endAfterTest(id);
    return id;
  };
  const planOf = (dossierId: string): Promise<ReminderPlanView> => stack.engine.dossiers.plan(dossierId);
  const advance = async (ms: number): Promise<void> => {
    await stack.env.sleep(ms);
  };
  return { stack, ...lives, newId, endAfterTest, planOf, advance };
}

export const reminderInstants = (rows: NotificationRow[]) =>
  rows
    .filter((row) => row.type !== 'dossier_update')
    .map((row) => [row.kind, row.scheduled_for?.toISOString()]);

/** Each sent reminder fired at its instant on the workflow clock, not in a late burst. */
export function assertFiredOnTime(plan: ReminderPlanView): void {
  for (const sent of plan.sent) {
    const lateness = Date.parse(sent.sentAt) - Date.parse(sent.dueInstant);
    assert.ok(
      lateness >= 0 && lateness < 60_000,
      `${sent.kind} fired ${lateness} ms after ${sent.dueInstant}`,
    );
  }
}
