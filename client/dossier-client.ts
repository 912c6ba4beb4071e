import { randomUUID } from 'node:crypto';
import type { Client, WorkflowSignalWithStartOptions } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import {
  assignSignal,
  cancelSignal,
  completeSignal,
  dossierWorkflowId,
  markUrgentSignal,
  reminderPlanQuery,
  reopenSignal,
  rescheduleSignal,
  syncSignal,
  unmarkUrgentSignal,
  upsertDossierSignal,
  type DossierWorkflowInput,
  type ReminderPlanView,
} from '../workflows/dossier-messages.js';
import type { Deadline } from '../workflows/reminder-plan.js';
import {
  deadline as deadlineSchema,
  dossierId as dossierIdSchema,
  dossierInput,
  ownerProfile,
  parse,
  userId as userIdSchema,
  type DeadlineInput,
  type DossierInput,
  type OwnerProfileInput,
} from './dossier-schemas.js';

export const DOSSIER_WORKFLOW_TYPE = 'dossierWorkflow';

export interface DossierCallResult {
  workflowId: string;
  /** Pass it again when retrying the same call: its notification is then stored once. */
  eventId: string;
}

export interface EventOptions {
  eventId?: string;
}

/**
 * The NormX backend's API to the reminder engine, the counterpart of the seed's
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
  ): Promise<DossierCallResult> {
    const dossierId = parse(dossierIdSchema, id, 'id');
    const event = { ...payload, eventId: eventId ?? randomUUID() } as T;
    const workflowId = dossierWorkflowId(dossierId);
    const start: WorkflowSignalWithStartOptions<[T]> & { args: [DossierWorkflowInput] } = {
      workflowId,
      taskQueue: options.taskQueue,
      args: [{ dossierId }],
      signal,
      signalArgs: [event],
    };
    await client.workflow.signalWithStart(DOSSIER_WORKFLOW_TYPE, start);
    return { workflowId, eventId: event.eventId };
  }

  const toDeadline = (value: { dueDate?: string; dueAt?: string }): Deadline =>
    value.dueAt !== undefined ? { dueAt: value.dueAt } : { dueDate: value.dueDate! };

  /** Creates the dossier, or updates it if it exists: the workflow works out what changed. */
  async function upsert(input: DossierInput): Promise<DossierCallResult> {
    const { owner, eventId, urgent, id, title, ownerId, ...rest } = parse(dossierInput, input);
    const dossier = { id, title, ownerId, ...toDeadline(rest), ...(urgent !== undefined && { urgent }) };
    return send(id, upsertDossierSignal, { dossier, ...(owner && { owner }) }, eventId);
  }

  return {
    /** Plans the dossier's reminders and notifies its owner (an update if it exists already). */
    create: upsert,
    /** The full dossier, as for create; a done or cancelled dossier stays so (see reopen). */
    update: upsert,
    async reschedule(
      id: string,
      deadline: DeadlineInput,
      opts: EventOptions = {},
    ): Promise<DossierCallResult> {
      return send(
        id,
        rescheduleSignal,
        { deadline: toDeadline(parse(deadlineSchema, deadline)) },
        opts.eventId,
      );
    },
    async assign(
      id: string,
      ownerId: string,
      owner?: OwnerProfileInput,
      opts: EventOptions = {},
    ): Promise<DossierCallResult> {
      const profile = owner === undefined ? undefined : parse(ownerProfile, owner, 'owner');
      return send(
        id,
        assignSignal,
        { ownerId: parse(userIdSchema, ownerId, 'ownerId'), ...(profile && { owner: profile }) },
        opts.eventId,
      );
    },
    markUrgent: (id: string, opts: EventOptions = {}) => send(id, markUrgentSignal, {}, opts.eventId),
    unmarkUrgent: (id: string, opts: EventOptions = {}) => send(id, unmarkUrgentSignal, {}, opts.eventId),
    complete: (id: string, opts: EventOptions = {}) => send(id, completeSignal, {}, opts.eventId),
    cancel: (id: string, opts: EventOptions = {}) => send(id, cancelSignal, {}, opts.eventId),
    reopen: (id: string, opts: EventOptions = {}) => send(id, reopenSignal, {}, opts.eventId),
    /** Starts the workflow from the database copy if it is not running (reconciliation). */
    sync: (id: string) => send(id, syncSignal, {}, 'sync'),

    /** The reminders sent and pending, with their instants (works on finished workflows too). */
    async plan(id: string): Promise<ReminderPlanView> {
      const workflowId = dossierWorkflowId(parse(dossierIdSchema, id, 'id'));
      return client.workflow.getHandle(workflowId).query(reminderPlanQuery);
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
