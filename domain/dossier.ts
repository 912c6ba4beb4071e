import type { Deadline } from './deadline.js';
import type { ReminderType } from './notification-types.js';
import type { ReminderPolicy } from './reminder-plan.js';
import type { BusinessCalendar, MovedFrom, UserCalendar } from './business-days.js';
import type { SnoozedReminder, SnoozeUntil } from './snooze.js';

/**
 * A dossier and the events that change it, as the rules (`dossier-engine.ts`), the dossier
 * workflow and its clients all see them: no I/O, no Temporal. The workflow's signals and query
 * carrying them are defined once in `workflows/dossier-messages.ts`. Every event carries an
 * `eventId` chosen by the caller, so the notification it causes is stored once even when the
 * caller retries.
 */

export type DossierStatus = 'open' | 'done' | 'cancelled';
export type Locale = 'fr' | 'en';

export type DossierSnapshot = Deadline & {
  id: string;
  title: string;
  ownerId: string;
  urgent: boolean;
  /** ISO instant at which the dossier became urgent: keys its single `urgent` alert. */
  urgentSince?: string;
  status: DossierStatus;
};

/** Optional owner profile sent with a dossier; stored so reminders follow the owner's zone and language. */
export interface OwnerProfile {
  name?: string;
  locale?: Locale;
  timezone?: string;
  /** The user's own business calendar, or `off`; null: back to the service's. */
  businessCalendar?: UserCalendar | null;
  /** Local time `HH:mm` of the user's j-N reminders; null: back to REMINDER_TIME. */
  reminderTime?: string | null;
}

/** What an activity tells the workflow about where and how to plan: recorded in history. */
export interface PlanningContext {
  timeZone: string;
  policy: ReminderPolicy;
  /** The closed days around the dossier's deadline (absent: business days off, or runs before them). */
  calendar?: BusinessCalendar;
}

export const dossierWorkflowId = (dossierId: string): string => `dossier:${dossierId}`;

export interface UpsertDossierEvent {
  eventId: string;
  dossier: Deadline & { id: string; title: string; ownerId: string; urgent?: boolean };
  owner?: OwnerProfile;
}
export interface RescheduleEvent {
  eventId: string;
  deadline: Deadline;
}
export interface AssignEvent {
  eventId: string;
  ownerId: string;
  owner?: OwnerProfile;
}
export interface PlainEvent {
  eventId: string;
}

/**
 * The owner snoozed one of the dossier's reminders or alerts from the bell: it comes again at
 * `until`, or at the preset's instant in the owner's zone (domain/snooze.ts), unless the dossier is
 * done or cancelled by then.
 */
export type SnoozeEvent = {
  eventId: string;
  /** The notification snoozed (its id), its type and kind. */
  notificationId: string;
  notificationType: ReminderType;
  kind: string;
  /** The notification's user, who snoozed it. */
  userId: string;
} & SnoozeUntil;

/** The owner's profile changed (zone, locale): the dossier re-reads it and re-plans if its zone moved. */
export interface OwnerProfileChangedEvent {
  eventId: string;
  ownerId: string;
}

export type DossierEvent =
  | ({ type: 'upsert' } & UpsertDossierEvent)
  | ({ type: 'reschedule' } & RescheduleEvent)
  | ({ type: 'assign' } & AssignEvent)
  | ({ type: 'ownerProfileChanged' } & OwnerProfileChangedEvent)
  | ({ type: 'snooze' } & SnoozeEvent)
  | ({ type: 'markUrgent' | 'unmarkUrgent' | 'complete' | 'cancel' | 'reopen' | 'sync' } & PlainEvent);

export interface SentReminder {
  type: ReminderType;
  kind: string;
  idempotencyKey: string;
  /** When the rules wanted it. */
  dueInstant: string;
  /** When the workflow fired it (workflow clock). */
  sentAt: string;
}

export interface PendingReminder {
  type: ReminderType;
  kind: string;
  idempotencyKey: string;
  /** When it fires: the rules' instant, or the moment it was planned for an already-late alert. */
  at: string;
  dueInstant: string;
  /** A j-N moved off a closed day: the day the rules gave, and why. */
  movedFrom?: MovedFrom;
  /** Kinds on this one's day that it stands for (see PlannedReminder in domain/reminder-plan.ts). */
  absorbs?: string[];
}

/** An event or reminder that the database refused (data it cannot store): recorded, not retried. */
export interface RejectedEvent {
  /** The event's type (`upsert`, `assign`…) or the reminder's kind (`j-7`…). */
  what: string;
  eventId?: string;
  reason: string;
  /** Workflow clock. */
  at: string;
}

export interface ReminderPlanView {
  dossier: DossierSnapshot;
  timeZone: string;
  sent: SentReminder[];
  pending: PendingReminder[];
  /** The latest rejected events (runs of the v1 workflow have none). */
  rejected?: RejectedEvent[];
  /** Events received and not applied yet (absent from v1 runs). */
  queued?: number;
  /** Reminders snoozed from the bell, waiting to come again (absent: none). */
  snoozed?: SnoozedReminder[];
}

export interface DossierWorkflowInput {
  dossierId: string;
  /** State carried over continue-as-new. */
  carried?: CarriedState;
}

export interface CarriedState {
  dossier: DossierSnapshot;
  context: PlanningContext;
  pending: PendingReminder[];
  sent: SentReminder[];
  queued: DossierEvent[];
  rejected?: RejectedEvent[];
  /** Kinds armed for the current deadline, not sent yet (see DossierEngine); absent from v1 runs. */
  armed?: string[];
  /** Reminders snoozed, waiting to come again (absent: none, or a run before snoozing). */
  snoozed?: SnoozedReminder[];
}

export interface DossierWorkflowResult {
  dossierId: string;
  /** `rejected`: its creation was refused by the database (see the run's rejected events). */
  outcome: DossierStatus | 'unknown-dossier' | 'rejected';
}
