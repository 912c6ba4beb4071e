import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { DateTime } from 'luxon';
import { matchDeadline } from '../domain/deadline.js';
import type {
  DossierSnapshot,
  PendingReminder,
  RejectedEvent,
  ReminderPlanView,
} from './dossier-messages.js';
import type { NotificationType } from '../domain/notification-types.js';
import {
  DossierIdAttribute,
  DossierStatusAttribute,
  DueDateAttribute,
  dueDateAttributeValue,
  NextReminderAtAttribute,
  OwnerIdAttribute,
} from './search-attributes.js';

/**
 * What the Temporal Web UI and CLI show of a dossier: its search attributes (kept current),
 * its current details (the plan, in the owner's local time), and the one-line summaries of its
 * timers and activities, so that the event history reads as the dossier's story.
 * Workflow code: deterministic, the only clock is the workflow's.
 */

/** Local wall-clock time in the owner's zone, as people read it: `2027-03-24 08:00 Europe/Paris`. */
export function localTime(instant: string, timeZone: string): string {
  return `${DateTime.fromISO(instant, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm')} ${timeZone}`;
}

const deadlineText = (dossier: DossierSnapshot, timeZone: string): string =>
  matchDeadline(dossier, { date: (dueDate) => dueDate, instant: (dueAt) => localTime(dueAt, timeZone) });

const noun: Record<NotificationType, string> = {
  deadline_reminder: 'reminder',
  new_alert: 'alert',
  dossier_update: 'update',
  daily_report: 'report',
};

/** `j-7 reminder for dossier D-42`, `overdue alert for dossier D-42`, `rescheduled update for dossier D-42`. */
export function notificationSummary(type: NotificationType, kind: string, dossierId: string): string {
  return `${kind} ${noun[type]} for dossier ${dossierId}`;
}

/** The timer's summary: what the workflow waits for, until when, and the closed day it avoids. */
export function timerSummary(next: PendingReminder, dossierId: string, timeZone: string): string {
  return `${notificationSummary(next.type, next.kind, dossierId)} at ${localTime(next.at, timeZone)}${movedText(next)}`;
}

/** ` (moved from Sunday 2027-04-04)`, ` (moved from Monday 2027-03-29, Lundi de Pâques)`, or nothing. */
export function movedText({ movedFrom }: Pick<PendingReminder, 'movedFrom'>): string {
  if (!movedFrom) return '';
  const weekday = DateTime.fromISO(movedFrom.date, { locale: 'en-GB' }).toFormat('cccc');
  const reason = movedFrom.reason === weekday ? '' : `, ${movedFrom.reason}`;
  return ` (moved from ${weekday} ${movedFrom.date}${reason})`;
}

/**
 * Upserts the search attributes that differ from what the server has (no command when nothing
 * changed), and refreshes the current details shown on the workflow's page.
 */
export function showDossierState(view: ReminderPlanView): void {
  const { dossier, pending } = view;
  const next = pending[0];
  const desired: SearchAttributeUpdatePair[] = [
    { key: DossierIdAttribute, value: dossier.id },
    { key: OwnerIdAttribute, value: dossier.ownerId },
    { key: DossierStatusAttribute, value: dossier.status },
    { key: DueDateAttribute, value: dueDateAttributeValue(dossier) },
    { key: NextReminderAtAttribute, value: next ? new Date(next.at) : null },
  ];
  const current = workflowInfo().typedSearchAttributes;
  const changed = desired.filter(({ key, value }) => !sameValue(current.get(key), value));
  if (changed.length > 0) upsertSearchAttributes(changed);
  setCurrentDetails(currentDetails(view));
}

/** Marks a run that found no dossier to plan (a call about a dossier the service never saw). */
export function showUnknownDossier(dossierId: string): void {
  upsertSearchAttributes([
    { key: DossierIdAttribute, value: dossierId },
    { key: DossierStatusAttribute, value: 'unknown' },
  ]);
  setCurrentDetails(`Dossier **${dossierId}** is unknown to the service: nothing to plan.`);
}

/** A run that created nothing: the dossier is unknown, or its creation was refused by the database. */
export function showNotCreated(dossierId: string, rejected: RejectedEvent[]): void {
  if (rejected.length === 0) return showUnknownDossier(dossierId);
  upsertSearchAttributes([
    { key: DossierIdAttribute, value: dossierId },
    { key: DossierStatusAttribute, value: 'rejected' },
  ]);
  setCurrentDetails(
    [`Dossier **${dossierId}** was not created: the database refused it.`, rejectedLine(rejected)].join(
      '\n\n',
    ),
  );
}

const rejectedLine = (rejected: RejectedEvent[]): string =>
  `Rejected: ${rejected.map((r) => `${r.what}${r.eventId ? ` (${r.eventId})` : ''} at ${r.at}: ${r.reason}`).join(' · ')}.`;

function sameValue(current: unknown, value: unknown): boolean {
  if (current instanceof Date && value instanceof Date) return current.getTime() === value.getTime();
  return (current ?? null) === (value ?? null);
}

/** Markdown for the workflow page: the dossier, then its reminders sent and pending, in local time. */
function currentDetails({ dossier, timeZone, sent, pending, rejected, snoozed }: ReminderPlanView): string {
  const lines = [
    `**${dossier.title}** (dossier ${dossier.id}): owner ${dossier.ownerId}, due ${deadlineText(dossier, timeZone)}, ` +
      `${dossier.status}${dossier.urgent ? ', urgent' : ''}; times in ${timeZone}.`,
  ];
  const next = pending[0];
  lines.push(
    next
      ? `Next: ${next.kind} at ${localTime(next.at, timeZone)}${movedText(next)}.`
      : 'Next: nothing armed.',
  );
  if (pending.length > 1) {
    const listed = pending.map((r) => `${r.kind} ${localTime(r.at, timeZone)}${movedText(r)}`);
    lines.push(`Pending: ${listed.join(' · ')}.`);
  }
  if (sent.length > 0) {
    lines.push(`Sent: ${sent.map((r) => `${r.kind} ${localTime(r.sentAt, timeZone)}`).join(' · ')}.`);
  }
  if (snoozed && snoozed.length > 0) {
    // The first few: the details are rebuilt at every round.
    const listed = snoozed
      .slice(0, 5)
      .map((s) => `${s.kind} (notification ${s.notificationId}) ${localTime(s.at, timeZone)}`);
    const more = snoozed.length > 5 ? ` and ${snoozed.length - 5} more` : '';
    lines.push(`Snoozed: ${listed.join(' · ')}${more}.`);
  }
  if (rejected && rejected.length > 0) lines.push(rejectedLine(rejected));
  return lines.join('\n\n');
}
