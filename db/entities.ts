import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** Tables of the service. The schema itself is owned by the migrations in `db/migrations/`. */

export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.string().length(128).primary(),
    name: p.text().default(''),
    locale: p.string().length(8).default('fr'),
    timezone: p.string().length(64).default('Europe/Paris'),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
});
export type User = InferEntity<typeof UserSchema>;

export const DossierSchema = defineEntity({
  name: 'Dossier',
  tableName: 'dossiers',
  properties: {
    id: p.string().length(128).primary(),
    title: p.text(),
    ownerId: p.string().length(128).index(),
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
  },
});
export type Dossier = InferEntity<typeof DossierSchema>;

export const NotificationSchema = defineEntity({
  name: 'Notification',
  tableName: 'notifications',
  properties: {
    // bigserial: increasing, the clients' resume cursor. Read as a string to keep 64-bit precision.
    id: p.bigint('string').primary().autoincrement(),
    idempotencyKey: p.string().length(255).unique(),
    userId: p.string().length(128),
    type: p.string().length(32),
    kind: p.string().length(32),
    dossierId: p.string().length(128).nullable(),
    title: p.text(),
    body: p.text(),
    data: p.json<Record<string, unknown>>(),
    scheduledFor: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    readAt: p.datetime().nullable(),
  },
});
export type Notification = InferEntity<typeof NotificationSchema>;

export const entities = [UserSchema, DossierSchema, NotificationSchema];
