import {
  cpuNote,
  devServerParameters,
  fixed,
  gitFacts,
  logNotes,
  othersCores,
  stopOnSignal,
  waitForQuietMachine,
  workerEnvParameter,
} from './bench-util.js';
import {
  devServer,
  dossierCount,
  durationS,
  extraWorkerEnv,
  graceMs,
  log,
  maxInFlight,
  rates,
  TARGET_P99_MS,
  TARGET_RATE,
  zone,
  type RateResult,
} from './latency-params.js';
import { runRates } from './latency-run.js';
import { percentile, renderText, writeBenchReport, type BenchReport } from './report.js';
import { COMPONENTS, startStack, type Stack } from './stack.js';

/**
 * `npm run bench:latency`: REST → socket latency under a steady update rate. BENCH_LATENCY_DOSSIERS
 * (20) dossiers, one owner each, their owners' tabs open; then, for each rate of BENCH_RATES
 * (default 10,50,100 updates/s) for BENCH_LATENCY_SECONDS (20) each, `PUT /api/v1/dossiers/{id}`
 * with a new title (one `updated` notice each), sent open-loop on a fixed schedule round-robin over
 * the dossiers. Latency: from the request's send to the notice's frame on its owner's socket
 * (matched by the new title). Between rates, the previous rate's notices are drained (up to
 * BENCH_LATENCY_GRACE_S, 120 s) so that a backlog does not spill into the next rate.
 */

async function main(): Promise<void> {
  const { commit, dirty } = gitFacts();
  const quiet = await waitForQuietMachine(log);
  log(`starting the stack (dev server ${devServer.storage})`);
  const stack: Stack = await startStack({
    label: 'latency',
    devServer,
    workerEnv: { DEFAULT_TIMEZONE: zone, ...extraWorkerEnv },
  });
  const unhook = stopOnSignal(stack.stop);
  const results: RateResult[] = [];
  const failures: string[] = [];
  let logs: Awaited<ReturnType<Stack['logSummary']>>;
  try {
    logs = await runRates(stack, results, failures);
  } finally {
    unhook();
    await stack.stop();
  }

  const ms = (r: RateResult) => r.latencies.map(([, value]) => value);
  const growing = (r: RateResult) =>
    r.quarterP50[3]! > 2 * r.quarterP50[0]! + 50 || r.delivered < r.sent - r.failed ? 'yes' : 'no';
  const headers = [
    'updates/s',
    'sent (achieved/s)',
    'failed calls',
    'delivered / lost',
    'twice',
    'REST → socket p50 / p99 / max (ms)',
    'REST answer p50 / p99 (ms)',
    'send → stored p50 / stored → frame p50 (ms)',
    'p50 by quarter of the run (ms)',
    'trend (ms per s)',
    'queue grows',
    'CPU ms per update: dev server / worker / server / PostgreSQL / bench',
    'other processes (cores busy)',
  ];
  const rows = results.map((r) => [
    String(r.rate),
    `${r.sent} (${fixed(r.achievedRate, 1)})`,
    String(r.failed),
    `${r.delivered} / ${r.sent - r.failed - r.delivered}`,
    String(r.twice),
    `${fixed(percentile(ms(r), 50), 0)} / ${fixed(percentile(ms(r), 99), 0)} / ${fixed(Math.max(...ms(r)), 0)}`,
    `${fixed(percentile(r.ackMs, 50), 0)} / ${fixed(percentile(r.ackMs, 99), 0)}`,
    `${fixed(percentile(r.storedMs, 50), 0)} / ${fixed(percentile(r.fanoutMs, 50), 0)}`,
    r.quarterP50.map((value) => fixed(value, 0)).join(' / '),
    fixed(r.slopeMsPerS, 1),
    growing(r),
    COMPONENTS.map((c) => fixed((r.cpu.cpu[c] / Math.max(1, r.sent)) * 1000, 2)).join(' / '),
    othersCores(r.cpu),
  ]);
  const atTarget = results.find((r) => r.rate === TARGET_RATE);
  const targets = [
    {
      target: `REST → socket p99 ≤ ${TARGET_P99_MS} ms at ${TARGET_RATE} updates/s`,
      measured: atTarget
        ? `p99 ${fixed(percentile(ms(atTarget), 99), 0)} ms (p50 ${fixed(percentile(ms(atTarget), 50), 0)} ms), ${atTarget.sent - atTarget.failed - atTarget.delivered} not delivered within ${graceMs / 1000} s`
        : 'not run',
      met: Boolean(
        atTarget &&
        atTarget.failed === 0 &&
        atTarget.delivered === atTarget.sent &&
        percentile(ms(atTarget), 99) <= TARGET_P99_MS,
      ),
    },
  ];
  const notes: string[] = [
    `Ran at commit ${commit}${dirty.length ? ` with uncommitted changes in: ${dirty.map((line) => line.slice(3)).join(', ')}` : ' (service code as committed)'}.`,
    `The machine before the start: ${quiet}.`,
    ...failures,
  ];
  for (const r of results) {
    if (r.firstFailure) notes.push(`${r.rate}/s: ${r.failed} failed calls, the first: ${r.firstFailure}.`);
    if (r.lateSends > 0)
      notes.push(`${r.rate}/s: ${r.lateSends} sends more than 20 ms behind their schedule.`);
    notes.push(`${r.rate}/s: ${cpuNote(r.cpu, Math.max(1, r.sent), 'update')}.`);
  }
  notes.push(...logNotes('', logs));

  // p99 of each second of the run, by the send time.
  const perSecond = (r: RateResult): [number, number][] => {
    const buckets = new Map<number, number[]>();
    for (const [offset, value] of r.latencies) {
      const second = Math.floor(offset / 1000);
      const list = buckets.get(second);
      if (list) list.push(value);
      else buckets.set(second, [value]);
    }
    return [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([second, values]) => [second, percentile(values, 99)]);
  };
  const report: BenchReport = {
    failures,
    name: 'latency',
    title: 'REST → socket latency at a steady update rate',
    method: [
      'One stack, every piece a separate process on loopback: the Temporal CLI dev server started by `startTemporalDevServer` (as',
      '`npm start` starts it, headless), a fresh PostgreSQL database, the production worker (`worker/main.ts`) and delivery server',
      `(\`server/main.ts\`). ${dossierCount} dossiers, one owner each, are created first and every owner has one tab open (\`ws\`, live; the server's per-address upgrade limit is off, as the tabs stand for many browsers).`,
      `Then, for each rate, updates are sent open-loop on a fixed schedule for ${durationS} s, round-robin over the dossiers: each a`,
      '`PUT /api/v1/dossiers/{id}` with the service token and a new title, which makes one `updated` notice. Latency: from the',
      "request's send to its notice's frame on the owner's socket (matched by the title), same clock. Send → stored uses the frame's",
      '`createdAt` (PostgreSQL `now()` of the storing transaction). After each rate its notices are drained (up to the grace time)',
      'before the next rate starts; one not delivered by then is lost. Trend: least-squares slope of latency over send time; the queue',
      "grows when the last quarter's p50 exceeds twice the first's plus 50 ms, or notices are still missing after the grace time.",
      'A 2 s warm-up at 5/s runs first and is not counted.',
    ].join(' '),
    parameters: {
      dossiers: dossierCount,
      'rates (updates/s)': rates.join(', '),
      'seconds per rate': durationS,
      'grace to drain': `${graceMs / 1000} s`,
      'max requests in flight': maxInFlight,
      "owners' zone (DEFAULT_TIMEZONE)": zone,
      ...devServerParameters(stack.devServerFacts),
      'worker extra env': workerEnvParameter(extraWorkerEnv),
      commit,
    },
    table: { headers, rows },
    targets,
    chart: {
      title: 'REST → socket latency, p99 of each second',
      xLabel: 'seconds into the run (by send time)',
      yLabel: 'ms',
      kind: 'line',
      series: results.map((r) => ({ name: `${r.rate}/s`, points: perSecond(r) })),
    },
    notes: notes.map((note) => `- ${note}`).join('\n'),
  };
  const path = await writeBenchReport(report);
  process.stdout.write(`\n${renderText(report)}\n\n${report.notes}\n\nWritten: ${path}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
