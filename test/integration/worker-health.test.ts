import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import type { State as WorkerState } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDossierClient } from '../../client/dossier-client.js';
import { createLogger } from '../../config/logger.js';
import { startWorkerHealthServer } from '../../worker/health.js';
import { createWorkerMetrics } from '../../worker/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createDevServerEnv, freePort } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * The production worker (worker/main.ts, a child process) on the dev server and real
 * PostgreSQL: its health endpoint answers 200 once it runs, /metrics carries the Temporal SDK's
 * metrics and the service's counters (stored, duplicates skipped, reminder lateness), its logs
 * are JSON lines, and SIGTERM stops it cleanly. Then the health endpoint's 503 cases.
 */

const workerEntry = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

let env: TestWorkflowEnvironment;
let db: TestDatabase;

before(async () => {
  env = await createDevServerEnv();
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
  await env?.teardown();
});

const exited = (child: ChildProcess): Promise<NodeJS.Signals | number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code, signal) => resolve(signal ?? code));
  });

async function get(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

/** A sample's value in Prometheus text, e.g. `name{type="new_alert",kind="urgent"}`. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',');
    if (wanted.every((label) => have.includes(label))) return Number(match[3]);
  }
  return undefined;
}

describe('worker health endpoint and metrics (dev server, real PostgreSQL)', () => {
  it(
    'serves /healthz and /metrics with temporal_ and our counters, logs JSON, stops on SIGTERM',
    { timeout: 90_000 },
    async () => {
      const taskQueue = `health-${randomBytes(4).toString('hex')}`;
      const healthPort = await freePort();
      const metricsPort = await freePort();
      const worker = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_TASK_QUEUE: taskQueue,
          WORKER_INTERNAL_PORT: String(healthPort),
          WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}`,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      worker.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const base = `http://127.0.0.1:${healthPort}`;
      try {
        const health = await waitFor(
          'the worker to be healthy',
          async () => {
            const reply = await get(`${base}/healthz`);
            return reply.status === 200 && reply;
          },
          { timeoutMs: 45_000, intervalMs: 200 },
        );
        assert.deepEqual(JSON.parse(health.text), {
          status: 'ok',
          checks: { worker: 'RUNNING', postgres: true },
        });

        // An urgent dossier: `created` and `urgent` stored; a deadline a second ahead: `overdue` too.
        const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
        const dossiers = createDossierClient(client, { taskQueue });
        const dueAt = new Date(Date.now() + 1000).toISOString();
        await dossiers.create({ id: 'D-health', title: 'Bilan', ownerId: 'lea', dueAt, urgent: true });
        await waitFor(
          'the overdue alert',
          async () => (await db.query(`select 1 from notifications where kind = 'overdue'`)).length === 1,
        );
        // Completed, then reopened: the new run finds the urgent and overdue alerts stored already
        // (their keys are the same): duplicates, skipped and counted.
        await dossiers.complete('D-health');
        await dossiers.reopen('D-health');

        const metrics = await waitFor(
          'the counters in /metrics',
          async () => {
            const { text } = await get(`${base}/metrics`);
            const duplicates = sample(text, 'normx_notify_notifications_duplicates_skipped_total', {
              type: 'new_alert',
              kind: 'urgent',
            });
            return duplicates === 1 && /^temporal_\w+/m.test(text) && text;
          },
          { timeoutMs: 20_000, intervalMs: 250 },
        );
        const stored = (kind: string, type: string) =>
          sample(metrics, 'normx_notify_notifications_stored_total', { type, kind });
        assert.equal(stored('created', 'dossier_update'), 1);
        assert.equal(stored('urgent', 'new_alert'), 1);
        assert.equal(stored('overdue', 'new_alert'), 1);
        assert.equal(sample(metrics, 'normx_notify_reminder_lateness_seconds_count', { kind: 'overdue' }), 1);
        assert.ok(
          sample(metrics, 'normx_notify_reminder_lateness_seconds_bucket', { kind: 'overdue', le: '60' }) ===
            1,
          'the overdue alert was stored within a minute of its instant',
        );
        // The SDK's own metrics, from the Runtime's Prometheus exporter.
        assert.match(metrics, /^temporal_worker_task_slots_available\{/m);
        assert.match(metrics, /^temporal_activity_execution_latency/m);
        assert.equal((await get(`${base}/nothing`)).status, 404);

        worker.kill('SIGTERM');
        assert.equal(await exited(worker), 0, 'SIGTERM drains the worker and it exits with 0');
      } finally {
        if (worker.exitCode === null) {
          worker.kill('SIGKILL');
          await exited(worker);
        }
      }

      // Every stdout line is a JSON log record; the activities' lines come through the same logger.
      const records = output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level: number; msg: string; name: string });
      assert.ok(
        records.every((record) => typeof record.level === 'number' && record.name === 'normx-notify-worker'),
      );
      const messages = records.map((record) => record.msg);
      for (const expected of ['Worker health server listening', 'Worker running', 'Worker stopped']) {
        assert.ok(messages.includes(expected), `logged "${expected}"`);
      }
      assert.ok(messages.includes('Notification stored and announced'));
      // The SDK puts activity task tokens in its log context: redacted, like JWTs.
      assert.ok(records.some((record) => 'taskToken' in record));
      assert.doesNotMatch(output, /"taskToken":"(?!\[redacted\])/);
      assert.ok(messages.includes('Notification already stored: duplicate skipped'));
      await assert.rejects(fetch(`${base}/healthz`), 'the health server is closed');
    },
  );

  it('answers 503 naming the failing check while the worker is not running or PostgreSQL is away', async () => {
    let state: WorkerState | undefined;
    const health = await startWorkerHealthServer({
      port: 0,
      host: '127.0.0.1',
      workerState: () => state,
      orm: db.orm,
      metrics: createWorkerMetrics(),
      sdkMetricsBind: undefined,
      logger: createLogger('silent'),
    });
    const base = `http://127.0.0.1:${health.port}`;
    try {
      assert.deepEqual(await get(`${base}/healthz`), {
        status: 503,
        text: JSON.stringify({ status: 'degraded', checks: { worker: 'STARTING', postgres: true } }),
      });
      state = 'DRAINING';
      assert.equal(JSON.parse((await get(`${base}/healthz`)).text).checks.worker, 'DRAINING');
      state = 'RUNNING';
      assert.equal((await get(`${base}/healthz`)).status, 200);

      const closedDb = await createTestDatabase();
      await closedDb.orm.close(true);
      const noDatabase = await startWorkerHealthServer({
        port: 0,
        host: '127.0.0.1',
        workerState: () => 'RUNNING',
        orm: closedDb.orm,
        metrics: createWorkerMetrics(),
        sdkMetricsBind: undefined,
        logger: createLogger('silent'),
      });
      try {
        const reply = await get(`http://127.0.0.1:${noDatabase.port}/healthz`);
        assert.equal(reply.status, 503);
        assert.deepEqual(JSON.parse(reply.text).checks, { worker: 'RUNNING', postgres: false });
      } finally {
        await noDatabase.close();
        await closedDb.drop();
      }
    } finally {
      await health.close();
    }
  });
});
