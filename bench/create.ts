import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  forEachConcurrent,
  middayZone,
  progress as progressOf,
  startCpuMeter,
  startStack,
  wallClock,
  type CpuWindow,
  type LogSummary,
  type Stack,
} from './stack.js';
import {
  cpuNote,
  cumulativePoints,
  dateInDays,
  devServerOptionsFromEnv,
  devServerParameters,
  workerEnvParameter,
  envInt,
  fixed,
  gitFacts,
  logNotes,
  othersCores,
  seconds,
  stopOnSignal,
  waitForCount,
  waitForQuietMachine,
  workerEnvFromEnv,
} from './bench-util.js';
import { percentile, renderText, writeBenchReport, type BenchReport } from './report.js';

/**
 * `npm run bench:create`: how fast dossiers can be created. BENCH_CREATE dossiers (default 2000)
 * over N/10 owners, due in 60 days, created on a fresh stack each:
 *   (a) through REST, `POST /api/v1/dossiers` with the service token, BENCH_CREATE_CONCURRENCY
 *       (64) requests at a time;
 *   (b) through the client API (`createDossierClient().create`), as many calls at a time;
 *   (c) through the bulk route `POST /api/v1/dossiers/bulk` (BENCH_CREATE_BULK_SIZE, 100, a
 *       request; BENCH_CREATE_BULK_CONCURRENCY, 4, at a time) and the client's `createMany`, when
 *       the code has them (skipped with a note otherwise).
 * Accepted/s: calls answered; stored/s: the `created` notice of each dossier stored (rows over
 * time), sustained rate = N / time to the last one.
 */

const log = progressOf('create');
const n = envInt('BENCH_CREATE', 2000);
const concurrency = envInt('BENCH_CREATE_CONCURRENCY', 64);
const bulkSize = envInt('BENCH_CREATE_BULK_SIZE', 100);
const bulkConcurrency = envInt('BENCH_CREATE_BULK_CONCURRENCY', 4);
const timeoutMs = envInt('BENCH_CREATE_TIMEOUT_S', Math.max(120, Math.ceil(n * 0.25))) * 1000;
const devServer = devServerOptionsFromEnv();
const extraWorkerEnv = workerEnvFromEnv();
const zone = process.env.BENCH_TIMEZONE ?? middayZone();
const owners = Math.max(1, Math.ceil(n / 10));
const TARGET_PER_SECOND = 200;

type Mode = 'rest' | 'client' | 'rest-bulk' | 'client-bulk';
const MODE_LABELS: Record<Mode, string> = {
  rest: 'REST POST /api/v1/dossiers',
  client: 'client API create',
  'rest-bulk': `REST POST /api/v1/dossiers/bulk (${bulkSize} a request)`,
  'client-bulk': `client API createMany (${bulkSize} a call)`,
};

const source = (path: string) => {
  try {
    return readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');
  } catch {
    return '';
  }
};
const hasRestBulk = source('server/http/rest-routes.ts').includes('/api/v1/dossiers/bulk');
const hasClientBulk = /\bcreateMany\b/.test(source('client/dossier-client.ts'));

interface DossierBody {
  id: string;
  title: string;
  ownerId: string;
  dueDate: string;
}

interface ModeResult {
  mode: Mode;
  quiet: string;
  calls: number;
  callMs: number[];
  errors: number;
  firstError: string | undefined;
  acceptedMs: number[];
  storedMs: number[];
  acceptedRate: number;
  storedRate: number;
  /** From the 10th to the 90th percentile of the stored rows. */
  steadyStoredRate: number;
  cpu: CpuWindow;
  logs: LogSummary[];
  devServerFacts: Stack['devServerFacts'];
}

class CallError extends Error {}

/** POSTs `body`; resolves with the response's JSON, throws on any status but 202 or 200. */
async function postJson(stack: Stack, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${stack.serverUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.serviceToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 202 && response.status !== 200) {
    throw new CallError(`${response.status} ${text.slice(0, 200)}`);
  }
  return JSON.parse(text) as unknown;
}

/** A bulk answer's dossiers not sent (each result has `sent`), with the first error. */
function unsent(results: unknown): { count: number; error?: string } {
  const list = (Array.isArray(results) ? results : []) as Array<{ sent?: boolean; error?: string }>;
  const failed = list.filter((result) => result.sent !== true);
  return { count: failed.length, ...(failed[0] && { error: String(failed[0].error ?? 'not sent') }) };
}

async function runMode(mode: Mode): Promise<ModeResult> {
  const quiet = await waitForQuietMachine(log);
  log(`${MODE_LABELS[mode]}: starting a fresh stack`);
  const stack = await startStack({
    label: `create-${mode}`,
    devServer,
    workerEnv: { DEFAULT_TIMEZONE: zone, ...extraWorkerEnv },
  });
  const unhook = stopOnSignal(stack.stop);
  try {
    const client = await stack.dossierClient();
    const dueDate = dateInDays(60);
    const dossiers: DossierBody[] = Array.from({ length: n }, (_, i) => ({
      id: `C-${String(i).padStart(6, '0')}`,
      title: `Dossier ${i}`,
      ownerId: `create-u${i % owners}`,
      dueDate,
    }));
    const batches: DossierBody[][] = [];
    const bulk = mode === 'rest-bulk' || mode === 'client-bulk';
    for (let i = 0; i < n; i += bulk ? bulkSize : 1)
      batches.push(dossiers.slice(i, i + (bulk ? bulkSize : 1)));
    /** Sends a batch; resolves with how many of its dossiers were not sent (and why). */
    const call: (batch: DossierBody[]) => Promise<{ count: number; error?: string }> = {
      rest: async (batch: DossierBody[]) => {
        await postJson(stack, '/api/v1/dossiers', batch[0]);
        return { count: 0 };
      },
      client: async (batch: DossierBody[]) => {
        await client.create(batch[0]!);
        return { count: 0 };
      },
      'rest-bulk': async (batch: DossierBody[]) => {
        const answer = (await postJson(stack, '/api/v1/dossiers/bulk', { dossiers: batch })) as {
          results?: unknown;
        };
        return unsent(answer.results);
      },
      'client-bulk': async (batch: DossierBody[]) => {
        const createMany = (client as unknown as Record<string, (input: DossierBody[]) => Promise<unknown>>)
          .createMany;
        return unsent(await createMany!(batch));
      },
    }[mode];

    const countCreated = async () =>
      Number(
        (
          await stack.query<{ count: string }>(
            `select count(*) as count from notifications where kind = 'created'`,
          )
        )[0]!.count,
      );
    const callMs: number[] = [];
    const acceptedMs: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    const meter = await startCpuMeter(stack);
    const start = wallClock();
    await forEachConcurrent(batches, bulk ? bulkConcurrency : concurrency, async (batch) => {
      const began = performance.now();
      try {
        const failed = await call(batch);
        callMs.push(performance.now() - began);
        const at = wallClock() - start;
        for (let i = failed.count; i < batch.length; i += 1) acceptedMs.push(at);
        errors += failed.count;
        if (failed.error) firstError ??= failed.error;
      } catch (error) {
        errors += batch.length;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    });
    const acceptedAt = wallClock();
    log(
      `${MODE_LABELS[mode]}: ${acceptedMs.length} accepted in ${seconds(acceptedAt - start)} s (${errors} failed)`,
    );
    const stored = await waitForCount(countCreated, acceptedMs.length, start + timeoutMs, {
      intervalMs: 500,
      onProgress: (value) => log(`${MODE_LABELS[mode]}: ${value} created notices stored`),
    });
    const cpu = await meter.stop();
    if (stored < acceptedMs.length)
      log(`${MODE_LABELS[mode]}: gave up after ${seconds(timeoutMs)} s: ${stored} stored`);
    const rows = await stack.query<{ at: number }>(
      `select extract(epoch from created_at)::float8 * 1000 as at from notifications where kind = 'created'`,
    );
    const storedMs = rows.map((row) => row.at - start).sort((a, b) => a - b);
    const lastStored = storedMs[storedMs.length - 1] ?? NaN;
    const p10 = storedMs[Math.floor(storedMs.length * 0.1)] ?? NaN;
    const p90 = storedMs[Math.floor(storedMs.length * 0.9)] ?? NaN;
    const logs = await stack.logSummary();
    return {
      mode,
      quiet,
      calls: batches.length,
      callMs,
      errors,
      firstError,
      acceptedMs,
      storedMs,
      acceptedRate: (acceptedMs.length / (acceptedAt - start)) * 1000,
      storedRate: stored >= n ? (n / lastStored) * 1000 : NaN,
      steadyStoredRate:
        ((Math.floor(storedMs.length * 0.9) - Math.floor(storedMs.length * 0.1)) / (p90 - p10)) * 1000,
      cpu,
      logs,
      devServerFacts: stack.devServerFacts,
    };
  } finally {
    unhook();
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const { commit, dirty } = gitFacts();
  const modes: Mode[] = ['rest', 'client'];
  const skipped: string[] = [];
  if (hasRestBulk) modes.push('rest-bulk');
  else
    skipped.push(
      '(c) REST bulk: skipped, `POST /api/v1/dossiers/bulk` is not in server/http/rest-routes.ts at this commit',
    );
  if (hasClientBulk) modes.push('client-bulk');
  else skipped.push('(c) client createMany: skipped, not in client/dossier-client.ts at this commit');
  for (const note of skipped) log(note);
  if (process.env.BENCH_CREATE_MODES) {
    const wanted = process.env.BENCH_CREATE_MODES.split(',');
    modes.splice(0, modes.length, ...modes.filter((mode) => wanted.includes(mode)));
  }

  const results: ModeResult[] = [];
  const failures: string[] = [];
  for (const mode of modes) {
    try {
      results.push(await runMode(mode));
    } catch (error) {
      log(`${mode} failed: ${String(error)}`);
      failures.push(`${MODE_LABELS[mode]} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const headers = [
    'how',
    'dossiers',
    'calls',
    'failed (dossiers)',
    'call ms p50 / p99',
    'accepted/s',
    'created stored/s (N / time to last)',
    'stored/s between p10 and p90',
    'last stored (s)',
    'CPU ms per dossier: dev server / worker / server / PostgreSQL / bench',
    'other processes (cores busy)',
  ];
  const rows = results.map((r) => [
    MODE_LABELS[r.mode],
    String(r.acceptedMs.length),
    String(r.calls),
    String(r.errors),
    `${fixed(percentile(r.callMs, 50), 0)} / ${fixed(percentile(r.callMs, 99), 0)}`,
    fixed(r.acceptedRate, 0),
    fixed(r.storedRate, 0),
    fixed(r.steadyStoredRate, 0),
    seconds(r.storedMs[r.storedMs.length - 1] ?? NaN),
    (['devServer', 'worker', 'server', 'postgres', 'bench'] as const)
      .map((c) => fixed((r.cpu.cpu[c] / n) * 1000, 2))
      .join(' / '),
    othersCores(r.cpu),
  ]);
  const rateOf = (mode: Mode) => results.find((r) => r.mode === mode);
  const targetRow = (mode: Mode) => {
    const r = rateOf(mode);
    return {
      target: `≥ ${TARGET_PER_SECOND}/s sustained through ${MODE_LABELS[mode]}`,
      measured: r
        ? `${fixed(r.acceptedRate, 0)}/s accepted, ${fixed(r.storedRate, 0)}/s created and stored`
        : 'not run',
      met: Boolean(
        r && r.errors === 0 && r.acceptedRate >= TARGET_PER_SECOND && r.storedRate >= TARGET_PER_SECOND,
      ),
    };
  };
  const targets = [targetRow('rest'), targetRow('client')];
  for (const mode of ['rest-bulk', 'client-bulk'] as const) if (rateOf(mode)) targets.push(targetRow(mode));

  const notes: string[] = [
    `Ran at commit ${commit}${dirty.length ? ` with uncommitted changes in: ${dirty.map((line) => line.slice(3)).join(', ')}` : ' (service code as committed)'}.`,
    ...skipped,
    ...failures,
  ];
  for (const r of results) {
    const label = `${MODE_LABELS[r.mode]}: `;
    if (r.firstError)
      notes.push(`${label}${r.errors} dossiers not accepted, the first because: ${r.firstError}.`);
    notes.push(`${label}${cpuNote(r.cpu, n, 'dossier')}; ${r.quiet}.`);
    notes.push(...logNotes(label, r.logs));
  }

  const report: BenchReport = {
    name: 'create',
    title: 'Creation rate: dossiers created and their first notice stored',
    method: [
      'Each way of creating runs on a fresh stack, every piece a separate process on loopback: the Temporal CLI dev server started by',
      '`startTemporalDevServer` (as `npm start` starts it, headless), a fresh PostgreSQL database, the production worker (`worker/main.ts`)',
      `and delivery server (\`server/main.ts\`). ${n} dossiers over ${owners} owners, due in 60 days (no reminder falls in the run), are created`,
      `(a) through REST, \`POST /api/v1/dossiers\` with the service token, ${concurrency} requests in flight; (b) through the client API`,
      `(\`createDossierClient().create\`, signal-with-start), ${concurrency} calls in flight; (c) in bulk when the code has it.`,
      'Call latency: request sent to response (a call carries one dossier, or a batch in bulk). Accepted/s: dossiers whose call',
      'succeeded, over the time to the last answer. Stored/s: each dossier gets one `created` notice when its workflow has saved it;',
      '`notifications.created_at` of those rows minus the first call gives the sustained rate, N over the time to the last one.',
      'CPU: utime + stime from /proc per process over the whole run (first call to last notice stored), divided by N.',
    ].join(' '),
    parameters: {
      dossiers: n,
      owners,
      concurrency,
      'bulk size / concurrency': `${bulkSize} / ${bulkConcurrency}`,
      timeout: `${seconds(timeoutMs)} s`,
      "owners' zone (DEFAULT_TIMEZONE)": zone,
      ...devServerParameters(results[0]?.devServerFacts),
      'worker extra env': workerEnvParameter(extraWorkerEnv),
      commit,
    },
    table: { headers, rows },
    targets,
    chart: {
      title: 'Dossiers created: calls answered and created notices stored',
      xLabel: 'seconds after the first call',
      yLabel: 'dossiers',
      kind: 'line',
      series: results.flatMap((r) => [
        { name: `${r.mode}: stored`, points: cumulativePoints(r.storedMs, 80) },
        { name: `${r.mode}: accepted`, points: cumulativePoints(r.acceptedMs, 80) },
      ]),
    },
    notes: notes.map((note) => `- ${note}`).join('\n'),
  };
  const path = await writeBenchReport(report);
  process.stdout.write(`\n${renderText(report)}\n\n${report.notes}\n\nWritten: ${path}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
