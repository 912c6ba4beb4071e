import { randomUUID } from 'node:crypto';
import type { Client, WorkflowSignalWithStartOptions } from '@temporalio/client';
import type { SearchAttributePair, SignalDefinition } from '@temporalio/common';
import type { Deadline } from '../domain/deadline.js';
import { dossierWorkflowId, type DossierWorkflowInput } from '../workflows/dossier-messages.js';
import {
  DossierIdAttribute,
  DueDateAttribute,
  dueDateAttributeValue,
  OwnerIdAttribute,
} from '../workflows/search-attributes.js';
import { dossierId as dossierIdSchema, eventId as eventIdSchema, parse } from './dossier-schemas.js';

export const DOSSIER_WORKFLOW_TYPE = 'dossierWorkflow';

export interface DossierCallResult {
  workflowId: string;
  /** Pass it again when retrying the same call: its notification is then stored once. */
  eventId: string;
}

export interface EventOptions {
  eventId?: string;
}

/** What a call knows of the dossier, shown by Temporal if the call starts its workflow. */
export interface StartFacts {
  title?: string;
  ownerId?: string;
  deadline?: Deadline;
}

export interface SignalOptions {
  /** The caller's event id (validated), to retry a call; default a new one. */
  eventId?: string | undefined;
  facts?: StartFacts;
}

/**
 * Sends a signal to the workflow of dossier `id` with signal-with-start, so a call never races
 * the workflow's creation: the dossier id is validated, the event gets its id, and a call that
 * starts the workflow gives it its search attributes and summary.
 */
export function dossierSignalSender(client: Client, taskQueue: string) {
  return async function send<T extends { eventId: string }>(
    id: string,
    signal: SignalDefinition<[T]>,
    payload: Omit<T, 'eventId'>,
    { eventId, facts = {} }: SignalOptions = {},
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
      taskQueue,
      args: [{ dossierId }],
      signal,
      signalArgs: [event],
      typedSearchAttributes,
      staticSummary: facts.title ? `Dossier ${dossierId}: ${facts.title}` : `Dossier ${dossierId}`,
      staticDetails: staticDetails(dossierId),
    };
    await client.workflow.signalWithStart(DOSSIER_WORKFLOW_TYPE, start);
    return { workflowId, eventId: event.eventId };
  };
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
