import { Duration } from 'luxon';

/**
 * The rules of the notification retention (docs/operations.md, "Retention"), apart from its I/O:
 * how long notifications are kept, the shortest and longest retentions the configuration accepts, the cutoff
 * of a run and the progress a retried run resumes from. No I/O.
 *
 * A duration counts its years as 365 days and its months as 30 (luxon's casual conversion), both
 * in the configuration's checks and in the cutoff: `P1Y` keeps 365 days, whatever the calendar.
 */

/** Kept a year unless NOTIFICATION_RETENTION says otherwise. */
export const DEFAULT_NOTIFICATION_RETENTION = 'P1Y';

/**
 * The shortest retention accepted: a user back from a week away still finds the week's
 * notifications, and every key a producer may still look up (today's daily report, a caller's
 * retried event, an activity's retries) is far younger.
 */
export const MIN_NOTIFICATION_RETENTION = 'P7D';

/**
 * The longest retention accepted: a century. Far longer than any meant (keeping everything is
 * `off`), and far from where the run's cutoff leaves the dates PostgreSQL takes (`P300000Y`) or
 * a duration overflows: a retention the start-up accepts never makes every night's run fail.
 */
export const MAX_NOTIFICATION_RETENTION = 'P100Y';

/**
 * How much longer than the reminder audit's lookback the retention must be. The audit looks back
 * over reminders due since `at - REMINDER_AUDIT_LOOKBACK` (its run's instant) and restores a
 * reminder whose row is gone (domain/reminder-audit.ts, verdict `sent`): a row the retention
 * removed must never be one it looks at. A reminder is stored at or after it is due, so a row
 * created before `now - retention` was due before it; a day on top covers an audit run that
 * starts, or is retried, hours after its instant (its window stays where its instant put it) and
 * the clocks of the workflows, the worker and PostgreSQL.
 */
export const RETENTION_MARGIN_OVER_AUDIT = 'P1D';

/** Milliseconds of an ISO 8601 duration (years as 365 days, months as 30); NaN if it is not one. */
export function durationMs(iso: string): number {
  const duration = Duration.fromISO(iso);
  return duration.isValid ? duration.toMillis() : Number.NaN;
}

/** Whether `value` is a retention the settings accept on its own: an ISO duration from P7D to P100Y. */
export function isRetentionInRange(value: string): boolean {
  const ms = durationMs(value);
  return ms >= durationMs(MIN_NOTIFICATION_RETENTION) && ms <= durationMs(MAX_NOTIFICATION_RETENTION);
}

/** The shortest retention compatible with the audit's lookback: P7D, and at least the lookback plus a day. */
export function minimumRetentionMs(auditLookback: string): number {
  return Math.max(
    durationMs(MIN_NOTIFICATION_RETENTION),
    durationMs(auditLookback) + durationMs(RETENTION_MARGIN_OVER_AUDIT),
  );
}

/** ISO instant: a run started at `at` removes the notifications created before it. */
export function retentionCutoff(at: string, retention: string): string {
  return new Date(Date.parse(at) - durationMs(retention)).toISOString();
}

/** Where a run is in the notifications ordered by (created_at, id): the last row it looked at. */
export interface RetentionPosition {
  /** `created_at` to the microsecond, ISO (UTC), as PostgreSQL prints it for the next batch. */
  createdAt: string;
  id: string;
}

/** A run's progress, heartbeated after each batch; a retried attempt goes on from it. */
export interface RetentionProgress {
  /** The last row looked at; null before the first batch. */
  after: RetentionPosition | null;
  /** Rows removed so far, of which `unread` had not been read. */
  removed: number;
  unread: number;
  /** Older than the cutoff and kept: the reminders and alerts of dossiers still open. */
  kept: number;
  /** Older than the cutoff and being written at that moment (a mark read): left for the next run. */
  skipped: number;
  batches: number;
}

const COUNTS = ['removed', 'unread', 'kept', 'skipped', 'batches'] as const;

export const NO_RETENTION_PROGRESS: RetentionProgress = {
  after: null,
  removed: 0,
  unread: 0,
  kept: 0,
  skipped: 0,
  batches: 0,
};

/** The progress a retried attempt heartbeated, or the beginning (details absent or not one). */
export function resumeRetention(details: unknown): RetentionProgress {
  if (typeof details !== 'object' || details === null) return NO_RETENTION_PROGRESS;
  const record = details as Record<string, unknown>;
  const counts = COUNTS.every((key) => Number.isSafeInteger(record[key]) && (record[key] as number) >= 0);
  const after = record.after as Record<string, unknown> | null | undefined;
  const position =
    after === null ||
    (typeof after === 'object' &&
      after !== undefined &&
      typeof after.createdAt === 'string' &&
      !Number.isNaN(Date.parse(after.createdAt)) &&
      typeof after.id === 'string' &&
      /^\d{1,19}$/.test(after.id));
  return counts && position ? (record as unknown as RetentionProgress) : NO_RETENTION_PROGRESS;
}
