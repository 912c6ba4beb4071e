import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { migrate, openOrm, type Orm } from '../../db/orm.js';
import { adminDatabaseUrl } from '../support/database.js';
import { waitFor } from '../support/wait.js';

/**
 * A migration cut by a silent partition (or its machine dying without a RST) mid-transaction: its
 * PostgreSQL session kept the advisory lock and the migration's ACCESS EXCLUSIVE lock on dossiers
 * until TCP keepalive gave up (2 h): the service could not read dossiers and no other worker could
 * start. The migrations' connection now sets idle_in_transaction_session_timeout (30 s): PostgreSQL
 * ends the session and frees both. Runs about 40 s, outside `npm test`:
 *
 *   node --import tsx --test test/faults/migration-partition.test.ts
 */
const admin = new pg.Client({ connectionString: adminDatabaseUrl });
const name = `normx_attack12d_mig_${process.pid}_${randomBytes(3).toString('hex')}`;
const orms: Orm[] = [];
const sockets: net.Socket[] = [];
let proxy: net.Server | undefined;

after(async () => {
  for (const socket of sockets) socket.destroy();
  proxy?.close();
  await Promise.all(orms.map((orm) => orm.close(true).catch(() => undefined)));
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe('a migration cut by a silent partition', () => {
  it(
    'frees its locks within the idle limit: the service reads and another worker migrates',
    { timeout: 120_000 },
    async () => {
      await admin.connect();
      await admin.query(`create database ${name}`);
      const direct = new URL(adminDatabaseUrl);
      direct.pathname = `/${name}`;
      const plain = await openOrm(direct.toString(), { poolMax: 1 });
      await plain.getMigrator().up({ to: 'Migration20261202000000ReminderAudit' });
      await plain.close();

      // A loopback TCP proxy that goes silent (no FIN, no RST) once the first ALTER of the
      // pending migration has been forwarded.
      let cut = false;
      proxy = net.createServer((client) => {
        const server = net.connect(5432, '127.0.0.1');
        sockets.push(client, server);
        client.on('data', (chunk) => {
          if (cut) return;
          server.write(chunk);
          if (chunk.toString('latin1').includes('add column replanned_at')) {
            cut = true;
          }
        });
        server.on('data', (chunk) => {
          if (!cut) client.write(chunk);
        });
        client.on('error', () => undefined);
        server.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
      const port = (proxy.address() as net.AddressInfo).port;
      const viaProxy = new URL(direct.toString());
      viaProxy.host = `127.0.0.1:${port}`;

      // The worker's pool (its statement deadline), migrating through the flaky network.
      const worker = await openOrm(viaProxy.toString(), { poolMax: 2, statementTimeoutMs: 1000 });
      orms.push(worker);
      let settled: string | undefined;
      const started = Date.now();
      const migrating = migrate(worker, { giveUpAfterMs: 60_000 }).then(
        () => (settled = 'resolved'),
        (error: Error) => (settled = `rejected: ${error.message}`),
      );
      void migrating;
      void started;
      await waitFor('the migration cut mid-transaction', () => cut, { timeoutMs: 30_000 });
      // PostgreSQL ends the cut session once its transaction has been idle past the limit (30 s),
      // which frees the advisory lock and the table lock: nothing waits behind it for hours.
      await waitFor(
        'the cut session ended and its locks freed',
        async () =>
          (
            await admin.query(
              `select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid
              where a.datname = $1 and l.granted and a.pid <> pg_backend_pid()
                and (l.locktype = 'advisory' or l.mode = 'AccessExclusiveLock')`,
              [name],
            )
          ).rowCount === 0,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const service = await openOrm(direct.toString(), { poolMax: 1, statementTimeoutMs: 1000 });
      orms.push(service);
      await service.em.fork().execute('select count(*) from dossiers');
      // Another worker starting now migrates.
      const second = await openOrm(direct.toString(), { poolMax: 1, statementTimeoutMs: 1000 });
      orms.push(second);
      await migrate(second, { giveUpAfterMs: 10_000 });
      assert.deepEqual(await second.getMigrator().getPendingMigrations(), []);
      assert.equal(
        settled,
        undefined,
        'the cut migration itself never heard back (its client gave up nothing)',
      );
    },
  );
});
