import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DossierActivities } from '../../activities/index.js';
import { DossierLifecycle } from './dossier-lifecycle-v1.js';
import { showDossierState, showUnknownDossier, timerSummary } from '../dossier-visibility.js';
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
  type OwnerProfileChangedEvent,
  type DossierWorkflowInput,
  type DossierWorkflowResult,
} from '../dossier-messages.js';
import { databaseRetryV1 } from '../activity-retry.js';

const { loadDossier } = proxyActivities<DossierActivities>({
  startToCloseTimeout: '30 seconds',
  retry: databaseRetryV1,
});

/**
 * FROZEN: the dossier workflow as it ran before the engine of `domain/dossier-engine.ts`
 * (patch `dossier-engine-v2`). Runs started by this code replay and continue with it until they
 * end or continue-as-new (the next run takes the new engine). Change nothing it does: every
 * command it issues is in histories of dossiers running in production (test/histories/), which
 * test/integration/replay.test.ts replays (a change of form, e.g. named options, passes it).
 *
 * One long-lived workflow per dossier (id `dossier:<dossierId>`). It sleeps on a durable timer
 * until the next reminder and wakes early when a signal changes the dossier; each change
 * re-plans the pending reminders. Signal handlers only queue events; the main loop applies them
 * in order, so activities run one at a time and the history reads in order. It ends when the
 * dossier is done or cancelled; a later call (reopen, update…) starts a new run from the
 * database copy. After each round of changes and reminders it shows its state in Temporal's
 * visibility (search attributes, current details); timers and activities carry summaries.
 */
/** The patch that lets a v1 run continue as the engine when its owner's profile changes. */
export const V1_PROFILE_CHANGE_CONTINUES_AS_V2 = 'v1-profile-change-continues-as-v2';

export async function dossierWorkflowV1(input: DossierWorkflowInput): Promise<DossierWorkflowResult> {
  const queued: DossierEvent[] = [...(input.carried?.queued ?? [])];
  let lifecycle: DossierLifecycle | undefined;

  setHandler(upsertDossierSignal, (event) => void queued.push({ type: 'upsert', ...event }));
  setHandler(rescheduleSignal, (event) => void queued.push({ type: 'reschedule', ...event }));
  setHandler(assignSignal, (event) => void queued.push({ type: 'assign', ...event }));
  setHandler(markUrgentSignal, (event) => void queued.push({ type: 'markUrgent', ...event }));
  setHandler(unmarkUrgentSignal, (event) => void queued.push({ type: 'unmarkUrgent', ...event }));
  setHandler(completeSignal, (event) => void queued.push({ type: 'complete', ...event }));
  setHandler(cancelSignal, (event) => void queued.push({ type: 'cancel', ...event }));
  setHandler(reopenSignal, (event) => void queued.push({ type: 'reopen', ...event }));
  setHandler(syncSignal, (event) => void queued.push({ type: 'sync', ...event }));
  // Added with the engine (replay-safe: a handler is no command): v1 cannot re-plan for a new
  // zone, so an owner's profile change moves the run on to the engine by continue-as-new.
  let profileChanged: OwnerProfileChangedEvent | undefined;
  setHandler(ownerProfileChangedSignal, (event) => void (profileChanged = event));
  setHandler(reminderPlanQuery, () => {
    if (!lifecycle) throw new Error(`dossier ${input.dossierId} is not loaded yet`);
    return lifecycle.view();
  });

  if (input.carried) {
    lifecycle = DossierLifecycle.resume(input.carried, { rearm: false });
  } else {
    // A new run: the dossier may exist already (reconciliation, or a call after its workflow
    // ended): then the database copy is the truth and the queued events apply to it.
    // Otherwise only a creating signal can bring it into being.
    const loaded = await loadDossier.executeWithOptions(
      { summary: `load dossier ${input.dossierId} from the database` },
      [input.dossierId],
    );
    const first = queued[0];
    if (loaded) {
      lifecycle = DossierLifecycle.resume({ ...loaded, pending: [], sent: [] }, { rearm: true });
    } else if (first?.type === 'upsert') {
      queued.shift();
      lifecycle = await DossierLifecycle.create(input.dossierId, first);
    } else {
      log.warn('Dossier unknown to the service: nothing to plan', {
        dossierId: input.dossierId,
        event: first?.type,
      });
      showUnknownDossier(input.dossierId);
      return { dossierId: input.dossierId, outcome: 'unknown-dossier' };
    }
  }

  for (;;) {
    await lifecycle.fireDueReminders();
    for (let event = queued.shift(); event; event = queued.shift()) await lifecycle.apply(event);
    showDossierState(lifecycle.view());
    const { status } = lifecycle.dossier;
    if (status !== 'open') return { dossierId: input.dossierId, outcome: status };

    // `patched` only once a profile change came: histories without one never reach it.
    const migrate = profileChanged !== undefined && patched(V1_PROFILE_CHANGE_CONTINUES_AS_V2);
    if (workflowInfo().continueAsNewSuggested || migrate) {
      await condition(allHandlersFinished);
      const moved = migrate ? [{ type: 'ownerProfileChanged' as const, ...profileChanged! }] : [];
      await continueAsNew<typeof dossierWorkflowV1>({
        dossierId: input.dossierId,
        carried: { ...lifecycle.snapshot, queued: [...queued, ...moved] },
      });
    }
    const next = lifecycle.next;
    if (!next) await condition(() => queued.length > 0 || profileChanged !== undefined);
    else {
      const wait = Date.parse(next.at) - Date.now();
      const summary = timerSummary(next, input.dossierId, lifecycle.view().timeZone);
      if (wait > 0)
        await condition(() => queued.length > 0 || profileChanged !== undefined, wait, { summary });
    }
  }
}
