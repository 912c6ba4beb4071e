import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setDefaultSignalHandler,
  sleep,
  type LocalActivityFunctionWithOptions,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DossierActivities } from '../activities/index.js';
import { DossierEngine, RejectedInput, type DossierEffects } from '../domain/dossier-engine.js';
import { INVALID_DATA_FAILURE } from '../domain/failures.js';
import {
  assignSignal,
  cancelSignal,
  completeSignal,
  markUrgentSignal,
  ownerProfileChangedSignal,
  reminderPlanQuery,
  reopenSignal,
  rescheduleSignal,
  syncSignal,
  unmarkUrgentSignal,
  upsertDossierSignal,
  type DossierEvent,
  type DossierWorkflowInput,
  type PlainEvent,
  type DossierWorkflowResult,
} from './dossier-messages.js';
import { notificationSummary, showDossierState, showNotCreated, timerSummary } from './dossier-visibility.js';
import { databaseRetry } from './activity-retry.js';
import { dossierWorkflowV1 } from './legacy/dossier-workflow-v1.js';

/** Each signal's event type. */
const eventTypes = new Map<string, DossierEvent['type']>([
  [upsertDossierSignal.name, 'upsert'],
  [rescheduleSignal.name, 'reschedule'],
  [assignSignal.name, 'assign'],
  [markUrgentSignal.name, 'markUrgent'],
  [unmarkUrgentSignal.name, 'unmarkUrgent'],
  [completeSignal.name, 'complete'],
  [cancelSignal.name, 'cancel'],
  [reopenSignal.name, 'reopen'],
  [syncSignal.name, 'sync'],
  [ownerProfileChangedSignal.name, 'ownerProfileChanged'],
]);

/** The patch that moved the dossier's rules into domain/dossier-engine.ts (runs before it replay v1). */
export const DOSSIER_ENGINE_V2 = 'dossier-engine-v2';

/**
 * The patch that runs the dossier's reads and deliveries as local activities: the worker runs
 * them inside the workflow task and records one marker each, instead of three events, an
 * activity task and a second workflow task. A reminder then costs one workflow task
 * (docs/bench/herd.md measures it). A local activity runs again if its workflow task fails, so
 * only those whose effect is the same when repeated later qualify: reads, and deliveries (their
 * keys come from the history, never from the clock of the task). Saves stay regular activities.
 * Runs started before the patch keep regular activities throughout.
 */
export const DOSSIER_LOCAL_ACTIVITIES = 'dossier-local-activities';

const activityOptions = { startToCloseTimeout: '30 seconds', retry: databaseRetry };

const remoteActivities = proxyActivities<DossierActivities>(activityOptions);
// A few quick attempts inside the workflow task, then the same call as a regular activity
// (`local` below), which retries durably. Unbounded local retries would hold the task (and a
// worker slot) for the whole of a database outage and grow the history with each heartbeat:
// the SDK moves to timers only once a backoff exceeds localRetryThreshold, which the one-minute
// maximumInterval never does.
const localActivities = proxyLocalActivities<DossierActivities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '20 seconds',
  retry: { ...databaseRetry, maximumAttempts: 3 },
});

/**
 * One long-lived workflow per dossier (id `dossier:<dossierId>`). It sleeps on a durable timer
 * until the next reminder and wakes early when a signal queues an event; the rules live in
 * `DossierEngine` (domain/dossier-engine.ts), which this workflow runs with activities and the
 * workflow clock. It ends when the dossier is done or cancelled; a later call starts a new run
 * from the database copy. After each round it shows its state in Temporal's visibility.
 * Runs started before the engine (no `dossier-engine-v2` marker) go on with the frozen v1 code.
 */
export async function dossierWorkflow(input: DossierWorkflowInput): Promise<DossierWorkflowResult> {
  // Decided once, before any command: a history without the marker replays v1 whole.
  if (!patched(DOSSIER_ENGINE_V2)) return dossierWorkflowV1(input);
  // Local activities are OFF (docs/performance.md, "Local activities: built, switched off"). The
  // SDK's core (1.24) drops a run's local activities when it evicts the run from a full cache (an
  // 08:00 herd larger than the cache: workflow tasks time out and replay), a call that arrives
  // during a local delivery applies only after the next due reminder, and a slow database runs a
  // local delivery three times. They never shipped: turning them on takes a new patch id, decided
  // here like dossier-engine-v2 (`patched(DOSSIER_LOCAL_ACTIVITIES)`).
  const local = false;

  const { dossierId } = input;
  const engine: DossierEngine = new DossierEngine(
    dossierId,
    temporalEffects(dossierId, { local }, () => engine.view().timeZone),
  );
  // One handler for every signal, not one per signal type: signals that reach a run before its
  // first task (a burst of calls, workers down, continue-as-new) are then queued in the order they
  // arrived. Per-type handlers would each take their own type's held signals in turn (every
  // upsert, then every assign…), so a later call could be applied before an earlier one.
  setDefaultSignalHandler((name, ...args) => {
    const type = eventTypes.get(name);
    if (type) engine.enqueue({ ...(args[0] as PlainEvent), type } as DossierEvent);
    else log.warn('Unknown signal ignored', { dossierId, signal: name });
  });
  setHandler(reminderPlanQuery, () => ({ ...engine.view(), queued: engine.queuedEvents }));

  const end = await engine.run(input.carried);
  if (end !== 'continue-as-new') return { dossierId, outcome: end.outcome };
  await condition(allHandlersFinished);
  return continueAsNew<typeof dossierWorkflow>({ dossierId, carried: engine.carried() });
}

/** The engine's effects as Temporal commands: activities, durable timers, visibility. */
function temporalEffects(
  dossierId: string,
  { local }: { local: boolean },
  timeZone: () => string,
): DossierEffects {
  /**
   * A read or delivery: as a local activity (then, if it keeps failing, as a regular one, which
   * is idempotent too), or as a regular activity in runs from before the patch.
   */
  const quick = async <K extends 'loadDossier' | 'ownerContext' | 'deliverNotification'>(
    name: K,
    summary: string,
    args: Parameters<DossierActivities[K]>,
  ): Promise<Awaited<ReturnType<DossierActivities[K]>>> => {
    const call = (proxy: typeof remoteActivities | typeof localActivities) =>
      refusable(() =>
        (proxy[name] as LocalActivityFunctionWithOptions<DossierActivities[K]>).executeWithOptions(
          { summary },
          args,
        ),
      );
    if (!local) return call(remoteActivities);
    try {
      return await call(localActivities);
    } catch (error) {
      if (error instanceof RejectedInput) throw error;
      log.warn('Local activity failed: retrying it as a regular activity', { dossierId, activity: name });
      return call(remoteActivities);
    }
  };
  return {
    now: () => Date.now(),
    load: (id) => quick('loadDossier', `load dossier ${id} from the database`, [id]),
    // Always a regular activity: its result (the stored row, its `urgentSince`) shapes the keys
    // of what follows, so it must be in the history before anything uses it. A local save would
    // run again, with a later clock, if its workflow task failed (a crash, a signal racing a
    // continue-as-new), and give an urgent alert a second key.
    save: (request) =>
      refusable(() =>
        remoteActivities.saveDossierChanges.executeWithOptions({ summary: `save dossier ${dossierId}` }, [
          request,
        ]),
      ),
    async deliver(request) {
      const summary = `${notificationSummary(request.type, request.kind, dossierId)} to ${request.userId}`;
      await quick('deliverNotification', summary, [request]);
    },
    ownerContext: (ownerId) => quick('ownerContext', `read the profile of ${ownerId}`, [ownerId]),
    // A regular activity: it signals other workflows with fresh event ids, which a local
    // activity re-run after a failed task would send twice.
    async announceOwnerProfile(ownerId, exceptDossierId) {
      await remoteActivities.requestOwnerProfileAnnouncement.executeWithOptions(
        { summary: `have the other open dossiers of ${ownerId} re-planned` },
        [{ ownerId, exceptDossierId }],
      );
    },
    async waitUntil(ready, wake) {
      if (!wake) {
        await condition(ready);
        return true;
      }
      const wait = wake.at - Date.now();
      if (wait <= 0) return ready();
      const summary = wake.next
        ? timerSummary(wake.next, dossierId, timeZone())
        : `wait for the creation of dossier ${dossierId}`;
      return condition(ready, wait, { summary });
    },
    show: (view, rejected) => (view ? showDossierState(view) : showNotCreated(dossierId, rejected)),
    continueAsNewSuggested: () => workflowInfo().continueAsNewSuggested,
    // Signals that came during local deliveries wait for the next workflow task: a 1 ms timer
    // ends this one. Regular activities end a task at each call already.
    receiveArrivedEvents: () => (local ? sleep(1) : Promise.resolve()),
    warn: (message, attributes) => log.warn(message, attributes),
  };
}

/** An activity whose data the database refused (non-retryable INVALID_DATA_FAILURE) becomes RejectedInput. */
async function refusable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // A regular activity's failure comes wrapped in an ActivityFailure; a local one's may not.
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (cause instanceof ApplicationFailure && cause.type === INVALID_DATA_FAILURE) {
      throw new RejectedInput(cause.message);
    }
    throw error;
  }
}
