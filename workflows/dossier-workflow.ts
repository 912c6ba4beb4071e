import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
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
  type DossierWorkflowInput,
  type DossierWorkflowResult,
} from './dossier-messages.js';
import {
  notificationSummary,
  publishDossierState,
  publishNotCreated,
  timerSummary,
} from './dossier-visibility.js';
import { dossierWorkflowV1 } from './legacy/dossier-workflow-v1.js';

/** The patch that moved the dossier's rules into domain/dossier-engine.ts (runs before it replay v1). */
export const DOSSIER_ENGINE_V2 = 'dossier-engine-v2';

const activities = proxyActivities<DossierActivities>({
  startToCloseTimeout: '30 seconds',
  // Unlimited attempts: a reminder must not be lost to a database outage; the insert is
  // idempotent. Data the database refuses fails non-retryably instead (INVALID_DATA_FAILURE).
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [INVALID_DATA_FAILURE],
  },
});

/**
 * One long-lived workflow per dossier (id `dossier:<dossierId>`). It sleeps on a durable timer
 * until the next reminder and wakes early when a signal queues an event; the rules live in
 * `DossierEngine` (domain/dossier-engine.ts), which this workflow runs with activities and the
 * workflow clock. It ends when the dossier is done or cancelled; a later call starts a new run
 * from the database copy. After each round it publishes its state to Temporal's visibility.
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
  setHandler(upsertDossierSignal, (event) => engine.enqueue({ type: 'upsert', ...event }));
  setHandler(rescheduleSignal, (event) => engine.enqueue({ type: 'reschedule', ...event }));
  setHandler(assignSignal, (event) => engine.enqueue({ type: 'assign', ...event }));
  setHandler(markUrgentSignal, (event) => engine.enqueue({ type: 'markUrgent', ...event }));
  setHandler(unmarkUrgentSignal, (event) => engine.enqueue({ type: 'unmarkUrgent', ...event }));
  setHandler(completeSignal, (event) => engine.enqueue({ type: 'complete', ...event }));
  setHandler(cancelSignal, (event) => engine.enqueue({ type: 'cancel', ...event }));
  setHandler(reopenSignal, (event) => engine.enqueue({ type: 'reopen', ...event }));
  setHandler(syncSignal, (event) => engine.enqueue({ type: 'sync', ...event }));
  setHandler(ownerProfileChangedSignal, (event) => engine.enqueue({ type: 'ownerProfileChanged', ...event }));
  setHandler(reminderPlanQuery, () => engine.view());

  const end = await engine.run(input.carried);
  if (end !== 'continue-as-new') return { dossierId, outcome: end.outcome };
  await condition(allHandlersFinished);
  return continueAsNew<typeof dossierWorkflow>({ dossierId, carried: engine.carried() });
}

/** The engine's effects as Temporal commands: activities, durable timers, visibility. */
function temporalEffects(dossierId: string, timeZone: () => string): DossierEffects {
  return {
    now: () => Date.now(),
    load: (id) =>
      refusable(() =>
        activities.loadDossier.executeWithOptions({ summary: `load dossier ${id} from the database` }, [id]),
      ),
    save: (request) =>
      refusable(() =>
        activities.saveDossierChanges.executeWithOptions({ summary: `save dossier ${dossierId}` }, [request]),
      ),
    async deliver(request) {
      const summary = `${notificationSummary(request.type, request.kind, dossierId)} to ${request.userId}`;
      await refusable(() => activities.deliverNotification.executeWithOptions({ summary }, [request]));
    },
    ownerContext: (ownerId) =>
      refusable(() =>
        activities.ownerContext.executeWithOptions({ summary: `read the profile of ${ownerId}` }, [ownerId]),
      ),
    async announceOwnerProfile(ownerId, exceptDossierId) {
      await activities.requestOwnerProfileAnnouncement.executeWithOptions(
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
    publish: (view, rejected) => (view ? publishDossierState(view) : publishNotCreated(dossierId, rejected)),
    continueAsNewSuggested: () => workflowInfo().continueAsNewSuggested,
    warn: (message, attributes) => log.warn(message, attributes),
  };
}

/** An activity whose data the database refused (non-retryable INVALID_DATA_FAILURE) becomes RejectedInput. */
async function refusable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === INVALID_DATA_FAILURE) {
      throw new RejectedInput(cause.message);
    }
    throw error;
  }
}
