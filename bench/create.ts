import {
  cumulativePoints,
  fixed,
  commitNote,
  gitFacts,
  logNotes,
  othersCores,
  seconds,
  workerEnvParameter,
} from './bench-util.js';
import {
  bulkConcurrency,
  bulkSize,
  concurrency,
  extraWorkerEnv,
  hasClientBulk,
  hasRestBulk,
  log,
  MODE_LABELS,
  n,
  owners,
  stackKind,
  TARGET_PER_SECOND,
  timeoutMs,
  zone,
  type Mode,
  type ModeResult,
} from './create-params.js';
import { runMode } from './create-run.js';
import { percentile, renderText, writeBenchReport, type BenchReport } from './report.js';
import { withStack } from './common.js';
import { STACK_COMPONENTS, STACK_METHODS } from './stack-choice.js';
import { sweepLeftovers } from './leftovers.js';

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
 * time), sustained rate = N / time to the last one. BENCH_STACK: `separate` (default,
 * bench/stack.ts) or `embedded` (npm start's own process); the report is `create` or
 * `create-embedded`.
 */

async function main(): Promise<void> {
  await sweepLeftovers();
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
      log(`${mode} failed: ${withStack(error)}`);
      failures.push(`${MODE_LABELS[mode]} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const components = STACK_COMPONENTS[stackKind];
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
    `CPU ms per dossier: ${components.map((c) => c.label).join(' / ')}`,
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
    components.map((c) => fixed(((r.cpu.cpu[c.key] ?? NaN) / n) * 1000, 2)).join(' / '),
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

  const notes: string[] = [commitNote({ commit, dirty }), ...skipped, ...failures];
  for (const r of results) {
    const label = `${MODE_LABELS[r.mode]}: `;
    if (r.firstError)
      notes.push(`${label}${r.errors} dossiers not accepted, the first because: ${r.firstError}.`);
    notes.push(`${label}${r.cpu.note(n, 'dossier')}; ${r.quiet}.`);
    notes.push(...logNotes(label, r.logs));
  }

  const report: BenchReport = {
    failures,
    name: stackKind === 'embedded' ? 'create-embedded' : 'create',
    title: `Creation rate: dossiers created and their first notice stored (${stackKind === 'embedded' ? "npm start's embedded default" : 'separate processes, PostgreSQL'})`,
    method: [
      `Each way of creating runs on a fresh stack of its own. Stack: ${stackKind} (BENCH_STACK). ${STACK_METHODS[stackKind]}`,
      `${n} dossiers over ${owners} owners, due in 60 days (no reminder falls in the run), are created`,
      `(a) through REST, \`POST /api/v1/dossiers\` with the service token, ${concurrency} requests in flight; (b) through the client API`,
      `(\`createDossierClient().create\`, signal-with-start), ${concurrency} calls in flight; (c) in bulk when the code has it.`,
      'Call latency: request sent to response (a call carries one dossier, or a batch in bulk). Accepted/s: dossiers whose call',
      'succeeded, over the time to the last answer. Stored/s: each dossier gets one `created` notice when its workflow has saved it;',
      '`notifications.created_at` of those rows minus the first call gives the sustained rate, N over the time to the last one.',
      ...(stackKind === 'embedded'
        ? [
            'On the embedded stack each owner has one tab open from before the first call: the run waits on the `created` frames',
            "there, and the rows' `created_at` are read once it is over, through the owners' lists.",
          ]
        : []),
      'CPU: utime + stime from /proc per process over the whole run (first call to last notice stored), divided by N.',
    ].join(' '),
    parameters: {
      dossiers: n,
      owners,
      concurrency,
      'bulk size / concurrency': `${bulkSize} / ${bulkConcurrency}`,
      timeout: `${seconds(timeoutMs)} s`,
      "owners' zone (DEFAULT_TIMEZONE)": zone,
      'stack (BENCH_STACK)': stackKind,
      ...(results[0]?.stackParameters ?? { 'dev server': 'not started' }),
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
