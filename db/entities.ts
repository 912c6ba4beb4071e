import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import {
  ID_MAX_LENGTH,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  LOCALE_MAX_LENGTH,
  NOTIFICATION_LABEL_MAX_LENGTH,
  TIME_ZONE_MAX_LENGTH,
} from '../domain/limits.js';
import type { UserCalendar } from '../domain/business-days.js';
import type { KindPreference, QuietHours } from '../domain/preferences.js';

/**
 * Tables of the service. The schema itself is owned by the migrations in `db/migrations/`; the
 * lengths here name the limits (domain/limits.ts) that the migrations and the input schemas
 * follow, and test/integration/limits-tables.test.ts checks all three agree.
 */

export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.string().length(ID_MAX_LENGTH).primary(),
    name: p.text().default(''),
    locale: p.string().length(LOCALE_MAX_LENGTH).default('fr'),
    timezone: p.string().length(TIME_ZONE_MAX_LENGTH).default('Europe/Paris'),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
    /**
     * The last change of what places the user's reminders: `timezone`, `businessCalendar` or
     * `reminderTime` (null: before it was recorded; read as `updatedAt`).
     */
    zoneChangedAt: p.datetime().nullable(),
    /** The user's own business calendar (`UserCalendar`), or null: the service's. */
    businessCalendar: p.json<UserCalendar>().nullable(),
    /** `HH:mm` of the user's j-N reminders, or null: REMINDER_TIME. */
    reminderTime: p.string().length(5).nullable(),
  },
});
export type User = InferEntity<typeof UserSchema>;

export const DossierSchema = defineEntity({
  name: 'Dossier',
  tableName: 'dossiers',
  properties: {
    id: p.string().length(ID_MAX_LENGTH).primary(),
    title: p.text(),
    ownerId: p.string().length(ID_MAX_LENGTH).index(),
    dueDate: p.date().nullable(),
    dueAt: p.datetime().nullable(),
    urgent: p.boolean().default(false),
    urgentSince: p.datetime().nullable(),
    status: p
      .enum(['open', 'done', 'cancelled'] as const)
      .default('open')
      .index(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
    /** When its reminders were last planned from scratch (the reminder audit reads it). */
    plannedAt: p.datetime().defaultRaw('now()'),
    /** The owner's zone at `plannedAt`; null: the owner's current zone. */
    plannedZone: p.string().length(TIME_ZONE_MAX_LENGTH).nullable(),
    /** The last write of its deadline, status or owner (null: before it was recorded; read as `updatedAt`). */
    replannedAt: p.datetime().nullable(),
  },
});
export type Dossier = InferEntity<typeof DossierSchema>;

export const NotificationSchema = defineEntity({
  name: 'Notification',
  tableName: 'notifications',
  properties: {
    // bigserial: increasing, the clients' resume cursor. Read as a string to keep 64-bit precision.
    id: p.bigint('string').primary().autoincrement(),
    idempotencyKey: p.string().length(IDEMPOTENCY_KEY_MAX_LENGTH).unique(),
    userId: p.string().length(ID_MAX_LENGTH),
    type: p.string().length(NOTIFICATION_LABEL_MAX_LENGTH),
    kind: p.string().length(NOTIFICATION_LABEL_MAX_LENGTH),
    dossierId: p.string().length(ID_MAX_LENGTH).nullable(),
    title: p.text(),
    body: p.text(),
    data: p.json<Record<string, unknown>>(),
    scheduledFor: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    readAt: p.datetime().nullable(),
    /** Archived: out of the inbox and of the unread count (docs/api.md, "Inbox states"). */
    archivedAt: p.datetime().nullable(),
  },
});
export type Notification = InferEntity<typeof NotificationSchema>;

/**
 * A user's inbox state (written by the marks, read by the counts): the newest notification id
 * seen when the list was last opened, when, and the version that dates the user's counts.
 */
export const NotificationInboxStateSchema = defineEntity({
  name: 'NotificationInboxState',
  tableName: 'notification_inbox_states',
  properties: {
    userId: p.string().length(ID_MAX_LENGTH).primary(),
    lastSeenId: p.bigint('string').default('0'),
    seenAt: p.datetime().nullable(),
    /** Up by one with every change of the user's counts but a new notification (marks, retention). */
    version: p.bigint('string').default('0'),
    /** The newest of the user's ids the retention removed (0: none). */
    newestIdRemoved: p.bigint('string').default('0'),
  },
});
export type NotificationInboxState = InferEntity<typeof NotificationInboxStateSchema>;

/** A user's notification preferences (domain/preferences.ts): written by the REST server, read by the delivery activity. */
export const NotificationPreferenceSchema = defineEntity({
  name: 'NotificationPreference',
  tableName: 'notification_preferences',
  properties: {
    userId: p.string().length(ID_MAX_LENGTH).primary(),
    /** Only the kinds the user changed. */
    kinds: p.json<Record<string, KindPreference>>(),
    quietHours: p.json<QuietHours>().nullable(),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
});
export type NotificationPreference = InferEntity<typeof NotificationPreferenceSchema>;

export const entities = [
  UserSchema,
  DossierSchema,
  NotificationSchema,
  NotificationInboxStateSchema,
  NotificationPreferenceSchema,
];
