import { randomBytes } from 'node:crypto';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { createActivities } from '../../activities/index.js';
import { createDossierClient } from '../../client/dossier-client.js';
import { loadConfig } from '../../config/config.js';
import { workflowsPath } from '../../worker/create-worker.js';
import { dossierWorkflowId, reminderPlanQuery } from '../../workflows/dossier-messages.js';
import { userProfileWorkflowId } from '../../workflows/user-profile-messages.js';
import { createTestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { DST_CHANGES } from './life-generator.js';
import type { Delivery, Life, LifeAction, LifeStep } from './life.js';
import type { Deadline } from './reference-model.js';

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

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
/** How long before a round's instant the driver stops the worker or makes a zone change. */
const LEAD_MS = 4000;
/** A timer firing this close after a round's instant is the model's "same instant". */
const TIE_WINDOW_MS = 10_000;
/** How long after the life's end the clock is moved (timers fire a few ms after their instant). */
const END_GRACE_MS = 1000;

/** A notification stored for the dossier; `at`: when the workflow sent it (reminders only). */
export interface ObservedDelivery {
  userId: string;
  type: Delivery['type'];
  kind: string;
  /** Workflow clock (the plan's `sentAt`), for reminders; notices and urgent alerts have none. */
  at?: number;
}

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

export const isReminder = (d: { type: string; kind: string }): boolean =>
  d.type === 'deadline_reminder' || (d.type === 'new_alert' && d.kind !== 'urgent');

// ---- Rebasing a generated life onto the server's clock ----

const offsetAt = (t: number, zone: string) => DateTime.fromMillis(t, { zone }).offset;
const DST_ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Sydney'];

/** The first instant (to the hour) from `from` on where `zone` goes from offset `before` to `after`. */
function nextChange(zone: string, before: number, after: number, from: number): number | undefined {
  for (let day = Math.floor(from / DAY) * DAY; day < from + 800 * DAY; day += DAY) {
    if (offsetAt(day, zone) !== before || offsetAt(day + DAY, zone) !== after) continue;
    let hour = day;
    while (offsetAt(hour, zone) === before) hour += HOUR;
    if (hour >= from) return hour;
  }
  return undefined;
}

/**
 * Whole days to add to a life so that it starts after `notBefore`: the fewest, except for a life
 * that starts near a DST change (the generator aims at them), which is moved onto the same change
 * (zone and direction) of a later year, so that it still crosses it at the same point.
 */
export function shiftDays(life: Life, notBefore: number): number {
  const fewest = Math.max(0, Math.ceil((notBefore - life.start) / DAY));
  const near = DST_CHANGES.filter((c) => life.start - c >= -12 * DAY && life.start - c <= 3 * DAY).sort(
    (a, b) => Math.abs(life.start - a) - Math.abs(life.start - b),
  )[0];
  if (near === undefined) return fewest;
  for (const zone of DST_ZONES) {
    const [before, after] = [offsetAt(near - HOUR, zone), offsetAt(near, zone)];
    if (before === after) continue;
    const target = nextChange(zone, before, after, near + (notBefore - life.start));
    if (target === undefined || (target - near) % DAY !== 0) return fewest;
    const days = (target - near) / DAY;
    // Far enough from the API's date limits (2099) however many lives run.
    const fits = life.start + days * DAY >= notBefore && life.end + days * DAY < Date.UTC(2090, 0, 1);
    return fits ? days : fewest;
  }
  return fewest;
}

/**
 * The life moved by `days` whole days (every instant, `dueAt`s by the same milliseconds, `dueDate`s
 * by the same number of days), its dossier and owner ids prefixed so that lives share nothing.
 */
export function rebaseLife(life: Life, days: number, prefix: string): Life {
  const shift = (ms: number) => ms + days * DAY;
  const owner = (id: string) => `${prefix}${id}`;
  // The generator spells every dueAt of a life in UTC or in u1's starting zone: so does the shift.
  const spellZone = life.owners.u1 ?? 'UTC';
  const deadline = (d: Deadline): Deadline => {
    if (d.dueDate !== undefined) {
      return { dueDate: DateTime.fromISO(d.dueDate, { zone: 'utc' }).plus({ days }).toISODate()! };
    }
    const ms = shift(Date.parse(d.dueAt));
    return {
      dueAt: d.dueAt.endsWith('Z')
        ? new Date(ms).toISOString()
        : DateTime.fromMillis(ms, { zone: spellZone }).toISO()!,
    };
  };
  const action = (a: LifeAction): LifeAction => {
    switch (a.type) {
      case 'upsert':
        return { ...a, ownerId: owner(a.ownerId), deadline: deadline(a.deadline) };
      case 'reschedule':
        return { ...a, deadline: deadline(a.deadline) };
      case 'assign':
      case 'ownerZone':
        return { ...a, ownerId: owner(a.ownerId) };
      default:
        return { ...a };
    }
  };
  return {
    label: `${life.label}, shifted ${days} days`,
    dossierId: `${prefix}${life.dossierId}`,
    start: shift(life.start),
    end: shift(life.end),
    owners: Object.fromEntries(Object.entries(life.owners).map(([id, zone]) => [owner(id), zone])),
    steps: life.steps.map((step) => ({ at: shift(step.at), action: action(step.action) })),
    outages: life.outages.map((o) => ({ from: shift(o.from), to: shift(o.to) })),
  };
}

/** Steps grouped by instant (the model's rounds), in order. */
function roundsOf(steps: LifeStep[]): Array<{ at: number; actions: LifeAction[] }> {
  const rounds: Array<{ at: number; actions: LifeAction[] }> = [];
  for (const { at, action } of steps) {
    const last = rounds[rounds.length - 1];
    if (last?.at === at) last.actions.push(action);
    else rounds.push({ at, actions: [action] });
  }
  return rounds;
}

// ---- The workflow's state, read from its history ----

const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;
const msOf = (t: Timestamp): number => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
const iso = (ms: number) => new Date(ms).toISOString();

interface RunState {
  runId: string;
  /** No workflow task and no activity outstanding: the run has done all it can until a signal or timer. */
  idle: boolean;
  /** When each open timer fires (server clock). */
  timers: number[];
  /** Why the run cannot go on (a workflow task failure, a failed run): a bug to report. */
  broken?: string;
  /** The last events, for a report. */
  tail: string[];
}

function runStateOf(runId: string, events: HistoryEvent[]): RunState {
  let openTasks = 0;
  const activities = new Set<number>();
  const timers = new Map<string, number>();
  let broken: string | undefined;
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        openTasks += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        openTasks -= 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        openTasks -= 1;
        broken = `workflow task failed: ${e.workflowTaskFailedEventAttributes?.failure?.message}`;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        activities.add(Number(e.eventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        activities.delete(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        activities.delete(Number(e.activityTaskFailedEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        activities.delete(Number(e.activityTaskTimedOutEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        activities.delete(Number(e.activityTaskCanceledEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const attributes = e.timerStartedEventAttributes;
        timers.set(attributes?.timerId ?? '', msOf(e.eventTime) + msOf(attributes?.startToFireTimeout));
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        timers.delete(e.timerFiredEventAttributes?.timerId ?? '');
        break;
      case EventType.EVENT_TYPE_TIMER_CANCELED:
        timers.delete(e.timerCanceledEventAttributes?.timerId ?? '');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        broken = `the run failed: ${e.workflowExecutionFailedEventAttributes?.failure?.message}`;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        timers.clear();
        break;
    }
  }
  const tail = events.slice(-12).map((e) => {
    const type = EventType[e.eventType ?? 0]?.replace(/^EVENT_TYPE_/, '') ?? String(e.eventType);
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    const signal = e.workflowExecutionSignaledEventAttributes?.signalName;
    const failure = e.activityTaskFailedEventAttributes?.failure?.message;
    return [iso(msOf(e.eventTime)), type, name, signal, failure].filter(Boolean).join(' ');
  });
  return {
    runId,
    tail,
    idle: openTasks === 0 && activities.size === 0,
    timers: [...timers.values()].sort((a, b) => a - b),
    ...(broken && { broken }),
  };
}

// ---- The driver ----

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

  async function runState(workflowId: string): Promise<RunState> {
    const handle = client.workflow.getHandle(workflowId);
    const { runId } = await handle.describe();
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    return runStateOf(runId, history.events ?? []);
  }

  /** Waits until the dossier's latest run has processed everything it was sent (no blind sleep). */
  async function settle(workflowId: string): Promise<RunState> {
    let last: RunState | undefined;
    return waitFor(
      `${workflowId} to process what it was sent`,
      async () => {
        if (workerError) throw new DriverError(`the worker stopped: ${String(workerError)}`);
        last = await runState(workflowId);
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

    // Reminders: their workflow-clock instant, from the plan of the run that stored them first.
    const sentAt = new Map<string, number>();
    for (const runId of runIds) {
      const plan = await client.workflow
        .getHandle(workflowId, runId)
        .query(reminderPlanQuery)
        .catch((error: Error) => {
          // A run that ended without a create (unknown dossier) has no plan.
          if (/not loaded yet/.test(error.message)) return undefined;
          throw error;
        });
      for (const sent of plan?.sent ?? []) {
        const ms = Date.parse(sent.sentAt);
        sentAt.set(sent.idempotencyKey, Math.min(ms, sentAt.get(sent.idempotencyKey) ?? ms));
      }
    }
    const rows = await db.query<{
      user_id: string;
      type: Delivery['type'];
      kind: string;
      idempotency_key: string;
    }>('select user_id, type, kind, idempotency_key from notifications where dossier_id = $1 order by id', [
      life.dossierId,
    ]);
    const deliveries = rows.map((row): ObservedDelivery => {
      const delivery = { userId: row.user_id, type: row.type, kind: row.kind };
      if (!isReminder(delivery)) return delivery;
      const at = sentAt.get(row.idempotency_key);
      if (at === undefined) throw new Error(`no run's plan shows when ${row.idempotency_key} was sent`);
      return { ...delivery, at };
    });

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

// ---- Comparing with the model ----

/** How far a reminder's instant may be from the model's: timers fire a few ms late. */
const TIMER_TOLERANCE_MS = 2000;
/** For a reminder at a round's instant (sent at once, or by a timer after the calls): processing time. */
const ROUND_TOLERANCE_MS = 5000;

const line = (d: { at?: number; userId: string; type: string; kind: string }) =>
  `${d.at === undefined ? '(untimed)               ' : iso(d.at)} ${d.userId} ${d.type}/${d.kind}`;

/**
 * The differences between the model's deliveries and the workflow's: notices and urgent alerts as
 * a multiset (their storage instant is not on the workflow clock); reminders one for one, with
 * their instants within a tolerance (a few ms for timers, a few s at a round's instant).
 */
export function differences(life: Life, expected: Delivery[], actual: ObservedDelivery[]): string[] {
  const problems: string[] = [];
  const rounds = new Set(life.steps.map((step) => step.at));
  const key = (d: { userId: string; type: string; kind: string }) => `${d.userId} ${d.type}/${d.kind}`;

  const untimed = (list: Array<{ userId: string; type: string; kind: string }>) =>
    list
      .filter((d) => !isReminder(d))
      .map(key)
      .sort();
  const [want, got] = [untimed(expected), untimed(actual)];
  if (want.join('\n') !== got.join('\n')) {
    problems.push(
      `notices and urgent alerts differ: model [${want.join(', ')}], workflow [${got.join(', ')}]`,
    );
  }

  const groups = new Map<string, { model: number[]; workflow: number[] }>();
  const group = (k: string) => groups.get(k) ?? groups.set(k, { model: [], workflow: [] }).get(k)!;
  for (const d of expected.filter(isReminder)) group(key(d)).model.push(d.at);
  for (const d of actual.filter(isReminder)) group(key(d)).workflow.push(d.at!);
  for (const [k, { model, workflow }] of groups) {
    model.sort((a, b) => a - b);
    workflow.sort((a, b) => a - b);
    if (model.length !== workflow.length) {
      problems.push(
        `${k}: the model sends ${model.length} (${model.map(iso).join(', ')}), ` +
          `the workflow ${workflow.length} (${workflow.map(iso).join(', ')})`,
      );
      continue;
    }
    model.forEach((at, i) => {
      const lag = workflow[i]! - at;
      const ok = rounds.has(at) ? Math.abs(lag) <= ROUND_TOLERANCE_MS : lag >= 0 && lag <= TIMER_TOLERANCE_MS;
      if (!ok) problems.push(`${k}: the model sends it at ${iso(at)}, the workflow at ${iso(workflow[i]!)}`);
    });
  }
  return problems;
}

/** Both lists, for a failure report. */
export function deliveryReport(expected: Delivery[], actual: ObservedDelivery[]): string[] {
  const byTime = (a: string, b: string) => a.localeCompare(b);
  return [
    'model:',
    ...expected
      .map(line)
      .sort(byTime)
      .map((l) => `  ${l}`),
    'workflow:',
    ...actual
      .map(line)
      .sort(byTime)
      .map((l) => `  ${l}`),
  ];
}
