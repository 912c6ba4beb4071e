import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import { loadConfig } from '../../config/config.js';
import { openOrm, type Orm } from '../../db/orm.js';
import { createNotificationQueries } from '../../server/notifications/notification-queries.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { inActivity } from '../support/activity-context.js';

/**
 * A transaction left open by a client gone silent, against the database deadline: a
 * partition that swallows the statement after `select lock_user_notifications(user)` in a
 * mark-read transaction on a delivery server whose pool has the deadline. The client gets "Query
 * read timeout" and drops the connection, as designed; but its FIN is lost too (the middlebox
 * forgot the flow), so the PostgreSQL backend sat "idle in transaction" holding the user's
 * advisory lock until PostgreSQL's TCP keepalive gave up (hours): every notification of that user
 * waited on the lock and was cancelled by the statement timeout. Fixed by
 * `idle_in_transaction_session_timeout` (deadline + grace) on the pool's connections;
 * `test/integration/database-deadlines.test.ts` proves the bound in `npm test`. This one runs the scenario
 * through a proxy (about 30 s), alone:
 *
 *   node --import tsx --test test/faults/open-transaction-partition.test.ts
 *
 * The proxy below is test/faults/tcp-proxy.ts's partition, except that a client that closes during
 * the cut does not close the PostgreSQL side (its FIN is lost in the partition).
 */

let db: TestDatabase;
const orms: Orm[] = [];
let server: ReturnType<typeof createServer>;
let port = 0;
let cutOnSql: string | undefined;
let cutting = false;
const upstreams: Socket[] = [];

before(async () => {
  db = await createTestDatabase();
  const target = new URL(db.url);
  server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    upstreams.push(upstream);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('data', (chunk: Buffer) => {
      if (cutOnSql && chunk.toString('latin1').includes(cutOnSql)) cutting = true;
      if (!cutting) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) client.write(chunk);
    });
    // During the cut, the client's FIN is lost: PostgreSQL is not told.
    client.on('close', () => {
      if (!cutting) upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  for (const orm of orms) await orm.close(true).catch(() => undefined);
  for (const socket of upstreams) socket.destroy();
  server?.close();
  await db?.drop();
});

it(
  'a mark-read cut after its lock does not keep the user from receiving notifications',
  { timeout: 120_000 },
  async () => {
    const proxied = new URL(db.url);
    proxied.port = String(port);
    // The delivery server's pool, as server/main.ts opens it (1 s: the smallest deadline accepted).
    const serverOrm = await openOrm(proxied.toString(), { poolMax: 2, statementTimeoutMs: 1000 });
    // A worker's pool, direct to PostgreSQL, with the same kind of deadline (3 s).
    const workerOrm = await openOrm(db.url, { poolMax: 2, statementTimeoutMs: 3000 });
    orms.push(serverOrm, workerOrm);
    const config = loadConfig({});
    const { deliverNotification } = createDossierActivities({
      orm: workerOrm,
      temporal: {} as never,
      config,
    });
    const deliver = (n: number) =>
      inActivity(deliverNotification, {
        idempotencyKey: `attack12:${n}`,
        userId: 'victim',
        type: 'deadline_reminder',
        kind: 'j-1',
        dossier: {
          id: 'd1',
          title: 'D1',
          ownerId: 'victim',
          dueDate: '2030-01-01',
          urgent: false,
          status: 'open',
        },
      } as never);
    await deliver(1);

    const queries = createNotificationQueries(serverOrm);
    // The partition swallows the update that follows the user's lock.
    cutOnSql = 'update notifications set read_at';
    const t0 = Date.now();
    const marked = await queries.markAllRead('victim').then(
      () => 'ok',
      (error: Error) => error.message,
    );
    console.log(`markAllRead failed after ${Date.now() - t0} ms: ${marked}`);
    // The partition heals (the dead connection stays dead on both sides as TCP left it).
    cutting = false;
    cutOnSql = undefined;

    const activity = await db.query<{ state: string; query: string; idle: string; itx: string }>(
      `select state, query, (now() - state_change)::text as idle,
            current_setting('idle_in_transaction_session_timeout') as itx
       from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`,
    );
    console.log('backends idle in transaction:', activity);

    const results: string[] = [];
    for (const [n, waitMs] of [
      [2, 0],
      [3, 20_000],
    ] as const) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      const outcome = await deliver(n).then(
        (stored) => `stored ${JSON.stringify(stored)}`,
        (error: Error) => `failed: ...${error.message.slice(-60)}`,
      );
      results.push(outcome);
      console.log(
        `deliverNotification #${n} (${Math.round((Date.now() - t0) / 1000)} s after the cut): ${outcome}`,
      );
    }
    // Clean up what the probe left (only our own backend).
    await db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and state like 'idle in transaction%'`,
    );
    assert.ok(
      results.every((outcome) => outcome.startsWith('stored')),
      'a notification for the user must be storable once the partition is over',
    );
  },
);
