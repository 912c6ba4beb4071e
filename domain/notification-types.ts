/** The kinds of notification a user receives, declared once: the wire enum, the web client, the workflows and the store use them. */
export const NOTIFICATION_TYPES = [
  'dossier_update',
  'new_alert',
  'deadline_reminder',
  'daily_report',
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** What a dossier's reminders are (`j-N` reminders, and the overdue and urgent alerts). */
export type ReminderType = Extract<NotificationType, 'deadline_reminder' | 'new_alert'>;

/** What a dossier's workflow sends: everything but the daily report, which the periodic job sends. */
export type DossierNotificationType = Exclude<NotificationType, 'daily_report'>;

/** A dossier's reminders and alerts, as a list: what retention keeps for an open dossier, what a popup groups. */
export const REMINDER_TYPES = ['deadline_reminder', 'new_alert'] as const satisfies readonly ReminderType[];

export const isReminderType = (type: string): type is ReminderType =>
  (REMINDER_TYPES as readonly string[]).includes(type);

/** What a user may snooze (docs/api.md, "Snooze"): a dossier's reminder or alert. */
export const isSnoozable = <T extends { type: string; dossierId: string | null }>(
  notification: T,
): notification is T & { type: ReminderType; dossierId: string } =>
  isReminderType(notification.type) && notification.dossierId !== null;
