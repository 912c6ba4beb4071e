/**
 * Idempotency keys of notifications. The notifications table has a unique index on them,
 * so a retried activity, a replayed workflow or a second scheduler run never stores twice.
 *
 * Keys must never collide between two different notifications. Components are joined with `:`;
 * a component that may itself contain `:` is either the first free one (read from the left) with
 * every later component of a fixed shape (a date, an instant, a kind without `:`), or escaped
 * (`%` → `%25`, `:` → `%3A`) so that it has no `:`. Reading from the right then gives back each
 * component: two different inputs never give one key. Escaping leaves a component without `%`
 * or `:` unchanged, so keys stored before escaping was introduced keep their shape.
 */

/** `%` → `%25`, `:` → `%3A`: the component then contains no `:`. */
export const escapeKeyComponent = (value: string): string => value.replace(/%/g, '%25').replace(/:/g, '%3A');

/** One reminder per (dossier, deadline, kind): the deadline (date or ISO instant) and kind have fixed shapes. */
export const reminderKey = (dossierId: string, deadline: string, kind: string): string =>
  `reminder:${dossierId}:${deadline}:${kind}`;

/**
 * One `urgent` alert per owner per time a dossier becomes urgent: a dossier reassigned while
 * urgent alerts its new owner too (docs/reminders.md: "whose owner has not yet had an urgent alert").
 */
export const urgentAlertKey = (dossierId: string, urgentSince: string, ownerId: string): string =>
  `urgent:${dossierId}:${new Date(urgentSince).toISOString()}:${escapeKeyComponent(ownerId)}`;

/** One notification per caller event (the caller's retries reuse the event id). */
export const dossierUpdateKey = (dossierId: string, eventId: string): string =>
  `update:${dossierId}:${escapeKeyComponent(eventId)}`;

/**
 * One notification per snooze call: the notification snoozed (a decimal id) and the call's event
 * id (escaped); a retried call gives the same key, even after its comeback was sent.
 */
export const snoozedReminderKey = (dossierId: string, notificationId: string, eventId: string): string =>
  `snooze:${dossierId}:${notificationId}:${escapeKeyComponent(eventId)}`;

/** One daily report per user per local date (a fixed-shape date after the free user id). */
export const dailyReportKey = (userId: string, localDate: string): string => `daily:${userId}:${localDate}`;

/**
 * Keys of profile changes (table `profile_changes`), not notifications: a profile sent with a
 * dossier call is applied once per call, a retried call finds its key and changes nothing.
 */
export const profileChangeKey = {
  /** Sent with a dossier call: the dossier id is the first free component, the event id escaped. */
  ofDossierCall: (dossierId: string, eventId: string): string =>
    `dossier:${dossierId}:${escapeKeyComponent(eventId)}`,
  /** Sent on the user's profile route: both escaped. */
  ofUserCall: (userId: string, eventId: string): string =>
    `user:${escapeKeyComponent(userId)}:${escapeKeyComponent(eventId)}`,
};
