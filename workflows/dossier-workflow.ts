import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setDefaultSignalHandler,
  type ActivityFunctionWithOptions,
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
  snoozeSignal,
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
  [snoozeSignal.name, 'snooze'],
]);

/** The patch that moved the dossier's rules into domain/dossier-engine.ts (runs before it replay v1). */
export const DOSSIER_ENGINE_V2 = 'dossier-engine-v2';

const activityOptions = { startToCloseTimeout: '30 seconds', retry: databaseRetry };

const remoteActivities = proxyActivities<DossierActivities>(activityOptions);

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

  const { dossierId } = input;
  const engine: DossierEngine = new DossierEngine(
    dossierId,
    temporalEffects(dossierId, () => engine.view().timeZone),
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
function temporalEffects(dossierId: string, timeZone: () => string): DossierEffects {
  /** A read or delivery: a regular activity, idempotent (docs/performance.md: why not local). */
  const quick = <K extends 'loadDossier' | 'ownerContext' | 'deliverNotification'>(
    name: K,
    summary: string,
    args: Parameters<DossierActivities[K]>,
  ): Promise<Awaited<ReturnType<DossierActivities[K]>>> =>
    refusable(() =>
      (remoteActivities[name] as ActivityFunctionWithOptions<DossierActivities[K]>).executeWithOptions(
        { summary },
        args,
      ),
    );
  return {
    now: () => Date.now(),
    load: (id) => quick('loadDossier', `load dossier ${id} from the database`, [id]),
    // Always a regular activity: its result (the stored row, its `urgentSince`) shapes the keys
    // of what follows, so it must be in the history before anything uses it.
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
    ownerContext: (ownerId, deadline) =>
      quick('ownerContext', `read the profile of ${ownerId}`, [ownerId, deadline]),
    // It signals other workflows with fresh event ids: recorded once, in the history.
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
    // Regular activities end a workflow task at each call: arrived signals are already applied.
    receiveArrivedEvents: () => Promise.resolve(),
    warn: (message, attributes) => log.warn(message, attributes),
  };
}

/** An activity whose data the database refused (non-retryable INVALID_DATA_FAILURE) becomes RejectedInput. */
async function refusable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // An activity's failure comes wrapped in an ActivityFailure.
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (cause instanceof ApplicationFailure && cause.type === INVALID_DATA_FAILURE) {
      throw new RejectedInput(cause.message);
    }
    throw error;
  }
}
