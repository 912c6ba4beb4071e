import { Duration, IANAZone } from 'luxon';

/**
 * When each user's daily report is due. Pure: no I/O, no clock (the instant is an argument).
 *
 * The report for local date D of a zone is due at R(D): the first instant at which the zone's
 * wall clock shows date D and a time at or after the report time. Usually that is D at the
 * report time; on a day the report time does not exist (DST gap) it is the instant the clock
 * jumps past it; on a day it exists twice (DST overlap) it is the first of the two.
 *
 * It is sent by the first run in [R(D), R(D) + catch-up window): a run delayed by an outage still
 * sends it, once (the key is per user and local date), and a report later than the window is
 * dropped rather than sent hours late. The windows of consecutive dates never overlap (at most
 * 12 hours, days are at least 23 hours long), so at any instant a zone has at most one date due.
 */

export interface ClockTime {
  hour: number;
  minute: number;
}

export interface DailyReportRule {
  /** Local wall-clock time of the report in each user's own zone. */
  time: ClockTime;
  /** ISO 8601 duration, from 15 minutes to 12 hours (see `catchUpWindowMillis`). */
  catchUpWindow: string;
}

/**
 * Every UTC offset in use is a whole number of quarter hours, so a run every 15 minutes at the
 * right minute of the quarter hits each zone's report time exactly.
 */
export const REPORT_RUN_EVERY_MINUTES = 15;
export const MIN_CATCH_UP_WINDOW_MINUTES = REPORT_RUN_EVERY_MINUTES;
export const MAX_CATCH_UP_WINDOW_MINUTES = 12 * 60;

/**
 * The minutes of each UTC hour the report schedule runs at: those congruent to the report time's
 * minute modulo 15 (18:00 → 0, 15, 30, 45; 18:10 → 10, 25, 40, 55).
 */
export function reportRunMinutes(time: ClockTime): number[] {
  const first = time.minute % REPORT_RUN_EVERY_MINUTES;
  const minutes: number[] = [];
  for (let minute = first; minute < 60; minute += REPORT_RUN_EVERY_MINUTES) minutes.push(minute);
  return minutes;
}

/** The catch-up window in milliseconds; throws if it is not a duration from 15 minutes to 12 hours. */
export function catchUpWindowMillis(window: string): number {
  const duration = Duration.fromISO(window);
  const millis = duration.isValid ? duration.toMillis() : NaN;
  if (!(millis >= MIN_CATCH_UP_WINDOW_MINUTES * 60_000 && millis <= MAX_CATCH_UP_WINDOW_MINUTES * 60_000)) {
    throw new RangeError(
      `catch-up window ${JSON.stringify(window)} must be a duration from ${MIN_CATCH_UP_WINDOW_MINUTES} minutes to ${MAX_CATCH_UP_WINDOW_MINUTES / 60} hours`,
    );
  }
  return millis;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** More than any clock change in use (Antarctica/Troll's 2 hours is the largest). */
const SLACK = 3 * 60 * MINUTE;

/**
 * R(D) in epoch milliseconds: the first instant the wall clock of `zone` shows `localDate` at
 * `time` or later. Offsets are read a day either side of the wall time (at most one change in
 * between, true of every zone in use), each candidate instant is kept if the zone has that
 * offset at it, and a wall time with no instant (a gap) resolves to the change itself.
 */
export function localReportInstant(zone: IANAZone, localDate: string, time: ClockTime): number {
  const [year, month, day] = localDate.split('-').map(Number) as [number, number, number];
  // The wall time read as if it were UTC; the instant is this minus the offset in force.
  const wall = Date.UTC(year, month - 1, day, time.hour, time.minute);
  const offsetBefore = zone.offset(wall - DAY) * MINUTE;
  const offsetAfter = zone.offset(wall + DAY) * MINUTE;
  const valid = [wall - offsetBefore, wall - offsetAfter].filter(
    (instant) => zone.offset(instant) * MINUTE === wall - instant,
  );
  if (valid.length > 0) return Math.min(...valid);
  // A gap (the clock jumps forward over the wall time): the change lies in (low, high]. Every
  // change in use falls on a whole minute: search minutes.
  let low = wall - offsetAfter;
  let high = wall - offsetBefore;
  while (high - low > MINUTE) {
    const middle = low + Math.floor((high - low) / MINUTE / 2) * MINUTE;
    if (zone.offset(middle) * MINUTE === offsetBefore) low = middle;
    else high = middle;
  }
  return high;
}

export interface DueReport {
  /** The local date the report is for (its idempotency key's date). */
  localDate: string;
  /** R(D), the instant it was due (ISO). */
  dueAt: string;
}

/** The report due in `zone` at `at`, if any (`windowMillis`: see `catchUpWindowMillis`). */
export function dueReport(
  zone: IANAZone,
  at: Date,
  time: ClockTime,
  windowMillis: number,
): DueReport | undefined {
  const now = at.getTime();
  const offset = zone.offset(now) * MINUTE;
  // Today's local date, as the UTC date of the instant shifted by the offset in force.
  const today = new Date(now + offset);
  today.setUTCHours(time.hour, time.minute, 0, 0);
  // The date due is today's, yesterday's (a late report time plus its window runs past
  // midnight) or tomorrow's (a clock set back over midnight shows yesterday's date again).
  for (const days of [-1, 0, 1]) {
    const wall = today.getTime() + days * DAY;
    // Read with today's offset, the report instant is off by at most the clock changes in
    // between (2 hours at most in any zone): a date that far from due is not looked up.
    const estimate = wall - offset;
    if (estimate - SLACK > now || estimate + windowMillis + SLACK <= now) continue;
    const localDate = new Date(wall).toISOString().slice(0, 10);
    const dueAt = localReportInstant(zone, localDate, time);
    if (dueAt <= now && now < dueAt + windowMillis)
      return { localDate, dueAt: new Date(dueAt).toISOString() };
  }
  return undefined;
}

export interface DueZone extends DueReport {
  /** The zone as stored on the users. */
  zone: string;
  /** The zone the report is computed in: `zone`, or the default zone if `zone` is not a valid IANA zone. */
  effectiveZone: string;
}

/**
 * Of the zones users live in, those with a report due at `at`, and for which local date.
 * A zone name that is not a valid IANA zone (a row written outside the API) is read as
 * `fallbackZone`, the zone the service assumes when a user has none.
 */
export function dueZones(
  zones: readonly string[],
  at: Date,
  rule: DailyReportRule,
  fallbackZone: string,
): DueZone[] {
  const windowMillis = catchUpWindowMillis(rule.catchUpWindow);
  const due: DueZone[] = [];
  for (const zone of zones) {
    // `create` caches one instance per name, with its validity: no formatter built per call.
    const stored = IANAZone.create(zone);
    const effectiveZone = stored.isValid ? zone : fallbackZone;
    const report = dueReport(
      stored.isValid ? stored : IANAZone.create(fallbackZone),
      at,
      rule.time,
      windowMillis,
    );
    if (report) due.push({ zone, effectiveZone, ...report });
  }
  return due;
}
