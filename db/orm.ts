import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './entities.js';
import { Migration20261124000000Initial } from './migrations/Migration20261124000000Initial.js';
import { Migration20261124010000WireFormat } from './migrations/Migration20261124010000WireFormat.js';
import { Migration20261124020000UserNotificationLock } from './migrations/Migration20261124020000UserNotificationLock.js';
import { Migration20261201000000WiderIdempotencyKey } from './migrations/Migration20261201000000WiderIdempotencyKey.js';
import { Migration20261201010000PeriodicJobIndexes } from './migrations/Migration20261201010000PeriodicJobIndexes.js';
import { Migration20261201020000ProfileChanges } from './migrations/Migration20261201020000ProfileChanges.js';
import { Migration20261202000000ReminderAudit } from './migrations/Migration20261202000000ReminderAudit.js';

/** Channel of the `NOTIFY` sent in the transaction that stores a notification. */
export const NOTIFICATION_CHANNEL = 'normx_notifications';
/** Channel of the `NOTIFY` sent in the transaction that marks notifications read: `{userId, unread}`. */
export const UNREAD_CHANNEL = 'normx_unread_counts';

export type Orm = MikroORM;

/** How long a statement may run, and what a silent network gets on top, before its connection is dropped. */
export const NETWORK_GRACE_MS = 5000;

/**
 * The pg driver's settings that bound each round trip. A statement PostgreSQL runs past
 * `statementTimeoutMs` is cancelled by PostgreSQL (the connection stays good). A reply that never
 * comes — a partition, a middlebox that forgot the connection: TCP sees nothing wrong — fails
 * the query `NETWORK_GRACE_MS` later, and that connection, its reply still owed, is refused by
 * the pool's check before any reuse (README, "When PostgreSQL goes silent"); without it a read
 * waited for ever (test/database-deadlines.test.ts). 0 turns them off; `migrate` runs without.
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
  options: { poolMax?: number; statementTimeoutMs?: number; log?: (message: string) => void } = {},
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
      ],
      transactional: true,
      allOrNothing: true,
    },
    pool: { min: 0, max: options.poolMax ?? 10 },
    driverOptions: deadlineOptions(options.statementTimeoutMs ?? 0),
    // Forked EntityManagers only: the global one must never hold request state.
    allowGlobalContext: false,
    debug: false,
    ...(options.log && { logger: options.log, colors: false }),
  });
}

/**
 * Applies pending migrations, each in a transaction. Run by the start-up command, before workers
 * start. A pool with a statement deadline migrates on a connection of its own without one: a
 * backfill of a large table may take longer than any request should (the worker could not start).
 */
export async function migrate(orm: Orm): Promise<void> {
  if (!hasDeadline(orm)) {
    await orm.getMigrator().up();
    return;
  }
  const own = await openOrm(orm.config.get('clientUrl')!, { poolMax: 1, log: orm.config.get('logger') });
  try {
    await own.getMigrator().up();
  } finally {
    await own.close();
  }
}

const hasDeadline = (orm: Orm): boolean =>
  (orm.config.get('driverOptions') as { connection?: { statement_timeout?: number } }).connection
    ?.statement_timeout !== undefined;
