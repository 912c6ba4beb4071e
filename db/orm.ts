import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { DEFAULT_DATABASE_POOL_MAX } from '../domain/limits.js';
import { entities } from './entities.js';
import { Migration20261124000000Initial } from './migrations/Migration20261124000000Initial.js';
import { Migration20261124010000WireFormat } from './migrations/Migration20261124010000WireFormat.js';
import { Migration20261124020000UserNotificationLock } from './migrations/Migration20261124020000UserNotificationLock.js';
import { Migration20261201000000WiderIdempotencyKey } from './migrations/Migration20261201000000WiderIdempotencyKey.js';
import { Migration20261201010000PeriodicJobIndexes } from './migrations/Migration20261201010000PeriodicJobIndexes.js';
import { Migration20261201020000ProfileChanges } from './migrations/Migration20261201020000ProfileChanges.js';
import { Migration20261202000000ReminderAudit } from './migrations/Migration20261202000000ReminderAudit.js';
import { Migration20261202010000ReplanStamps } from './migrations/Migration20261202010000ReplanStamps.js';
import { Migration20261203000000NotificationRetention } from './migrations/Migration20261203000000NotificationRetention.js';
import { Migration20261204000000RetiredNotificationKeys } from './migrations/Migration20261204000000RetiredNotificationKeys.js';
import { Migration20261205000000InboxStates } from './migrations/Migration20261205000000InboxStates.js';
import { Migration20261206000000UserPlanning } from './migrations/Migration20261206000000UserPlanning.js';
import { Migration20261207000000NotificationPreferences } from './migrations/Migration20261207000000NotificationPreferences.js';

/** Channel of the `NOTIFY` sent in the transaction that stores a notification. */
export const NOTIFICATION_CHANNEL = 'normx_notifications';
/**
 * Channel of the `NOTIFY` sent in the transaction that changes a user's counts (a mark read,
 * archive, unarchive or seen; the retention): `notification_counts` (db/migrations/
 * Migration20261205000000InboxStates.ts), `{userId, unread, unseen, archived, lastSeenId, latestId, version}`.
 */
export const UNREAD_CHANNEL = 'normx_unread_counts';

export type Orm = MikroORM;

/** How long a migration's transaction may sit idle before PostgreSQL ends its session (and its locks). */
const MIGRATION_IDLE_LIMIT_MS = 30_000;

/** How long a statement may run, and what a silent network gets on top, before its connection is dropped. */
export const NETWORK_GRACE_MS = 5000;

/**
 * The pg driver's settings that bound each round trip. A statement PostgreSQL runs past
 * `statementTimeoutMs` is cancelled by PostgreSQL (the connection stays good). A reply that never
 * comes — a partition, a middlebox that forgot the connection: TCP sees nothing wrong — fails
 * the query `NETWORK_GRACE_MS` later, and that connection, its reply still owed, is refused by
 * the pool's check before any reuse (docs/protocol.md, "When PostgreSQL goes silent"); without it a read
 * waited for ever (test/integration/database-deadlines.test.ts). 0 turns them off; `migrate` runs without.
 */
function deadlineOptions(statementTimeoutMs: number): Record<string, unknown> {
  if (statementTimeoutMs === 0) return {};
  return {
    connection: {
      statement_timeout: statementTimeoutMs,
      // A transaction whose client went silent after a statement (its connection dropped here,
      // its close lost in the partition) would hold its locks — a user's notification lock —
      // until PostgreSQL's TCP keepalive gives up, hours later: PostgreSQL ends it instead.
      idle_in_transaction_session_timeout: statementTimeoutMs + NETWORK_GRACE_MS,
      query_timeout: statementTimeoutMs + NETWORK_GRACE_MS,
      connectionTimeoutMillis: statementTimeoutMs + NETWORK_GRACE_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    },
    // pg clears readyForQuery when it sends a query and sets it when the reply ends: a client
    // that is not ready when taken from the pool still owes a reply that never came.
    pool: { validate: (client: { readyForQuery?: boolean }) => client.readyForQuery === true },
  };
}

/**
 * Opens the connection pool. Entities are schemas (no reflection); migrations are listed, not
 * globbed. `log` receives MikroORM's own lines (the migrator's), e.g. a JSON logger's info.
 * `statementTimeoutMs` bounds each statement (DATABASE_STATEMENT_TIMEOUT_MS; 0: no bound).
 */
export async function openOrm(
  databaseUrl: string,
  options: {
    poolMax?: number;
    statementTimeoutMs?: number;
    /** How long a statement waits for a lock before it fails (the migrations' connection); none by default. */
    lockTimeoutMs?: number;
    log?: (message: string) => void;
  } = {},
): Promise<Orm> {
  return MikroORM.init({
    clientUrl: databaseUrl,
    entities,
    discovery: { warnWhenNoEntities: true },
    extensions: [Migrator],
    migrations: {
      migrationsList: [
        { name: 'Migration20261124000000Initial', class: Migration20261124000000Initial },
        { name: 'Migration20261124010000WireFormat', class: Migration20261124010000WireFormat },
        {
          name: 'Migration20261124020000UserNotificationLock',
          class: Migration20261124020000UserNotificationLock,
        },
        {
          name: 'Migration20261201000000WiderIdempotencyKey',
          class: Migration20261201000000WiderIdempotencyKey,
        },
        {
          name: 'Migration20261201010000PeriodicJobIndexes',
          class: Migration20261201010000PeriodicJobIndexes,
        },
        {
          name: 'Migration20261201020000ProfileChanges',
          class: Migration20261201020000ProfileChanges,
        },
        { name: 'Migration20261202000000ReminderAudit', class: Migration20261202000000ReminderAudit },
        { name: 'Migration20261202010000ReplanStamps', class: Migration20261202010000ReplanStamps },
        {
          name: 'Migration20261203000000NotificationRetention',
          class: Migration20261203000000NotificationRetention,
        },
        {
          name: 'Migration20261204000000RetiredNotificationKeys',
          class: Migration20261204000000RetiredNotificationKeys,
        },
        { name: 'Migration20261205000000InboxStates', class: Migration20261205000000InboxStates },
        { name: 'Migration20261206000000UserPlanning', class: Migration20261206000000UserPlanning },
        {
          name: 'Migration20261207000000NotificationPreferences',
          class: Migration20261207000000NotificationPreferences,
        },
      ],
      transactional: true,
      allOrNothing: true,
    },
    pool: { min: 0, max: options.poolMax ?? DEFAULT_DATABASE_POOL_MAX },
    driverOptions:
      options.lockTimeoutMs === undefined
        ? deadlineOptions(options.statementTimeoutMs ?? 0)
        : {
            connection: {
              lock_timeout: options.lockTimeoutMs,
              // A migration's statements follow one another; a transaction idle this long lost its
              // client (a partition, a dead machine): PostgreSQL ends it, and frees its locks.
              idle_in_transaction_session_timeout: MIGRATION_IDLE_LIMIT_MS,
              keepAlive: true,
              keepAliveInitialDelayMillis: 10_000,
            },
          },
    // Forked EntityManagers only: the global one must never hold request state.
    allowGlobalContext: false,
    debug: false,
    ...(options.log && { logger: options.log, colors: false }),
  });
}

/**
 * Applies pending migrations, each in a transaction, before the workers and servers start. They
 * run on a connection of their own (except `sharedConnection`: PGlite under `npm start` is one
 * session), which:
 * - has no statement deadline: a backfill of a large table may take longer than any request
 *   should (the worker could not start);
 * - holds the migrations' advisory lock: two workers starting together migrate one after the
 *   other (the second found the first's change half applied and failed);
 * - waits `lockTimeoutMs` at most for any lock, below the smallest statement deadline (1 s), and
 *   tries again with backoff for up to `giveUpAfterMs`: a schema change waiting behind a long
 *   reader (a report, a dump) would queue every query of the service behind it, each failing
 *   at its deadline.
 */
export async function migrate(
  orm: Orm,
  {
    lockTimeoutMs = 500,
    giveUpAfterMs = 10 * 60_000,
    sharedConnection = false,
  }: { lockTimeoutMs?: number; giveUpAfterMs?: number; sharedConnection?: boolean } = {},
): Promise<void> {
  if (sharedConnection) {
    await orm.getMigrator().up();
    return;
  }
  const log = orm.config.get('logger');
  // One connection (pool of one): the session lock and the migrations share it.
  const own = await openOrm(orm.config.get('clientUrl')!, { poolMax: 1, lockTimeoutMs, log });
  const giveUpAt = Date.now() + giveUpAfterMs;
  const connection = own.em.getConnection();
  try {
    for (let waitMs = 250; ; waitMs = Math.min(waitMs * 2, 30_000)) {
      try {
        await connection.execute('select pg_advisory_lock(?::bigint)', [MIGRATION_LOCK]);
        try {
          await own.getMigrator().up();
        } finally {
          await connection.execute('select pg_advisory_unlock(?::bigint)', [MIGRATION_LOCK]);
        }
        return;
      } catch (error) {
        if (!causedBy(error, LOCK_NOT_AVAILABLE) || Date.now() + waitMs > giveUpAt) throw error;
        log(`Migration waiting for a lock held by another session: trying again in ${waitMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  } finally {
    await own.close();
  }
}

/** The migrations' session-level advisory lock (any constant of ours; "nmxmigr" in ASCII). */
const MIGRATION_LOCK = 0x6e6d786d69677200n.toString();

/** PostgreSQL's `lock_not_available`: a `lock_timeout` expired. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Whether an error, or one of its causes (MikroORM wraps the driver's), carries this SQLSTATE. */
function causedBy(error: unknown, code: string): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if ((current as { code?: unknown }).code === code) return true;
    current = current.cause;
  }
  return false;
}
