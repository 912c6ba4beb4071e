import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, openOrm, type Orm } from '../../db/orm.js';

/** Server the tests create their databases on: the machine's PostgreSQL unless told otherwise. */
export const adminDatabaseUrl =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  orm: Orm;
  /** Runs a query on its own pooled connection. */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file; dropped afterwards. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `normx_notify_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  const orm = await openOrm(url.toString());
  await migrate(orm);
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // pool.end() resolves before its idle clients have closed, so `drop database ... with (force)`
  // may terminate one first: the pool then emits 'error', an uncaught exception without this.
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    orm,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    drop: async () => {
      await orm.close(true);
      await pool.end();
      const cleanup = new pg.Client({ connectionString: adminDatabaseUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
