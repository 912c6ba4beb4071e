import { DateTime, Duration } from 'luxon';
import { matchDeadline, type Deadline } from './deadline.js';
import { previousBusinessDay, type BusinessCalendar, type MovedFrom } from './business-days.js';
import type { ReminderType } from './notification-types.js';

/**
 * Pure reminder planning: which reminders a dossier should get and at which instant.
 * Every local time is computed with an explicit IANA zone, never the host's, and `now` is
 * passed in, so the same inputs give the same plan on replay.
 */

/** OVERDUE_CRITICAL_DELAY when not set (config/env-schema.ts), and in the texts of callers that give none. */
export const DEFAULT_CRITICAL_DELAY = 'P3D';

export interface ReminderPolicy {
  /** Local wall-clock time of the j-N reminders. */
  reminderTime: { hour: number; minute: number };
  /** Days before the due date, e.g. [7, 1, 0] for j-7, j-1, j-0. */
  offsetsDays: number[];
  /** ISO 8601 duration from the overdue instant to the critical alert, added in local time. */
  criticalDelay: string;
}

export interface PlannedReminder {
  type: ReminderType;
  /** `j-7`, `j-1`, `j-0`, `overdue`, `overdue_critical`. */
  kind: string;
  /** ISO instant (UTC) at which the reminder fires. */
  at: string;
  /** The instant the rules give, before an already-late alert is moved to `now`. */
  dueInstant: string;
  /** A j-N whose day was closed: the day it moved from (to the previous business day). */
  movedFrom?: MovedFrom;
  /**
   * Kinds that business days put on this one's day and instant (a Sunday deadline's j-1 under its
   * j-0): they stay armed with it, come back on their own if a re-plan parts them, and end with it.
   */
  absorbs?: string[];
}

/**
 * Which local day a `dueAt` at exactly local midnight belongs to. `previous-day` (the rule): a
 * deadline at 00:00 closes the day before, as `dueDate` D closes at 00:00 on D+1, so it gets its
 * j-0 that day and is "due today" in that day's report. `same-day`: the rule before it was fixed,
 * kept only for runs of the frozen v1 workflow (their histories must replay).
 */
export type MidnightDueAt = 'previous-day' | 'same-day';

export interface PlanInput {
  deadline: Deadline;
  timeZone: string;
  policy: ReminderPolicy;
  /** Epoch milliseconds; in a workflow, the workflow clock. */
  now: number;
  midnightDueAt?: MidnightDueAt;
  /** Closed days: a j-N falling on one moves to the previous business day. None: no day moves. */
  calendar?: BusinessCalendar;
}

/** The stable key of a deadline: a dossier gets each reminder kind once per deadline. */
export function deadlineKey(deadline: Deadline): string {
  return matchDeadline(deadline, {
    date: (dueDate) => dueDate,
    instant: (dueAt) => DateTime.fromISO(dueAt, { zone: 'utc' }).toISO()!,
  });
}

/** The instant the deadline passes: `dueAt`, or 00:00 local on the day after `dueDate`. */
export function overdueInstant(deadline: Deadline, timeZone: string): DateTime {
  return matchDeadline(deadline, {
    date: (dueDate) => DateTime.fromISO(dueDate, { zone: timeZone }).plus({ days: 1 }).startOf('day'),
    instant: (dueAt) => DateTime.fromISO(dueAt, { zone: timeZone }),
  });
}

/** The due date as a local calendar date in the owner's zone (see `MidnightDueAt` for a `dueAt` at 00:00). */
export function localDueDate(
  deadline: Deadline,
  timeZone: string,
  midnightDueAt: MidnightDueAt = 'previous-day',
): DateTime {
  return matchDeadline(deadline, {
    date: (dueDate) => DateTime.fromISO(dueDate, { zone: timeZone }),
    instant: (dueAt) => {
      const at = DateTime.fromISO(dueAt, { zone: timeZone });
      return (midnightDueAt === 'previous-day' ? at.minus({ milliseconds: 1 }) : at).startOf('day');
    },
  });
}

/**
 * Plans the reminders of a deadline, from `now`:
 * - a j-N whose day is closed (weekend, holiday, the firm's closed day: `calendar`) moves to the
 *   previous business day at the same local time; several landing on the same day make one, the
 *   nearest the deadline (j-0 over j-1); the overdue alerts keep their exact instants;
 * - a reminder whose instant has passed is skipped, not sent late;
 * - except the overdue alerts: an already-late deadline gets `overdue` now, and
 *   `overdue_critical` now too when its instant has passed as well.
 * Returns them in firing order.
 */
export function planReminders({
  deadline,
  timeZone,
  policy,
  now,
  midnightDueAt,
  calendar,
}: PlanInput): PlannedReminder[] {
  const dueDay = localDueDate(deadline, timeZone, midnightDueAt);
  const overdueAt = overdueInstant(deadline, timeZone);
  const criticalAt = overdueAt.plus(Duration.fromISO(policy.criticalDelay));
  const planned: PlannedReminder[] = [];

  const byInstant = new Map<
    number,
    { days: number; at: DateTime; movedFrom?: MovedFrom; absorbs: string[] }
  >();
  for (const days of policy.offsetsDays) {
    const rulesDay = dueDay.minus({ days });
    const { day, movedFrom } = calendar ? previousBusinessDay(rulesDay, calendar) : { day: rulesDay };
    const at = day.set({ ...policy.reminderTime, second: 0, millisecond: 0 });
    // j-0 of a dueAt earlier than the reminder time would fire after the deadline: no use.
    if (at >= overdueAt) continue;
    const same = byInstant.get(at.toMillis());
    const entry = { days, at, ...(movedFrom && { movedFrom }), absorbs: [] as string[] };
    if (!same) byInstant.set(at.toMillis(), entry);
    else if (days < same.days) {
      byInstant.set(at.toMillis(), { ...entry, absorbs: [...same.absorbs, `j-${same.days}`] });
    } else same.absorbs.push(`j-${days}`);
  }
  for (const { days, at, movedFrom, absorbs } of byInstant.values()) {
    if (at.toMillis() > now)
      planned.push({
        ...reminder('deadline_reminder', `j-${days}`, at, at),
        ...(movedFrom && { movedFrom }),
        ...(absorbs.length > 0 && { absorbs }),
      });
  }
  const late = overdueAt.toMillis() <= now;
  const nowInstant = DateTime.fromMillis(now, { zone: timeZone });
  planned.push(reminder('new_alert', 'overdue', late ? nowInstant : overdueAt, overdueAt));
  planned.push(
    reminder(
      'new_alert',
      'overdue_critical',
      criticalAt.toMillis() <= now ? nowInstant : criticalAt,
      criticalAt,
    ),
  );

  // Stable sort keeps overdue before overdue_critical when both fire now.
  return planned.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function reminder(type: ReminderType, kind: string, at: DateTime, dueInstant: DateTime): PlannedReminder {
  return { type, kind, at: at.toUTC().toISO()!, dueInstant: dueInstant.toUTC().toISO()! };
}

/**
 * Every reminder of a deadline at the instant the rules give, passed or not: for re-plans that
 * keep what is armed (an owner or zone change), whose instants move with the zone but whose set
 * of reminders does not. In firing order.
 */
export function remindersOf(input: Omit<PlanInput, 'now'>): PlannedReminder[] {
  return planReminders({ ...input, now: Number.NEGATIVE_INFINITY });
}
