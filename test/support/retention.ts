import { after, before, beforeEach } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createRetentionActivities, type RetentionOptions } from '../../activities/retention-activities.js';
import { loadConfig } from '../../config/config.js';
import type { RetentionProgress } from '../../domain/retention.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * What the retention tests (test/integration/retention-*.test.ts) share: a test database emptied
 * before each test (users lea and max), the retention's activities on it, a run in the SDK's mock
 * activity context with its heartbeats, and rows written as they would be.
 */

/** Set by `setUpRetentionDatabase`'s before hook. */
export let db: TestDatabase;
export const DAY = 86_400_000;
export const now = () => new Date().toISOString();
export const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** Creates the file's database, empties it before each test, drops it after. */
export function setUpRetentionDatabase(): void {
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.query('delete from notifications');
    await db.query('delete from retired_notification_keys');
    await db.query('delete from dossiers');
    await db.query('delete from users');
    await db.query(`insert into users (id) values ('lea'), ('max')`);
  });
}
export const retention = (config: Record<string, string> = {}, options: RetentionOptions = {}) => {
  const removedByState = { read: 0, unread: 0 };
  const activities = createRetentionActivities(
    {
      orm: db.orm,
      temporal: { client: {} as never, taskQueue: 'unused' },
      config: loadConfig(config),
      retentionMetrics: {
        removed: ({ read, unread }) => {
          removedByState.read += read;
          removedByState.unread += unread;
        },
      },
    },
    options,
  );
  return { ...activities, removedByState };
};

/** Runs the activity in a mock activity context (with a retried attempt's heartbeat, if given). */
export async function run<R>(
  fn: (arg: { at: string }) => Promise<R>,
  at: string,
  heartbeatDetails?: unknown,
): Promise<{ result: R; heartbeats: RetentionProgress[] }> {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? undefined : { heartbeatDetails }, {
    logger: new DefaultLogger('WARN'),
  });
  const heartbeats: RetentionProgress[] = [];
  env.on('heartbeat', (details: RetentionProgress) => heartbeats.push(structuredClone(details)));
  const result = await env.run<[{ at: string }], R, typeof fn>(fn, { at });
  return { result, heartbeats };
}

export interface Seed {
  key: string;
  userId?: string;
  type?: string;
  kind?: string;
  dossierId?: string;
  createdAt: string;
  read?: boolean;
}

export async function insertNotification(seed: Seed): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    `insert into notifications (idempotency_key, user_id, type, kind, dossier_id, title, body, created_at, read_at)
     values ($1, $2, $3, $4, $5, 't', 'b', $6, case when $7 then $6::timestamptz end)
     returning id::text as id`,
    [
      seed.key,
      seed.userId ?? 'lea',
      seed.type ?? 'dossier_update',
      seed.kind ?? 'updated',
      seed.dossierId ?? null,
      seed.createdAt,
      seed.read ?? true,
    ],
  );
  return row!.id;
}

export async function insertDossier(
  id: string,
  fields: { status?: string; urgent?: boolean; urgentSince?: string },
) {
  await db.query(
    `insert into dossiers (id, title, owner_id, due_date, status, urgent, urgent_since)
     values ($1::text, $1::text, 'lea', '2025-01-31', $2, $3, $4)`,
    [id, fields.status ?? 'open', fields.urgent ?? false, fields.urgentSince ?? null],
  );
}

export const keys = async (): Promise<string[]> =>
  (await db.query<{ key: string }>('select idempotency_key as key from notifications order by 1')).map(
    (row) => row.key,
  );
