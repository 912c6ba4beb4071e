import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrate, NETWORK_GRACE_MS, openOrm, type Orm } from '../../db/orm.js';
import { adminDatabaseUrl } from '../support/database.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { openNodeTab } from '../support/node-tabs.js';
import { startServerHarness } from '../support/notify-server.js';
import { startTcpProxy, type TcpProxy } from '../faults/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

/**
 * The pool's connections across a silent partition: a loopback proxy between the
 * process and PostgreSQL drops every byte without closing anything. Before the statement deadline
 * a query sent into the partition waited for ever, and its connection with it: a tab that
 * connected to a server during a partition got nothing, ever, while /healthz said ok (found by
 * the fault suite; `test/faults/opening-read-partition.test.ts` is the same at full scale).
 */

const STATEMENT_TIMEOUT_MS = 1000;

let db: TestDatabase;
let proxy: TcpProxy;
const orms: Orm[] = [];

/** A pool that reaches the test database through the proxy. */
async function ormViaProxy(statementTimeoutMs: number): Promise<{ orm: Orm; url: string }> {
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const orm = await openOrm(url.toString(), { poolMax: 2, statementTimeoutMs });
  orms.push(orm);
  return { orm, url: url.toString() };
}

const ask = (orm: Orm, sql: string) => orm.em.fork().execute(sql);

before(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});
after(async () => {
  proxy?.heal();
  // A dead connection's close waits for the proxy: the proxy goes first.
  await proxy?.close();
  await Promise.all(orms.map((orm) => orm.close(true).catch(() => undefined)));
  await db?.drop();
});

describe('the pool across a silent partition', () => {
  it('cancels a statement past the deadline and keeps the connection', async () => {
    const { orm } = await ormViaProxy(STATEMENT_TIMEOUT_MS);
    await assert.rejects(ask(orm, 'select pg_sleep(3)'), /statement timeout/);
    assert.deepEqual(await ask(orm, 'select 1 as one'), [{ one: 1 }]);
  });

  it('fails a query whose reply never comes, and never reuses its connection', async () => {
    const { orm } = await ormViaProxy(STATEMENT_TIMEOUT_MS);
    await ask(orm, 'select 1');
    proxy.cut();
    const sentAt = Date.now();
    try {
      await assert.rejects(ask(orm, 'select 2'), /Query read timeout/);
      const waited = Date.now() - sentAt;
      assert.ok(
        waited >= STATEMENT_TIMEOUT_MS + NETWORK_GRACE_MS - 100 && waited < 15_000,
        `failed after ${waited} ms`,
      );
    } finally {
      proxy.heal();
    }
    // The connection that carried `select 2` is dead after the heal; the next query must not wait on it.
    assert.deepEqual(await ask(orm, 'select 3 as three'), [{ three: 3 }]);
    assert.ok(proxy.stats.deadAfterHeal >= 1, 'the partition killed the connection it cut');
  });

  it(
    'gives a tab that connected during the partition its notifications after the heal',
    { timeout: 90_000 },
    async () => {
      const { orm, url } = await ormViaProxy(STATEMENT_TIMEOUT_MS);
      const harness = await startServerHarness({ db: { ...db, orm, url } });
      const warm = openNodeTab({ url: `${harness.wsUrl}/api/v1/ws`, getToken: () => harness.token('warm') });
      const user = 'opened-during-cut';
      let tab: ReturnType<typeof openNodeTab> | undefined;
      try {
        // The server's pool holds a connection that worked before the cut (the warm tab's reads).
        await waitFor('the warm tab', () => warm.client.connectionState === 'open');
        proxy.cut();
        tab = openNodeTab({
          url: `${harness.wsUrl}/api/v1/ws`,
          getToken: () => harness.token(user),
          backoff: { initialMs: 100, maxMs: 500 },
        });
        const opened = tab;
        // Its opening read went into the partition; the deadline closes the socket (1001) and it retries.
        await waitFor('the tab to try again', () => opened.attempts >= 2, { timeoutMs: 20_000 });
        proxy.heal();
        const id = await harness.notify(user, 'After the heal');
        await waitFor(`notification ${id} on the tab`, () => opened.notificationIds.includes(id), {
          timeoutMs: 45_000,
        });
        assert.deepEqual(opened.notificationIds, [id], 'once');
        assert.deepEqual(
          opened.errors.filter((error) => error.fatal),
          [],
        );
      } finally {
        tab?.close();
        warm.close();
        await harness.close();
      }
    },
  );

  it('ends a transaction left idle past the deadline, and with it the user lock it held', async () => {
    // A transaction whose client went silent after taking a user's notification lock (its
    // connection dropped by the pool, its close lost in a partition) held the lock until
    // PostgreSQL's TCP keepalive gave up, hours later: no reminder of that user could be stored.
    const { orm } = await ormViaProxy(STATEMENT_TIMEOUT_MS);
    const idleLimit = STATEMENT_TIMEOUT_MS + NETWORK_GRACE_MS;
    const em = orm.em.fork();
    const abandoned = em
      .transactional(async (tx) => {
        await tx.execute(`select lock_user_notifications('victim')`);
        // Silent, as behind a partition: the next statement never comes in time.
        await new Promise((resolve) => setTimeout(resolve, idleLimit + 4000));
        await tx.execute('select 1');
      })
      .then(
        () => 'committed',
        (error: Error) => error.message,
      );
    await waitFor('the lock taken', async () => {
      // This database's only: another test file's locks (two run at once) are visible here too.
      const rows = await db.query(
        `select 1 from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`,
      );
      return rows.length > 0;
    });
    const takenAt = Date.now();
    // Another writer of the same user (a worker storing a reminder) waits for the lock.
    await db.query(`begin; select lock_user_notifications('victim'); commit`);
    const waited = Date.now() - takenAt;
    assert.ok(waited < idleLimit + 2000, `the lock was released after ${waited} ms`);
    assert.match(await abandoned, /idle-in-transaction|terminat|Connection/i);
  });

  it('migrates without the deadline, yielding to a long reader rather than queueing the service behind it', async () => {
    // The worker opens its pool with the deadline and migrates at start-up: a backfill of a large
    // table outlived the deadline and the worker could not start. Without any bound, its DDL
    // waiting for a long reader (a report, a dump) queued every query of the service behind it,
    // each failing at its deadline. Here a reader holds dossiers past the deadline while a worker
    // starts: the service's reads go on, and the migration completes once the reader is done.
    const name = `${new URL(db.url).pathname.slice(1)}_migrate`;
    const admin = new pg.Client({ connectionString: adminDatabaseUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(db.url);
    url.pathname = `/${name}`;
    const reader = new pg.Client({ connectionString: url.toString() });
    try {
      const plain = await openOrm(url.toString(), { poolMax: 1 });
      orms.push(plain);
      await plain.getMigrator().up({ to: 'Migration20261201020000ProfileChanges' });
      await reader.connect();
      await reader.query('begin');
      await reader.query('select count(*) from dossiers');
      const service = await openOrm(url.toString(), { poolMax: 2, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
      orms.push(service);
      const migrated = migrate(service, { lockTimeoutMs: 200 });
      await waitFor('the migration waiting for its lock', async () => {
        // Asked outside the reader's transaction, whose view of pg_stat_activity is a snapshot.
        const rows = await admin.query(
          `select 1 from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`,
          [name],
        );
        return rows.rowCount! > 0;
      });
      // The reader stays past the deadline; the service reads meanwhile, within its deadline.
      const until = Date.now() + STATEMENT_TIMEOUT_MS + NETWORK_GRACE_MS + 500;
      let reads = 0;
      while (Date.now() < until) {
        await service.em.fork().execute('select count(*) from dossiers');
        reads += 1;
      }
      assert.ok(reads > 10, `the service read ${reads} times while the migration waited`);
      await reader.query('commit');
      await migrated;
      assert.deepEqual(await service.getMigrator().getPendingMigrations(), []);
    } finally {
      await reader.end().catch(() => undefined);
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
