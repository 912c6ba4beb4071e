import type { Client } from '@temporalio/client';
import { deadlineOf } from '../domain/deadline.js';
import {
  assignSignal,
  cancelSignal,
  completeSignal,
  markUrgentSignal,
  ownerProfileChangedSignal,
  reopenSignal,
  rescheduleSignal,
  snoozeSignal,
  syncSignal,
  unmarkUrgentSignal,
  upsertDossierSignal,
} from '../workflows/dossier-messages.js';
import { sendBatch } from './dossier-batch.js';
import { queryPlan, runningDossierIds } from './dossier-plan.js';
import {
  deadline as deadlineSchema,
  dossierInput,
  ownerProfile,
  parse,
  userId as userIdSchema,
  type DeadlineInput,
  type DossierInput,
  type OwnerProfileInput,
  snoozeRequest,
  type SnoozeInput,
} from './dossier-schemas.js';
import { dossierSignalSender, type DossierCallResult, type EventOptions } from './dossier-signal.js';
import { userProfileCalls } from './user-profile-calls.js';

/*
 * The dossier client's parts: signal-with-start of a dossier's workflow (dossier-signal.ts), the
 * onboarding batch (dossier-batch.ts), the plan query and the running dossiers (dossier-plan.ts),
 * the user profile's workflow (user-profile-calls.ts), the input schemas (dossier-schemas.ts).
 */

export type { BatchItemResult } from './dossier-batch.js';
export { DossierNotFoundError, DossierNotReadyError } from './dossier-plan.js';
export { DOSSIER_WORKFLOW_TYPE, type DossierCallResult, type EventOptions } from './dossier-signal.js';
export { USER_PROFILE_WORKFLOW_TYPE } from './user-profile-calls.js';

/**
 * The NormX backend's API to the reminder engine, the counterpart of the original Celery task
 * `notify_dossier_created.delay(user_id, dossier_data)`. Every call validates its input
 * (a ValidationError names the field) and signals the dossier's workflow with
 * signal-with-start, so a call never races the workflow's creation.
 */
export function createDossierClient(client: Client, options: { taskQueue: string }) {
  const send = dossierSignalSender(client, options.taskQueue);

  /** Creates the dossier, or updates it if it exists: the workflow works out what changed. */
  async function upsert(input: DossierInput): Promise<DossierCallResult> {
    const { owner, eventId, urgent, id, title, ownerId, ...rest } = parse(dossierInput, input);
    const dossier = { id, title, ownerId, ...deadlineOf(rest), ...(urgent !== undefined && { urgent }) };
    return send(
      id,
      upsertDossierSignal,
      { dossier, ...(owner && { owner }) },
      {
        eventId,
        facts: { title, ownerId, deadline: deadlineOf(rest) },
      },
    );
  }

  return {
    /** Plans the dossier's reminders and notifies its owner (an update if it exists already). */
    create: upsert,
    /** The full dossier, as for create; a done or cancelled dossier stays so (see reopen). */
    update: upsert,
    /** Onboarding: up to BULK_MAX_DOSSIERS dossiers, `concurrency` at a time (see sendBatch). */
    createMany: (inputs: DossierInput[], batchOptions: { concurrency?: number } = {}) =>
      sendBatch(inputs, upsert, batchOptions),
    async reschedule(
      id: string,
      deadline: DeadlineInput,
      opts: EventOptions = {},
    ): Promise<DossierCallResult> {
      const parsed = deadlineOf(parse(deadlineSchema, deadline));
      return send(
        id,
        rescheduleSignal,
        { deadline: parsed },
        { eventId: opts.eventId, facts: { deadline: parsed } },
      );
    },
    async assign(
      id: string,
      ownerId: string,
      owner?: OwnerProfileInput,
      opts: EventOptions = {},
    ): Promise<DossierCallResult> {
      const profile = owner === undefined ? undefined : parse(ownerProfile, owner, 'owner');
      const newOwner = parse(userIdSchema, ownerId, 'ownerId');
      return send(
        id,
        assignSignal,
        { ownerId: newOwner, ...(profile && { owner: profile }) },
        {
          eventId: opts.eventId,
          facts: { ownerId: newOwner },
        },
      );
    },
    markUrgent: (id: string, opts: EventOptions = {}) =>
      send(id, markUrgentSignal, {}, { eventId: opts.eventId }),
    unmarkUrgent: (id: string, opts: EventOptions = {}) =>
      send(id, unmarkUrgentSignal, {}, { eventId: opts.eventId }),
    complete: (id: string, opts: EventOptions = {}) =>
      send(id, completeSignal, {}, { eventId: opts.eventId }),
    cancel: (id: string, opts: EventOptions = {}) => send(id, cancelSignal, {}, { eventId: opts.eventId }),
    reopen: (id: string, opts: EventOptions = {}) => send(id, reopenSignal, {}, { eventId: opts.eventId }),
    /** Starts the workflow from the database copy if it is not running (reconciliation). */
    sync: (id: string) => send(id, syncSignal, {}, { eventId: 'sync' }),
    /**
     * A user snoozed one of the dossier's reminders or alerts (notification `notificationId`, of
     * `type` and `kind`): it comes again to them at `until`, or at a preset's instant in the
     * owner's zone, unless the dossier is done, cancelled or rescheduled by then.
     */
    async snooze(id: string, input: SnoozeInput, opts: EventOptions = {}): Promise<DossierCallResult> {
      const { notificationId, type, kind, userId, until, preset } = parse(snoozeRequest, input);
      return send(
        id,
        snoozeSignal,
        {
          notificationId,
          notificationType: type,
          kind,
          userId,
          ...(until !== undefined ? { until } : { preset: preset! }),
        },
        { eventId: opts.eventId },
      );
    },
    /** The owner's profile changed: the dossier re-reads it and moves its reminders to the new zone. */
    ownerProfileChanged: (id: string, ownerId: string) => send(id, ownerProfileChangedSignal, { ownerId }),

    // updateUserProfile, announceUserProfileSaved: the user's profile workflow.
    ...userProfileCalls(client, options.taskQueue),

    /** The reminders sent and pending (see queryPlan: waits up to `waitMs` for a dossier being created). */
    plan: (id: string, planOptions: { waitMs?: number } = {}) => queryPlan(client, id, planOptions),

    /** Ids of dossiers whose workflow is running, from Temporal's visibility store. */
    runningDossierIds: () => runningDossierIds(client),
  };
}

export type DossierClient = ReturnType<typeof createDossierClient>;
