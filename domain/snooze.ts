import { DateTime } from 'luxon';
import { closedReason, type BusinessCalendar } from './business-days.js';
import { snoozedReminderKey } from './idempotency-keys.js';
import type { ReminderType } from './notification-types.js';

/**
 * Snoozing a reminder or alert from the bell: when it comes again, and what the dossier keeps of
 * it until then. Pure: the dossier's engine (domain/dossier-engine-events.ts) computes the instant
 * on the workflow clock, in the owner's zone, with the planning context's reminder time and closed
 * days, so the plan and the history say the same thing.
 */

/** "Tomorrow 08:00", "in 2 hours", "next business day" (08:00: the owner's reminder time). */
export const SNOOZE_PRESETS = ['tomorrow', 'in-2-hours', 'next-business-day'] as const;
export type SnoozePreset = (typeof SNOOZE_PRESETS)[number];

/** The furthest a snooze may go: past it, the reminder is better rescheduled. */
export const SNOOZE_MAX_DAYS = 366;
/** A snooze of a few minutes would come back before the user has looked away. */
export const SNOOZE_MIN_MINUTES = 5;
/**
 * Snoozes a dossier keeps at once: each is state the workflow carries and replays; a user who
 * snoozed twenty of one dossier's reminders is better served by rescheduling it.
 */
export const SNOOZE_MAX_PER_DOSSIER = 20;

/** A reminder snoozed, waiting to come again: the dossier's workflow sends it at `at`. */
export interface SnoozedReminder {
  /** The notification snoozed: the new one refers to it (`data.snoozedFrom`). */
  notificationId: string;
  /** Who snoozed it (the notification's user): the one it comes back to, even if the owner changed. */
  userId: string;
  type: ReminderType;
  kind: string;
  /** When it comes again (ISO instant). */
  at: string;
  idempotencyKey: string;
}

/** Where the instant comes from: an explicit one (validated at the edge) or a preset. */
export type SnoozeUntil = { until: string; preset?: undefined } | { preset: SnoozePreset; until?: undefined };

/**
 * The instant a snooze ends. `tomorrow`: the next local day at the reminder time; `next-business-day`:
 * the next local day that is not closed (a weekend day, or a closed day of `calendar` where it
 * covers) at the reminder time; `in-2-hours`: two hours from now.
 */
export function snoozeInstant(
  choice: SnoozeUntil,
  {
    now,
    timeZone,
    reminderTime,
    calendar,
  }: {
    now: number;
    timeZone: string;
    reminderTime: { hour: number; minute: number };
    calendar?: BusinessCalendar;
  },
): string {
  if (choice.until !== undefined) return new Date(choice.until).toISOString();
  const today = DateTime.fromMillis(now, { zone: timeZone });
  if (choice.preset === 'in-2-hours') return today.plus({ hours: 2 }).toUTC().toISO()!;
  let day = today.startOf('day').plus({ days: 1 });
  if (choice.preset === 'next-business-day') {
    const closed = (candidate: DateTime) =>
      calendar ? closedReason(candidate, calendar) !== undefined : candidate.weekday >= 6;
    // Bounded: a calendar lists at most a few hundred closed days.
    for (let tries = 0; closed(day) && tries < SNOOZE_MAX_DAYS; tries += 1) day = day.plus({ days: 1 });
  }
  return day
    .set({ ...reminderTime, second: 0, millisecond: 0 })
    .toUTC()
    .toISO()!;
}

/**
 * Adds a snooze in firing order; a notification snoozed again keeps only its latest snooze. Keyed
 * by the call's event id: a retried call stores one comeback, even after it was sent.
 */
export function withSnooze(
  snoozed: readonly SnoozedReminder[],
  dossierId: string,
  {
    eventId,
    ...request
  }: {
    eventId: string;
    notificationId: string;
    userId: string;
    type: ReminderType;
    kind: string;
    at: string;
  },
): SnoozedReminder[] {
  const entry = {
    ...request,
    idempotencyKey: snoozedReminderKey(dossierId, request.notificationId, eventId),
  };
  return [...snoozed.filter((s) => s.notificationId !== request.notificationId), entry].sort(
    (a, b) => Date.parse(a.at) - Date.parse(b.at),
  );
}
