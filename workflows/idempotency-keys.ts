/**
 * Idempotency keys of notifications. The notifications table has a unique index on them,
 * so a retried activity, a replayed workflow or a second scheduler run never stores twice.
 */

/** One reminder per (dossier, deadline, kind). */
export const reminderKey = (dossierId: string, deadline: string, kind: string): string =>
  `reminder:${dossierId}:${deadline}:${kind}`;

/** One `urgent` alert per time a dossier becomes urgent. */
export const urgentAlertKey = (dossierId: string, urgentSince: string): string =>
  `urgent:${dossierId}:${new Date(urgentSince).toISOString()}`;

/** One notification per caller event (the caller's retries reuse the event id). */
export const dossierUpdateKey = (dossierId: string, eventId: string): string =>
  `update:${dossierId}:${eventId}`;

/** One daily report per user per local date. */
export const dailyReportKey = (userId: string, localDate: string): string => `daily:${userId}:${localDate}`;
