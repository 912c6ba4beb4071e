import { defineQuery, defineSignal } from '@temporalio/workflow';
import type {
  AssignEvent,
  OwnerProfileChangedEvent,
  PlainEvent,
  ReminderPlanView,
  RescheduleEvent,
  SnoozeEvent,
  UpsertDossierEvent,
} from '../domain/dossier.js';

/**
 * The dossier workflow's contract, shared by the workflow and its clients: its id, input,
 * signals and query, defined once. The types they carry live with the rules, in
 * `domain/dossier.ts`, and are re-exported here for the workflow's clients.
 */
export type * from '../domain/dossier.js';
export { dossierWorkflowId } from '../domain/dossier.js';

export const upsertDossierSignal = defineSignal<[UpsertDossierEvent]>('upsertDossier');
export const rescheduleSignal = defineSignal<[RescheduleEvent]>('reschedule');
export const markUrgentSignal = defineSignal<[PlainEvent]>('markUrgent');
export const unmarkUrgentSignal = defineSignal<[PlainEvent]>('unmarkUrgent');
export const assignSignal = defineSignal<[AssignEvent]>('assign');
export const completeSignal = defineSignal<[PlainEvent]>('complete');
export const cancelSignal = defineSignal<[PlainEvent]>('cancel');
export const reopenSignal = defineSignal<[PlainEvent]>('reopen');
/** Sent by reconciliation: starts a missing workflow from the database copy, no-op otherwise. */
export const syncSignal = defineSignal<[PlainEvent]>('sync');
export const ownerProfileChangedSignal = defineSignal<[OwnerProfileChangedEvent]>('ownerProfileChanged');
/** The owner snoozed one of the dossier's reminders from the bell (domain/snooze.ts). */
export const snoozeSignal = defineSignal<[SnoozeEvent]>('snooze');
export const reminderPlanQuery = defineQuery<ReminderPlanView>('reminderPlan');
