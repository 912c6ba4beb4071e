import { DateTime } from 'luxon';

/**
 * Business days: which local days are closed (Saturdays, Sundays, public holidays, a firm's own
 * closed days) and where a reminder that falls on one moves (the previous business day). Pure: the
 * holidays come in the planning context, computed by an activity (activities/business-calendar.ts)
 * and recorded in the workflow's history, so a replay never depends on the holiday library.
 */

/** Which holidays close a day, and the firm's own closed days (`yyyy-MM-dd` once, `MM-dd` yearly). */
export interface CalendarSetting {
  /** ISO 3166 country code, as date-holidays knows it: `FR`. */
  country: string;
  /** One of its regions, as date-holidays names them: `57`, `67`, `68` (Alsace-Moselle), `GP`… */
  region?: string;
  closedDays: string[];
}

/** A closed day as a setting gives it: `yyyy-MM-dd` once, or `MM-dd` every year (29 February: leap years). */
export function isClosedDaySpec(value: string): boolean {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return DateTime.fromISO(value).isValid;
  return /^\d{2}-\d{2}$/.test(value) && DateTime.fromISO(`2024-${value}`).isValid;
}

/** At most this many closed days in a setting (the service's or a user's). */
export const MAX_CLOSED_DAYS = 100;

/**
 * A user's own calendar (their profile's `businessCalendar`): a country and region with closed
 * days, or `off`; absent or null, the service's (BUSINESS_CALENDAR, BUSINESS_CLOSED_DAYS).
 */
export type UserCalendar = { country: string; region?: string; closedDays?: string[] } | 'off';

/** The calendar a user plans with: their own, else the service's; null when business days are off. */
export function effectiveCalendar(
  user: UserCalendar | null | undefined,
  service: CalendarSetting | null,
): CalendarSetting | null {
  if (user === 'off') return null;
  if (!user) return service;
  return {
    country: user.country,
    ...(user.region && { region: user.region }),
    closedDays: user.closedDays ?? [],
  };
}

/** A closed day other than a weekend day: a public holiday or a day the firm closes. */
export interface ClosedDay {
  /** Local calendar date, `yyyy-MM-dd`. */
  date: string;
  /** As people call it: `Lundi de Pâques`, `Lendemain de Noël`, `closed`. */
  name: string;
}

/** The closed days that matter for one deadline, as the planning context carries them. */
export interface BusinessCalendar {
  /** Which calendar: `FR`, `FR-57` (Moselle), with ` + closed days` when the firm adds its own. */
  name: string;
  /** The local dates covered, inclusive: `closed` lists every closed day between them. */
  from: string;
  to: string;
  /** Holidays and extra closed days in [from, to], weekends excepted, by date. */
  closed: ClosedDay[];
}

/** Where a reminder's day moved, and why: shown in the plan and the Temporal UI. */
export interface MovedFrom {
  /** The local date the rules gave, `yyyy-MM-dd`. */
  date: string;
  /** `Saturday`, `Sunday`, or the closed day's name. */
  reason: string;
}

/**
 * How many days before a deadline's earliest reminder the calendar lists: a reminder moves back
 * across at most this many closed days (French holidays and weekends never chain past 4; a firm's
 * closing fortnight fits). Past it, the reminder stays on its day.
 */
export const CALENDAR_LOOKBACK_DAYS = 45;

const WEEKEND: Record<number, string> = { 6: 'Saturday', 7: 'Sunday' };

/**
 * Why a local day is closed, or undefined for a business day. Past the calendar's span only
 * weekends are known to be closed.
 */
export function closedReason(day: DateTime, calendar: BusinessCalendar): string | undefined {
  const date = day.toISODate()!;
  const listed = date >= calendar.from && date <= calendar.to;
  return (
    (listed ? calendar.closed.find((closed) => closed.date === date)?.name : undefined) ??
    WEEKEND[day.weekday]
  );
}

/**
 * The business day on or before `day` (same wall-clock time, same zone), and where it moved from.
 * A day whose run of closed days leaves the calendar's span stays where it is.
 */
export function previousBusinessDay(
  day: DateTime,
  calendar: BusinessCalendar,
): { day: DateTime; movedFrom?: MovedFrom } {
  const reason = closedReason(day, calendar);
  if (reason === undefined) return { day };
  let candidate = day.minus({ days: 1 });
  // Below the span only weekends count: the loop ends on a weekday, found or not.
  while (closedReason(candidate, calendar) !== undefined) candidate = candidate.minus({ days: 1 });
  if (candidate.toISODate()! < calendar.from) return { day };
  return { day: candidate, movedFrom: { date: day.toISODate()!, reason } };
}

/**
 * Days after a deadline that its calendar lists too: a reminder or alert snoozed to "the next
 * business day" in the month after it (domain/snooze.ts) skips that month's holidays.
 */
export const CALENDAR_LOOKAHEAD_DAYS = 31;

/**
 * The local dates a deadline's calendar must cover: from `CALENDAR_LOOKBACK_DAYS` before its
 * earliest reminder to `CALENDAR_LOOKAHEAD_DAYS` after its due day.
 */
export function calendarSpan(dueDay: string, offsetsDays: readonly number[]): { from: string; to: string } {
  const due = DateTime.fromISO(dueDay, { zone: 'utc' });
  const earliest = Math.max(0, ...offsetsDays);
  return {
    from: due.minus({ days: earliest + CALENDAR_LOOKBACK_DAYS }).toISODate()!,
    to: due.plus({ days: CALENDAR_LOOKAHEAD_DAYS }).toISODate()!,
  };
}
