import { tmpdir } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createPeriodicJobActivities } from '../activities/periodic-job-activities.js';
import { createDossierClient, DOSSIER_WORKFLOW_TYPE } from '../client/dossier-client.js';
import { loadConfig } from '../config/config.js';
import { startTemporalDevServer } from '../scripts/temporal-dev-server.js';
import { freePort } from '../support/free-port.js';
import { dossierWorkflowId } from '../workflows/dossier-messages.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import { cleanUpOnce, waitForCount } from './common.js';
import { createBenchDatabase } from './database.js';
import { benchAdminUrl, envWholeNumber as envInt } from './env.js';
import { percentile, renderText, writeBenchReport, type BenchReport } from './report.js';
import { sweepLeftovers } from './leftovers.js';

/**
 * `npm run bench:reconcile`: the hourly reconciliation at scale, against the real Temporal CLI dev
 * server (SQLite visibility) and PostgreSQL. BENCH_DOSSIERS open dossiers in the database, all but
 * BENCH_MISSING of them with a running workflow (started beforehand; no worker polls the task
 * queue, so they stay Running at no further cost). Then:
 *   1. reconciliation: every id checked page by page, the missing ones started;
 *   2. reconciliation again: nothing missing, the cost of checking alone;
 *   3. the listing the previous version kept in memory (every running dossier id), for comparison.
 * Writes docs/bench/reconcile.md and .svg (BENCH_OUTPUT_DIR, BENCH_OUTPUT_NAME as the other
 * benches) and prints the table.
 */

// The SDK's warnings and errors only (its info lines are noise here). No shutdown signals of its
// own: the SDK would swallow SIGTERM, and the dev server and the database outlive an interrupted run.
Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

const params = {
  dossiers: envInt('BENCH_DOSSIERS', 100_000),
  missing: envInt('BENCH_MISSING', 3_000),
  /** Concurrent starts while seeding the running workflows. */
  seedConcurrency: envInt('BENCH_SEED_CONCURRENCY', 64),
};
const taskQueue = 'bench-reconcile-no-worker';
const progress = (message: string) => process.stderr.write(`[bench:reconcile] ${message}\n`);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Peak RSS and heap while `run` runs, sampled every 20 ms (heap over a forced GC at the start),
 * and the heap still held after a forced GC at the end, the result alive.
 */
async function measured<T>(run: () => Promise<T>) {
  gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 20);
  const started = performance.now();
  try {
    const result = await run();
    const ms = performance.now() - started;
    const end = process.memoryUsage();
    peakRss = Math.max(peakRss, end.rss);
    peakHeap = Math.max(peakHeap, end.heapUsed);
    // What the run's result holds on to (the previous version's Set of every running id).
    gc?.();
    const retained = process.memoryUsage().heapUsed - base.heapUsed;
    return { result, ms, peakHeapDelta: peakHeap - base.heapUsed, retained, peakRss };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  await sweepLeftovers();
  const server = await startTemporalDevServer({
    port: await freePort(),
    namespace: 'default',
    logFile: `${tmpdir()}/normx-notify-bench-reconcile-${process.pid}.log`,
  });
  // Like `npm test`, on TEST_DATABASE_ADMIN_URL's server.
  const db = await createBenchDatabase({ adminUrl: benchAdminUrl('TEST_DATABASE_ADMIN_URL') });
  const connection = await Connection.connect({ address: server.address });
  // Ctrl-C, SIGTERM or SIGHUP stop the dev server and drop the database as the end of a run does.
  const { cleanUp } = cleanUpOnce(
    async () => {
      await connection.close();
      await db.drop();
      await server.stop();
    },
    (signal) => progress(`${signal}: stopping the dev server and dropping the database`),
  );
  try {
    const client = new Client({ connection, namespace: 'default' });
    const ids = Array.from({ length: params.dossiers }, (_, i) => `B-${String(i).padStart(7, '0')}`);
    progress(`inserting ${params.dossiers} open dossiers`);
    await db.query(`insert into users (id) values ('bench-owner')`);
    await db.query(
      `insert into dossiers (id, title, owner_id, due_date, status)
       select 'B-' || lpad(i::text, 7, '0'), 'Dossier ' || i, 'bench-owner', date '2027-06-30', 'open'
         from generate_series(0, $1::int - 1) as i`,
      [params.dossiers],
    );
    await db.query('analyze dossiers');

    // The missing ones spread evenly over the id range, so that most pages have some.
    const step = params.missing > 0 ? params.dossiers / params.missing : Infinity;
    const missing = new Set(Array.from({ length: params.missing }, (_, i) => ids[Math.floor(i * step)]!));
    const toSeed = ids.filter((id) => !missing.has(id));
    progress(`starting ${toSeed.length} workflows (no worker: they stay Running)`);
    const seedStart = performance.now();
    let startedCount = 0;
    await mapBounded(toSeed, params.seedConcurrency, async (id) => {
      await client.workflow.start(DOSSIER_WORKFLOW_TYPE, {
        workflowId: dossierWorkflowId(id),
        taskQueue,
        args: [{ dossierId: id }],
      });
      startedCount += 1;
      if (startedCount % 10_000 === 0) progress(`  ${startedCount} started`);
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    progress(`seeded in ${seedSeconds.toFixed(0)} s; waiting for visibility`);
    const runningQuery = `WorkflowType = '${DOSSIER_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    const running = async () => (await client.workflow.count(runningQuery)).count;
    await waitForCount(running, toSeed.length, Infinity, { intervalMs: 500 });

    // Visibility queries timed as the activity makes them.
    const listMs: number[] = [];
    const list = client.workflow.list.bind(client.workflow);
    client.workflow.list = (options) => {
      const iterable = list(options);
      return Object.assign(Object.create(iterable) as typeof iterable, {
        async *[Symbol.asyncIterator]() {
          const started = performance.now();
          yield* iterable;
          listMs.push(performance.now() - started);
        },
      });
    };
    const activities = createPeriodicJobActivities({
      orm: db.orm,
      temporal: { client, taskQueue },
      config: loadConfig({}),
    });

    async function reconcileRun(label: string) {
      progress(label);
      listMs.length = 0;
      const mock = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
      const pageMs: number[] = [];
      let pageStart = performance.now();
      let lastPage = 0;
      mock.on('heartbeat', (details: { checked: number }) => {
        // A page is done when its last id is: checked reaches the next multiple of 500.
        const page = Math.floor(details.checked / 500);
        if (page > lastPage || details.checked === params.dossiers) {
          const now = performance.now();
          pageMs.push(now - pageStart);
          pageStart = now;
          lastPage = page;
        }
      });
      const run = await measured(() => mock.run(activities.reconcileDossierWorkflows));
      return { ...run, pageMs, listMs: [...listMs] };
    }

    const first = await reconcileRun(`reconciling: ${params.dossiers} checked, ${params.missing} missing`);
    // Visibility shows the started ones before the second run checks them.
    await waitForCount(running, params.dossiers, Infinity, { intervalMs: 500 });
    const second = await reconcileRun('reconciling again: nothing missing');

    client.workflow.list = list;
    progress('the previous version: every running id listed into memory');
    const previous = await measured(() => createDossierClient(client, { taskQueue }).runningDossierIds());

    const row = (name: string, run: Awaited<ReturnType<typeof reconcileRun>>) => [
      name,
      JSON.stringify(run.result).replace(/"/g, ''),
      (run.ms / 1000).toFixed(1),
      run.pageMs.length,
      `${percentile(run.pageMs, 50).toFixed(0)} / ${percentile(run.pageMs, 95).toFixed(0)} / ${Math.max(...run.pageMs).toFixed(0)}`,
      `${percentile(run.listMs, 50).toFixed(0)} / ${percentile(run.listMs, 95).toFixed(0)}`,
      mib(run.peakHeapDelta),
      mib(run.retained),
      mib(run.peakRss),
    ];
    /** Each page's duration, in page order: where a run spends its time as it goes. */
    const pagePoints = (run: Awaited<ReturnType<typeof reconcileRun>>): [number, number][] =>
      run.pageMs.map((ms, index) => [index + 1, ms]);
    const report: BenchReport = {
      name: 'reconcile',
      title: 'Reconciliation at scale',
      method: [
        'Each page: one PostgreSQL page of 500 open dossier ids, one visibility query naming their',
        'workflows (`WorkflowId IN (...)`), the missing ones started by signal-with-start 16 at a time,',
        'progress heartbeated in id order. No worker polls the task queue: the seeded and started',
        'workflows stay Running, which is all that reconciliation looks at. The Temporal CLI dev server',
        '(in-memory SQLite visibility) and PostgreSQL run on the same machine. Heap figures are the peak',
        'over a forced GC before the run, sampled every 20 ms (garbage not yet collected included).',
      ].join(' '),
      parameters: {
        'open dossiers (BENCH_DOSSIERS)': params.dossiers,
        'without a workflow, spread evenly (BENCH_MISSING)': params.missing,
        'seeding concurrency (BENCH_SEED_CONCURRENCY)': params.seedConcurrency,
        'page size / starts at a time': '500 / 16',
      },
      table: {
        headers: [
          'run',
          'result',
          'total s',
          'pages',
          'page ms p50 / p95 / max',
          'visibility query ms p50 / p95',
          'peak heap over start MiB',
          'heap held after MiB',
          'peak RSS MiB',
        ],
        rows: [row('reconcile, some missing', first), row('reconcile, none missing', second)],
      },
      chart: {
        title: 'Time per page of 500 dossiers',
        xLabel: 'page',
        yLabel: 'ms',
        series: [
          { name: 'some missing', points: pagePoints(first) },
          { name: 'none missing', points: pagePoints(second) },
        ],
      },
      notes: [
        `- ${toSeed.length} running workflows seeded in ${seedSeconds.toFixed(0)} s (${(toSeed.length / seedSeconds).toFixed(0)}/s).`,
        `- The previous version's first step alone (every running id listed into a Set): ${previous.result.size} ids in ` +
          `${(previous.ms / 1000).toFixed(1)} s, peak heap over start ${mib(previous.peakHeapDelta)} MiB, ` +
          `${mib(previous.retained)} MiB held by the Set for the whole run (it grows with the number of dossiers; ` +
          `a page does not), peak RSS ${mib(previous.peakRss)} MiB. It then read the same database pages and ` +
          `started up to 500 workflows one after the other between two heartbeats.`,
        gc ? '' : '- Run without --expose-gc: heap figures include garbage.',
      ]
        .filter(Boolean)
        .join('\n'),
    };
    const path = await writeBenchReport(report);
    process.stdout.write(`${renderText(report)}\n\n${report.notes}\n\nWritten: ${path}\n`);
  } finally {
    await cleanUp();
  }
}

await main();
