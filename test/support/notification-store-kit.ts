import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import {
  storeNotification,
  type NotificationDraft,
  type StoredRow,
} from '../../activities/notification-store.js';
import { NOTIFICATION_CHANNEL } from '../../db/orm.js';
import type { TestDatabase } from './database.js';
import { waitFor } from './wait.js';

/** What the notification store's tests share (test/integration/notification-store*.test.ts). */

export const newKey = (label: string): string => `test:${label}:${randomBytes(4).toString('hex')}`;

export const draft = (overrides: Partial<NotificationDraft> = {}): NotificationDraft => ({
  idempotencyKey: newKey('draft'),
  userId: 'u1',
  type: 'new_alert',
  kind: 'urgent',
  dossierId: 'd1',
  title: `Dossier urgent : Bilan ${randomBytes(3).toString('hex')}`,
  body: "Le dossier « Bilan » est marqué urgent. Échéance : 28 mars 2027. L'ordre ? Oui.",
  data: { dossierTitle: 'Bilan', dueDate: '2027-03-28', urgent: true },
  scheduledFor: null,
  ...overrides,
});

export const rowsWithKey = (db: TestDatabase, key: string) =>
  db.query<{ id: string; body: string }>(
    'select id::text as id, body from notifications where idempotency_key = $1',
    [key],
  );

/** Stores a draft whose key is fresh, so never retired: the answer is a row, with its id. */
export async function storeRow(em: EntityManager, notification: NotificationDraft): Promise<StoredRow> {
  const stored = await storeNotification(em, notification);
  assert.ok(!('retired' in stored), `${notification.idempotencyKey}: a fresh key, never retired`);
  return stored;
}

export type Payload = Record<string, unknown> & { id: string };

/** A dedicated connection LISTENing on the notifications channel; collects parsed payloads in order. */
export interface Listener {
  client: pg.Client;
  received: Payload[];
  /** Waits for the NOTIFY of the notification with this id; returns its payload. */
  next(id: string): Promise<Payload>;
  /** A round trip on the listening connection: delivers any NOTIFY already sent to it. */
  flush(): Promise<void>;
}

export async function listen(db: TestDatabase, t: TestContext): Promise<Listener> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.after(() => client.end());
  const received: Payload[] = [];
  client.on('notification', (message) => {
    if (message.channel === NOTIFICATION_CHANNEL) received.push(JSON.parse(message.payload!) as Payload);
  });
  await client.query(`listen ${NOTIFICATION_CHANNEL}`);
  return {
    client,
    received,
    next: (id) =>
      waitFor(`NOTIFY of notification ${id}`, () => received.find((payload) => payload.id === id), {
        timeoutMs: 3000,
        intervalMs: 10,
      }),
    flush: async () => {
      await client.query('select 1');
    },
  };
}
