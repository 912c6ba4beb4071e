import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { migrate, openOrm, type Orm } from '../../db/orm.js';
import { adminDatabaseUrl } from '../support/database.js';
import { waitFor } from '../support/wait.js';

/**
 * Migrations as deployments run them (db/orm.ts `migrate`):
 * two workers starting together, and `npm run migrate` behind a long reader. Before, the second
 * worker found the first one's change half applied and exited (column exists, or the migrations
 * table created twice), and `npm run migrate` waited for its lock with no bound while every
 * query of the service queued behind it and failed at its deadline.
 */

const created: string[] = [];
const orms: Orm[] = [];
const admin = new pg.Client({ connectionString: adminDatabaseUrl });
let connected = false;

async function freshDatabase(): Promise<{ name: string; url: string }> {
  if (!connected) {
    await admin.connect();
    connected = true;
  }
  const name = `normx_notify_test_migrations_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin.query(`create database ${name}`);
  created.push(name);
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** A service's pool (the worker's or a server's), with the smallest deadline accepted. */
async function servicePool(url: string): Promise<Orm> {
  const orm = await openOrm(url, { poolMax: 2, statementTimeoutMs: 1000 });
  orms.push(orm);
  return orm;
}

async function migrateTo(url: string, to: string): Promise<void> {
  const plain = await openOrm(url, { poolMax: 1 });
  try {
    await plain.getMigrator().up({ to });
  } finally {
    await plain.close();
  }
}

after(async () => {
  await Promise.all(orms.map((orm) => orm.close(true).catch(() => undefined)));
  for (const name of created) await admin.query(`drop database if exists ${name} with (force)`);
  if (connected) await admin.end();
});

describe('migrations', () => {
  for (const [start, to] of [
    ['an empty database', undefined],
    ['a database one migration behind', 'Migration20261202010000ReplanStamps'],
  ] as const) {
    it(`two workers starting together on ${start} both start`, async () => {
      const { url } = await freshDatabase();
      if (to) await migrateTo(url, to);
      const [first, second] = [await servicePool(url), await servicePool(url)];
      await Promise.all([migrate(first), migrate(second)]);
      assert.deepEqual(await first.getMigrator().getPendingMigrations(), []);
    });
  }

  it('npm run migrate behind a long reader lets the service read, then completes', async () => {
    const { name, url } = await freshDatabase();
    await migrateTo(url, 'Migration20261201020000ProfileChanges');
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    await reader.query('begin');
    await reader.query('select count(*) from dossiers');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await waitFor(
        'the migration waiting for its lock',
        async () =>
          (
            await admin.query(
              `select 1 from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`,
              [name],
            )
          ).rowCount! > 0,
        { timeoutMs: 30_000 },
      );
      const service = await servicePool(url);
      for (let read = 0; read < 5; read += 1) {
        await service.em.fork().execute('select count(*) from dossiers');
      }
    } finally {
      await reader.query('commit');
      await reader.end();
    }
    assert.equal(await exited, 0, output);
    const plain = await openOrm(url, { poolMax: 1 });
    orms.push(plain);
    assert.deepEqual(await plain.getMigrator().getPendingMigrations(), []);
  });
});
