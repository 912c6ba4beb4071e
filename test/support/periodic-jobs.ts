import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { loadConfig } from '../../config/config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * What the tests of the scheduled activities share (test/integration/urgent-alerts.test.ts,
 * test/integration/daily-reports.test.ts): the activities run directly against real PostgreSQL,
 * inside the SDK's mock activity context (they heartbeat), on rows seeded with SQL, as the NormX
 * backend or an operator would.
 */

export type Activities = ReturnType<typeof createActivities>;

/** A database of the test file's own, and the activities built on it. */
export async function openPeriodicJobTables(): Promise<{ db: TestDatabase; activities: Activities }> {
  const db = await createTestDatabase();
  const activities = createActivities({
    orm: db.orm,
    // alertUrgentDossiers and sendDailyReports never reach Temporal; only reconcileDossierWorkflows
    // does, and it is covered by the integration tests against a real Temporal server.
    temporal: { client: {} as never, taskQueue: 'unused' },
    config: loadConfig({}),
  });
  return { db, activities };
}

/** Both activities scan every user and dossier: each test starts from empty tables. */
export async function emptyPeriodicJobTables(db: TestDatabase): Promise<void> {
  await db.query('delete from notifications');
  await db.query('delete from dossiers');
  await db.query('delete from users');
}

/** Runs an activity in a mock activity context; counts its heartbeats. */
export async function runActivity<A, R>(
  fn: (arg: A) => Promise<R>,
  arg: A,
): Promise<{ result: R; heartbeats: number }> {
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') });
  let heartbeats = 0;
  env.on('heartbeat', () => (heartbeats += 1));
  const result = await env.run<[A], R, typeof fn>(fn, arg);
  return { result, heartbeats };
}

/** A dossier row as `insertDossier` writes it (its other columns take their defaults). */
export interface DossierSeed {
  id: string;
  title: string;
  ownerId: string;
  dueDate?: string;
  dueAt?: string;
  urgent?: boolean;
  urgentSince?: string;
  status?: 'open' | 'done' | 'cancelled';
}

/** A notification as `notifications(type)` reads it. */
export interface NotificationRow {
  id: string;
  idempotency_key: string;
  user_id: string;
  type: string;
  kind: string;
  dossier_id: string | null;
  title: string;
  body: string;
  data: Record<string, unknown>;
}

/** Seeds and reads the rows of the database `database()` answers (opened in the file's `before`). */
export function periodicJobRows(database: () => TestDatabase) {
  // Read at each query, not here: the file's `before` opens the database after this is called.
  const db: Pick<TestDatabase, 'query'> = { query: (sql, params) => database().query(sql, params) };

  async function insertUser(id: string, fields: { locale?: string; timezone?: string } = {}): Promise<void> {
    await db.query(
      `insert into users (id, name, locale, timezone)
       values ($1, $2, coalesce($3, 'fr'), coalesce($4, 'Europe/Paris'))`,
      [id, `User ${id}`, fields.locale ?? null, fields.timezone ?? null],
    );
  }

  async function insertDossier(seed: DossierSeed): Promise<void> {
    await db.query(
      `insert into dossiers (id, title, owner_id, due_date, due_at, urgent, urgent_since, status)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        seed.id,
        seed.title,
        seed.ownerId,
        seed.dueDate ?? null,
        seed.dueAt ?? null,
        seed.urgent ?? false,
        seed.urgentSince ?? null,
        seed.status ?? 'open',
      ],
    );
  }

  const notifications = (type: string) =>
    db.query<NotificationRow>(
      `select id::text as id, idempotency_key, user_id, type, kind, dossier_id, title, body, data
         from notifications where type = $1 order by idempotency_key`,
      [type],
    );
  const countNotifications = async (): Promise<number> =>
    Number((await db.query<{ n: string }>('select count(*) as n from notifications'))[0]!.n);
  const urgentSinceOf = async (id: string): Promise<string | null> => {
    const [row] = await db.query<{ urgent_since: Date | null }>(
      'select urgent_since from dossiers where id = $1',
      [id],
    );
    return row!.urgent_since?.toISOString() ?? null;
  };

  return { insertUser, insertDossier, notifications, countNotifications, urgentSinceOf };
}
