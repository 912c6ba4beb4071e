import { randomUUID } from 'node:crypto';
import type { Client, WorkflowSignalWithStartOptions } from '@temporalio/client';
import type { SearchAttributePair, SignalDefinition } from '@temporalio/common';
import {
  assignSignal,
  cancelSignal,
  completeSignal,
  dossierWorkflowId,
  markUrgentSignal,
  ownerProfileChangedSignal,
  reminderPlanQuery,
  reopenSignal,
  rescheduleSignal,
  syncSignal,
  unmarkUrgentSignal,
  upsertDossierSignal,
  type DossierWorkflowInput,
  type ReminderPlanView,
} from '../workflows/dossier-messages.js';
import { deadlineOf, type Deadline } from '../domain/deadline.js';
import {
  updateUserProfileSignal,
  userProfileSavedSignal,
  userProfileWorkflowId,
} from '../workflows/user-profile-messages.js';
import {
  DossierIdAttribute,
  DueDateAttribute,
  dueDateAttributeValue,
  OwnerIdAttribute,
} from '../workflows/search-attributes.js';
import {
  deadline as deadlineSchema,
  dossierId as dossierIdSchema,
  dossierBatch,
  dossierInput,
  eventId as eventIdSchema,
  ownerProfile,
  parse,
  userId as userIdSchema,
  type DeadlineInput,
  type DossierInput,
  type OwnerProfileInput,
} from './dossier-schemas.js';

export const DOSSIER_WORKFLOW_TYPE = 'dossierWorkflow';
export const USER_PROFILE_WORKFLOW_TYPE = 'userProfileWorkflow';

export interface DossierCallResult {
  workflowId: string;
  /** Pass it again when retrying the same call: its notification is then stored once. */
  eventId: string;
}

/** One dossier of an onboarding batch: sent, or not (retry it with the same `eventId`). */
export type BatchItemResult =
  | ({ id: string; sent: true } & DossierCallResult)
  | { id: string; sent: false; eventId: string; error: string };

export interface EventOptions {
  eventId?: string;
}

/** What a call knows of the dossier, shown by Temporal if the call starts its workflow. */
interface StartFacts {
  title?: string;
  ownerId?: string;
  deadline?: Deadline;
}

/**
 * The NormX backend's API to the reminder engine, the counterpart of the original Celery task
 * `notify_dossier_created.delay(user_id, dossier_data)`. Every call validates its input
 * (a ValidationError names the field) and signals the dossier's workflow with
 * signal-with-start, so a call never races the workflow's creation.
 */
export function createDossierClient(client: Client, options: { taskQueue: string }) {
  async function send<T extends { eventId: string }>(
    id: string,
    signal: SignalDefinition<[T]>,
    payload: Omit<T, 'eventId'>,
    eventId: string | undefined,
    facts: StartFacts = {},
  ): Promise<DossierCallResult> {
    const dossierId = parse(dossierIdSchema, id, 'id');
    const event = {
      ...payload,
      eventId: eventId === undefined ? randomUUID() : parse(eventIdSchema, eventId, 'eventId'),
    } as T;
    const workflowId = dossierWorkflowId(dossierId);
    // Used only when this call starts the workflow; the workflow then keeps them current.
    const typedSearchAttributes: SearchAttributePair[] = [{ key: DossierIdAttribute, value: dossierId }];
    if (facts.ownerId) typedSearchAttributes.push({ key: OwnerIdAttribute, value: facts.ownerId });
    if (facts.deadline) {
      typedSearchAttributes.push({ key: DueDateAttribute, value: dueDateAttributeValue(facts.deadline) });
    }
    const start: WorkflowSignalWithStartOptions<[T]> & { args: [DossierWorkflowInput] } = {
      workflowId,
      taskQueue: options.taskQueue,
      args: [{ dossierId }],
      signal,
      signalArgs: [event],
      typedSearchAttributes,
      staticSummary: facts.title ? `Dossier ${dossierId}: ${facts.title}` : `Dossier ${dossierId}`,
      staticDetails: staticDetails(dossierId),
    };
    await client.workflow.signalWithStart(DOSSIER_WORKFLOW_TYPE, start);
    return { workflowId, eventId: event.eventId };
  }

  /** Creates the dossier, or updates it if it exists: the workflow works out what changed. */
  async function upsert(input: DossierInput): Promise<DossierCallResult> {
    const { owner, eventId, urgent, id, title, ownerId, ...rest } = parse(dossierInput, input);
    const dossier = { id, title, ownerId, ...deadlineOf(rest), ...(urgent !== undefined && { urgent }) };
    return send(id, upsertDossierSignal, { dossier, ...(owner && { owner }) }, eventId, {
      title,
      ownerId,
      deadline: deadlineOf(rest),
    });
  }

  return {
    /** Plans the dossier's reminders and notifies its owner (an update if it exists already). */
    create: upsert,
    /** The full dossier, as for create; a done or cancelled dossier stays so (see reopen). */
    update: upsert,
    /**
     * Onboarding: creates (or updates) up to BULK_MAX_DOSSIERS distinct dossiers, `concurrency`
     * calls at a time. The whole batch is validated first (a ValidationError names
     * `dossiers.<index>.<field>`; nothing is sent). Each dossier gets its event id before any is
     * sent, so that one not sent can be sent again with it, and stored once. After a call fails
     * (Temporal unreachable, a timeout) no further one is started: the rest come back not sent at
     * once, instead of each waiting out its own timeout.
     */
    async createMany(
      inputs: DossierInput[],
      { concurrency = 32 }: { concurrency?: number } = {},
    ): Promise<BatchItemResult[]> {
      const batch = parse(dossierBatch, inputs, 'dossiers').map((dossier) => ({
        ...dossier,
        eventId: dossier.eventId ?? randomUUID(),
      }));
      const results: BatchItemResult[] = new Array(batch.length);
      let failure: string | undefined;
      let next = 0;
      const lane = async (): Promise<void> => {
        for (let index = next++; index < batch.length; index = next++) {
          const { id, eventId } = batch[index]!;
          if (failure !== undefined) {
            results[index] = {
              id,
              sent: false,
              eventId,
              error: `not sent after an earlier failure: ${failure}`,
            };
            continue;
          }
          try {
            results[index] = { id, sent: true, ...(await upsert(batch[index]!)) };
          } catch (error) {
            failure ??= String(error);
            results[index] = { id, sent: false, eventId, error: String(error) };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batch.length)) }, lane));
      return results;
    },
    async reschedule(
      id: string,
      deadline: DeadlineInput,
      opts: EventOptions = {},
    ): Promise<DossierCallResult> {
      const parsed = deadlineOf(parse(deadlineSchema, deadline));
      return send(id, rescheduleSignal, { deadline: parsed }, opts.eventId, { deadline: parsed });
    },
    async assign(
      id: string,
      ownerId: string,
      owner?: OwnerProfileInput,
      opts: EventOptions = {},
    ): Promise<DossierCallResult> {
      const profile = owner === undefined ? undefined : parse(ownerProfile, owner, 'owner');
      const newOwner = parse(userIdSchema, ownerId, 'ownerId');
      return send(id, assignSignal, { ownerId: newOwner, ...(profile && { owner: profile }) }, opts.eventId, {
        ownerId: newOwner,
      });
    },
    markUrgent: (id: string, opts: EventOptions = {}) => send(id, markUrgentSignal, {}, opts.eventId),
    unmarkUrgent: (id: string, opts: EventOptions = {}) => send(id, unmarkUrgentSignal, {}, opts.eventId),
    complete: (id: string, opts: EventOptions = {}) => send(id, completeSignal, {}, opts.eventId),
    cancel: (id: string, opts: EventOptions = {}) => send(id, cancelSignal, {}, opts.eventId),
    reopen: (id: string, opts: EventOptions = {}) => send(id, reopenSignal, {}, opts.eventId),
    /** Starts the workflow from the database copy if it is not running (reconciliation). */
    sync: (id: string) => send(id, syncSignal, {}, 'sync'),
    /** The owner's profile changed: the dossier re-reads it and moves its reminders to the new zone. */
    ownerProfileChanged: (id: string, ownerId: string) =>
      send(id, ownerProfileChangedSignal, { ownerId }, undefined),

    /**
     * Changes a user's profile (zone, locale, name) without touching a dossier: every open
     * dossier of theirs re-plans in the new zone, and the daily report follows it.
     */
    async updateUserProfile(
      userId: string,
      profile: OwnerProfileInput,
      opts: EventOptions = {},
    ): Promise<{ workflowId: string; eventId: string }> {
      const id = parse(userIdSchema, userId, 'userId');
      const event = {
        userId: id,
        profile: parse(ownerProfile, profile, 'profile'),
        eventId: opts.eventId === undefined ? randomUUID() : parse(eventIdSchema, opts.eventId, 'eventId'),
      };
      const workflowId = userProfileWorkflowId(id);
      await client.workflow.signalWithStart(USER_PROFILE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: options.taskQueue,
        args: [{ userId: id }],
        signal: updateUserProfileSignal,
        signalArgs: [event],
        staticSummary: `Profile of user ${id}`,
      });
      return { workflowId, eventId: event.eventId };
    },

    /** A dossier call saved a new profile of the user: their other open dossiers are told (by `user:<userId>`). */
    async announceUserProfileSaved(userId: string, exceptDossierId: string): Promise<void> {
      await client.workflow.signalWithStart(USER_PROFILE_WORKFLOW_TYPE, {
        workflowId: userProfileWorkflowId(userId),
        taskQueue: options.taskQueue,
        args: [{ userId }],
        signal: userProfileSavedSignal,
        signalArgs: [{ eventId: randomUUID(), exceptDossierId }],
        staticSummary: `Profile of user ${userId}`,
      });
    },

    /**
     * The reminders sent and pending, with their instants (works on finished workflows too).
     * Right after a create the workflow may not have loaded its dossier yet: the query is asked
     * again every 100 ms for up to `waitMs` (default 5 s), then `DossierNotReadyError`. A run that
     * ended without ever loading a dossier (calls for an id never created) is `DossierNotFoundError`.
     */
    async plan(id: string, { waitMs = 5_000 }: { waitMs?: number } = {}): Promise<ReminderPlanView> {
      const dossierId = parse(dossierIdSchema, id, 'id');
      const handle = client.workflow.getHandle(dossierWorkflowId(dossierId));
      const deadline = Date.now() + waitMs;
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await handle.query(reminderPlanQuery);
        } catch (error) {
          if (!isNotLoadedYet(error)) throw error;
        }
        if (attempt === 0 && (await handle.describe()).status.name !== 'RUNNING') {
          throw new DossierNotFoundError(dossierId);
        }
        if (Date.now() + PLAN_POLL_INTERVAL_MS > deadline) throw new DossierNotReadyError(dossierId);
        await new Promise((resolve) => setTimeout(resolve, PLAN_POLL_INTERVAL_MS));
      }
    },

    /** Ids of dossiers whose workflow is running, from Temporal's visibility store. */
    async runningDossierIds(): Promise<Set<string>> {
      const ids = new Set<string>();
      const query = `WorkflowType = '${DOSSIER_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
      for await (const execution of client.workflow.list({ query })) {
        ids.add(execution.workflowId.replace(/^dossier:/, ''));
      }
      return ids;
    },
  };
}

export type DossierClient = ReturnType<typeof createDossierClient>;

const PLAN_POLL_INTERVAL_MS = 100;

/** The query's refusal while the dossier is loading: a query rejection, or a ServiceError whose cause says it. */
const isNotLoadedYet = (error: unknown): boolean =>
  error instanceof Error &&
  (error.message.includes('not loaded yet') ||
    (error.cause instanceof Error && error.cause.message.includes('not loaded yet')));

/** The dossier's workflow runs but has not loaded its dossier yet (it is being created): ask again. */
export class DossierNotReadyError extends Error {
  constructor(readonly dossierId: string) {
    super(`Dossier ${dossierId} is being created: ask again in a moment`);
    this.name = 'DossierNotReadyError';
  }
}

/** No dossier: its run ended without one (calls for an id that was never created). */
export class DossierNotFoundError extends Error {
  constructor(readonly dossierId: string) {
    super(`No dossier ${dossierId}`);
    this.name = 'DossierNotFoundError';
  }
}

/** Markdown shown on the workflow's page in the Web UI: where to look for this dossier's story. */
function staticDetails(dossierId: string): string {
  return [
    `Reminders and notices of dossier **${dossierId}** (NormX Docs).`,
    'Search attributes `DossierId`, `OwnerId`, `DossierStatus`, `DueDate` and `NextReminderAt` stay current;',
    "the current details show the plan in the owner's time zone; each timer and each `deliverNotification`",
    'activity in the event history is named after its reminder (`j-7 reminder for dossier …`).',
    `CLI: \`temporal workflow query --workflow-id ${dossierWorkflowId(dossierId)} --type reminderPlan\`.`,
  ].join('\n');
}
