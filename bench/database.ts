import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, openOrm, type Orm } from '../db/orm.js';
import { benchAdminUrl } from './env.js';

/** A fresh database for one bench run, on the machine's PostgreSQL; dropped at the end. */

export interface BenchDatabase {
  name: string;
  url: string;
  orm: Orm;
  /** Runs a query on a small pool of its own. */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
}

/** A name no other run uses: `<prefix>_<pid>_<random hex>`. */
export const uniqueDatabaseName = (prefix: string, bytes = 3): string =>
  `${prefix}_${process.pid}_${randomBytes(bytes).toString('hex')}`;

/** Runs `sql` on a connection of its own to the admin database. */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Creates database `name` (not migrated); returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  await adminQuery(adminUrl, `create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export const dropDatabase = (adminUrl: string, name: string): Promise<void> =>
  adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);

/** A fresh, migrated database with an ORM (`poolMax` connections) and a query pool of 4. */
export async function createBenchDatabase(
  options: { prefix?: string; adminUrl?: string; poolMax?: number } = {},
): Promise<BenchDatabase> {
  const adminUrl = options.adminUrl ?? benchAdminUrl();
  const name = uniqueDatabaseName(options.prefix ?? 'normx_notify_bench', 4);
  const url = await createDatabase(adminUrl, name);
  const orm = await openOrm(url, options.poolMax === undefined ? {} : { poolMax: options.poolMax });
  await migrate(orm);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // pool.end() resolves before its idle clients have closed, so `drop database … with (force)`
  // may end one first: the pool then emits 'error', an uncaught exception without this.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    orm,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    drop: async () => {
      await orm.close(true);
      await pool.end();
      await dropDatabase(adminUrl, name);
    },
  };
}
