import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { createDossierClient } from '../../client/dossier-client.js';
import { NOTIFICATION_CHANNEL } from '../../db/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * Integration against the real Temporal dev server and PostgreSQL, with the production worker
 * entry point (worker/main.ts) in a child process. The worker is SIGKILLed while reminders are
 * firing, then restarted: every reminder is stored exactly once and announced exactly once.
 */

const DOSSIERS = 25;
const workerEntry = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let listener: pg.Client;
const announced: Array<{ id: string; dossierId: string; kind: string }> = [];

before(async () => {
  env = await createDevServerEnv();
  db = await createTestDatabase();
  listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  listener.on('notification', (message) => announced.push(JSON.parse(message.payload ?? '{}')));
  await listener.query(`listen ${NOTIFICATION_CHANNEL}`);
});
after(async () => {
  await listener?.end();
  await db?.drop();
  await env?.teardown();
});

function startWorker(taskQueue: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      // Seconds instead of days, so reminders fire while the test watches.
      OVERDUE_CRITICAL_DELAY: 'PT4S',
      LOG_LEVEL: 'warn',
      // Off the default ports, which a running `npm start` may hold.
      WORKER_INTERNAL_PORT: '0',
      WORKER_METRICS_BIND: 'off',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

const exited = (child: ChildProcess): Promise<NodeJS.Signals | number | null> =>
  new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));

describe('worker killed while reminders fire (dev server, real PostgreSQL)', () => {
  it(
    'stores and announces each reminder exactly once across a SIGKILL and restart',
    { timeout: 120_000 },
    async () => {
      const taskQueue = `crash-${randomBytes(4).toString('hex')}`;
      const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
      const dossiers = createDossierClient(client, { taskQueue });
      const countReminders = async (): Promise<number> =>
        Number(
          (
            await db.query<{ n: string }>(`select count(*) as n from notifications where type = 'new_alert'`)
          )[0]!.n,
        );

      let worker = startWorker(taskQueue);
      // Deadlines 3 to 8 seconds ahead: `overdue` fires at each, `overdue_critical` 4 s later.
      const start = Date.now();
      const ids = Array.from(
        { length: DOSSIERS },
        (_, index) => `crash-${index}-${randomBytes(2).toString('hex')}`,
      );
      for (const [index, id] of ids.entries()) {
        const dueAt = new Date(start + 3_000 + Math.round((index * 5_000) / DOSSIERS)).toISOString();
        await dossiers.create({ id, title: `Dossier ${index}`, ownerId: `owner-${index % 3}`, dueAt });
      }

      const firedBeforeKill = await waitFor(
        'some reminders to fire',
        async () => {
          const n = await countReminders();
          return n >= 8 && n;
        },
        { timeoutMs: 60_000 },
      );
      worker.kill('SIGKILL');
      assert.equal(await exited(worker), 'SIGKILL');
      assert.ok(
        firedBeforeKill < 2 * DOSSIERS,
        `killed mid-firing (${firedBeforeKill} of ${2 * DOSSIERS} sent)`,
      );

      worker = startWorker(taskQueue);
      try {
        await waitFor('every reminder', async () => (await countReminders()) === 2 * DOSSIERS, {
          timeoutMs: 60_000,
        });
        const rows = await db.query<{ dossier_id: string; kind: string; n: string }>(
          `select dossier_id, kind, count(*) as n from notifications group by dossier_id, kind order by dossier_id, kind`,
        );
        const expected = ids.flatMap((id) =>
          ['created', 'overdue', 'overdue_critical'].map((kind) => [id, kind, '1']),
        );
        assert.deepEqual(
          rows.map((row) => [row.dossier_id, row.kind, row.n]),
          expected.sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`)),
        );

        // Announced once each: the NOTIFY runs only for a row actually inserted.
        await waitFor('every announcement', () => announced.length >= 3 * DOSSIERS);
        const stored = await db.query<{ id: string }>(
          'select id::text from notifications order by notifications.id',
        );
        assert.deepEqual(announced.map((message) => message.id).sort(), stored.map((row) => row.id).sort());

        // Each reminder's workflow saw it sent once, at its instant.
        const plan = await dossiers.plan(ids[0]!);
        assert.deepEqual(
          plan.sent.map((sent) => sent.kind),
          ['overdue', 'overdue_critical'],
        );
      } finally {
        worker.kill('SIGTERM');
        await exited(worker);
      }
    },
  );
});
