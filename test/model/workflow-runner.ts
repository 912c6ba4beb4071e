// The driver: runs a life through the real dossier workflow on the time-skipping server, in the model's order.
import { randomBytes } from 'node:crypto';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { createDossierClient } from '../../client/dossier-client.js';
import { loadConfig } from '../../config/config.js';
import { workflowsPath } from '../../worker/create-worker.js';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { userProfileWorkflowId } from '../../workflows/user-profile-messages.js';
import { createTestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import type { Life, LifeAction } from './life.js';
import { storedDeliveries, type ObservedDelivery } from './workflow-deliveries.js';
import { iso, runState, type RunState } from './workflow-history.js';
import { roundsOf } from './workflow-rebase.js';

export { deliveryReport, differences } from './workflow-compare.js';
export { isReminder, type ObservedDelivery } from './workflow-deliveries.js';
export { rebaseLife, shiftDays } from './workflow-rebase.js';

/**
 * Runs random dossier lives through the REAL dossier workflow on Temporal's time-skipping test
 * server, with the real activities and PostgreSQL: a few dozen of the model's random lives must
 * give exactly what the model gives through the real workflow too, not only through the engine.
 *
 * The server's clock starts at the real current time, only moves forward, and also runs at wall
 * speed between skips, so the driver has to place each call so that the workflow sees the order
 * the model defines ("calls made by an instant apply before the reminders due at it"):
 * - a round (the calls of one instant T) is normally sent at T, once the clock got there;
 * - when a timer of the dossier fires at T too (a reminder, or the end of the wait for a create),
 *   or when the round has several calls (the model applies them all before any reminder), the
 *   worker is stopped just before T, the clock moved to T, the calls sent, and the worker started
 *   again: the workflow then gets the calls (and the timer) in one activation, calls first;
 * - a time-zone change goes through `updateUserProfile` (the user-profile workflow), a few seconds
 *   before T when a timer fires at T; in a round that also has dossier calls (the model applies
 *   the zone first), the user-profile workflow's two activities are run by the driver while the
 *   worker is down, so that the dossier gets the zone change queued before the calls.
 * Lives must have no worker outages (the server does not skip time while a workflow task waits).
 */

/** How long before a round's instant the driver stops the worker or makes a zone change. */
const LEAD_MS = 4000;
/** A timer firing this close after a round's instant is the model's "same instant". */
const TIE_WINDOW_MS = 10_000;
/** How long after the life's end the clock is moved (timers fire a few ms after their instant). */
const END_GRACE_MS = 1000;

export interface LifeStats {
  rounds: number;
  /** Rounds sent with the worker stopped (several calls, or a timer at the same instant). */
  batched: number;
  /** Workflow runs the life went through (a call after done/cancelled starts a new one). */
  runs: number;
}

export interface WorkflowLives {
  /** The test server's clock. */
  now(): Promise<number>;
  /** Runs a life (already rebased after `now()`) and returns what the dossier's workflows stored. */
  run(life: Life): Promise<{ deliveries: ObservedDelivery[]; stats: LifeStats }>;
  close(): Promise<void>;
}

/** A problem of the driver (the server's timing), not a difference between workflow and model. */
export class DriverError extends Error {
  override name = 'DriverError';
}

/** A worker like worker/create-worker.ts's, on a workflow bundle made once (restarts take ~0.1 s, not 2). */
export async function startWorkflowLives(env: TestWorkflowEnvironment): Promise<WorkflowLives> {
  const namespace = env.namespace ?? 'default';
  const db = await createTestDatabase();
  const taskQueue = `lives-${randomBytes(4).toString('hex')}`;
  // A plain client: the test environment's own one unlocks time skipping whenever it awaits a result.
  const client = new Client({ connection: env.connection, namespace });
  const activities = createActivities({
    orm: db.orm,
    temporal: { client, taskQueue },
    config: loadConfig({}),
  });
  const dossiers = createDossierClient(client, { taskQueue });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });

  let worker: { instance: Worker; running: Promise<void> } | undefined;
  let workerError: unknown;
  const startWorker = async () => {
    const instance = await Worker.create({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      workflowBundle,
      activities,
      shutdownGraceTime: '10 seconds',
      // No cache, so no sticky task queue: the test server never moves a workflow task queued on
      // a stopped worker's sticky queue back to the normal one (every task replays the history).
      maxCachedWorkflows: 0,
    });
    worker = { instance, running: instance.run().catch((error: unknown) => void (workerError = error)) };
  };
  const stopWorker = async () => {
    worker?.instance.shutdown();
    await worker?.running;
    worker = undefined;
  };
  await startWorker();

  /** Runs an activity of the service outside a worker, as its workflow would. */
  const activity = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    new MockActivityEnvironment().run(fn, ...args);

  /** Waits until the dossier's latest run has processed everything it was sent (no blind sleep). */
  async function settle(workflowId: string): Promise<RunState> {
    let last: RunState | undefined;
    return waitFor(
      `${workflowId} to process what it was sent`,
      async () => {
        if (workerError) throw new DriverError(`the worker stopped: ${String(workerError)}`);
        last = await runState(client, workflowId);
        if (last.broken) throw new Error(`${workflowId}: ${last.broken}`);
        return last.idle && last;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    ).catch((error: Error) => {
      const history = last ? `\nlast events of run ${last.runId}:\n  ${last.tail.join('\n  ')}` : '';
      throw new Error(`${error.message}${history}`, { cause: error.cause ?? error });
    });
  }

  /** The users' profile workflows (`user:<id>`) have ended: nothing is left to tell a dossier. */
  async function profilesSettled(userIds: string[]): Promise<void> {
    const running = async (userId: string) => {
      const handle = client.workflow.getHandle(userProfileWorkflowId(userId));
      try {
        return (await handle.describe()).status.name === 'RUNNING';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    };
    await waitFor(
      "the owners' profile workflows to end",
      async () => (await Promise.all(userIds.map(running))).every((busy) => !busy),
      { timeoutMs: 30_000, intervalMs: 20 },
    );
  }

  async function sleepTo(instant: number): Promise<void> {
    const ms = instant - (await env.currentTimeMs());
    if (ms > 0) await env.sleep(ms);
  }

  async function call(dossierId: string, action: Exclude<LifeAction, { type: 'ownerZone' }>): Promise<void> {
    const profile = (zone: string | undefined) => (zone === undefined ? undefined : { timezone: zone });
    const opts = { eventId: action.eventId };
    switch (action.type) {
      case 'upsert': {
        const { eventId, title, ownerId, deadline, urgent, ownerTimeZone } = action;
        const owner = profile(ownerTimeZone);
        await dossiers.update({
          id: dossierId,
          title,
          ownerId,
          ...deadline,
          ...(urgent !== undefined && { urgent }),
          ...(owner && { owner }),
          eventId,
        });
        return;
      }
      case 'reschedule':
        await dossiers.reschedule(dossierId, action.deadline, opts);
        return;
      case 'assign':
        await dossiers.assign(dossierId, action.ownerId, profile(action.ownerTimeZone), opts);
        return;
      default:
        await dossiers[action.type](dossierId, opts);
    }
  }

  async function run(life: Life): Promise<{ deliveries: ObservedDelivery[]; stats: LifeStats }> {
    if (life.outages.length > 0) throw new DriverError('lives with worker outages cannot run here');
    if (life.start <= (await env.currentTimeMs())) throw new DriverError('the life starts in the past');
    const workflowId = dossierWorkflowId(life.dossierId);
    const stats: LifeStats = { rounds: 0, batched: 0, runs: 0 };
    const runIds = new Set<string>();
    // Each owner's zone at the start, as the model's.
    for (const [userId, timezone] of Object.entries(life.owners)) {
      await activity(activities.saveUserProfile, { userId, profile: { timezone } });
    }
    /** Whether a dossier call was made (its workflow exists from then on). */
    let started = false;
    const owners = Object.keys(life.owners);
    const settled = async (): Promise<RunState | undefined> => {
      if (!started) return undefined;
      await settle(workflowId);
      // A dossier call that changed a profile hands its announcement to the user's workflow.
      await profilesSettled(owners);
      const state = await settle(workflowId);
      runIds.add(state.runId);
      return state;
    };
    /** updateUserProfile, then its user-profile workflow's end, then the dossier's processing. */
    const changeZones = async (zones: Map<string, string>) => {
      for (const [ownerId, timezone] of zones) await dossiers.updateUserProfile(ownerId, { timezone });
      for (const ownerId of zones.keys())
        await client.workflow.getHandle(userProfileWorkflowId(ownerId)).result();
      await settled();
    };

    for (const round of roundsOf(life.steps)) {
      stats.rounds += 1;
      const at = round.at;
      // A dossier reads its owner's zone when it processes the change: the round's last one counts.
      const zones = new Map<string, string>();
      const calls: Array<Exclude<LifeAction, { type: 'ownerZone' }>> = [];
      for (const action of round.actions) {
        if (action.type !== 'ownerZone') {
          calls.push(action);
        } else {
          zones.delete(action.ownerId);
          zones.set(action.ownerId, action.timeZone);
        }
      }
      await sleepTo(at - LEAD_MS);
      const timers = (await settled())?.timers ?? [];
      const early = timers.find((t) => t < at);
      if (early !== undefined) {
        throw new DriverError(
          `a timer fires at ${iso(early)}, less than ${LEAD_MS} ms before the round at ${iso(at)}: ` +
            'the driver cannot order them as the model does on this server',
        );
      }
      const tie = timers.find((t) => t <= at + TIE_WINDOW_MS);

      if (calls.length === 0) {
        // Only zone changes: now (before the timer of the same instant), or at the round's instant.
        if (tie === undefined) await sleepTo(at);
        await changeZones(zones);
        const now = await env.currentTimeMs();
        if (tie !== undefined && now >= tie) {
          throw new DriverError(`the zone change of ${iso(at)} was still running when its timer fired`);
        }
        continue;
      }
      if (calls.length === 1 && zones.size === 0 && tie === undefined) {
        await sleepTo(at);
        await call(life.dossierId, calls[0]!);
        started = true;
        await settled();
        continue;
      }
      // Calls first, all of them, then the timers of the same instant: one activation.
      stats.batched += 1;
      await stopWorker();
      if (tie !== undefined && (await env.currentTimeMs()) >= tie) {
        throw new DriverError(`the worker was still up at ${iso(tie)}, when a timer of the round fired`);
      }
      await sleepTo(at);
      for (const [userId, timezone] of zones) {
        // The user-profile workflow's body (workflows/user-profile-workflow.ts), run while the worker is down.
        const { changed } = await activity(activities.saveUserProfile, { userId, profile: { timezone } });
        if (changed) await activity(activities.announceOwnerProfile, { ownerId: userId });
      }
      for (const action of calls) await call(life.dossierId, action);
      started = true;
      await startWorker();
      await settled();
    }
    await sleepTo(life.end + END_GRACE_MS);
    await settled();
    const deliveries = await storedDeliveries(client, db, workflowId, life.dossierId, runIds);

    // End the life's run, so that its timers do not fire while the next life runs.
    if (started) {
      const handle = client.workflow.getHandle(workflowId);
      if ((await handle.describe()).status.name === 'RUNNING') {
        await handle.cancel();
        await waitFor(
          `${workflowId} to end`,
          async () => (await handle.describe()).status.name !== 'RUNNING',
        );
      }
    }
    stats.runs = runIds.size;
    return { deliveries, stats };
  }

  return {
    now: () => env.currentTimeMs(),
    run,
    async close() {
      await stopWorker();
      await db.drop();
    },
  };
}
