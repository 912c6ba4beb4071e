import {
  fixed,
  commitNote,
  gitFacts,
  logNotes,
  othersCores,
  stopOnSignal,
  waitForQuietMachine,
  workerEnvParameter,
} from './bench-util.js';
import { dominantStep, type StepRow } from './history-steps.js';
import {
  devServer,
  dossierCount,
  durationS,
  extraWorkerEnv,
  graceMs,
  log,
  maxInFlight,
  rates,
  stackKind,
  TARGET_P99_MS,
  TARGET_RATE,
  zone,
  type RateResult,
} from './latency-params.js';
import { runRates } from './latency-run.js';
import { percentile, renderText, writeBenchReport, type BenchReport } from './report.js';
import { startDrivenStack, STACK_METHODS, type DrivenStack } from './stack-choice.js';
import type { LogSummary } from './stack.js';
import { sweepLeftovers } from './leftovers.js';

/**
 * `npm run bench:latency`: REST → socket latency under a steady update rate. BENCH_LATENCY_DOSSIERS
 * (20) dossiers, one owner each, their owners' tabs open; then, for each rate of BENCH_RATES
 * (default 10,50,100 updates/s) for BENCH_LATENCY_SECONDS (20) each, `PUT /api/v1/dossiers/{id}`
 * with a new title (one `updated` notice each), sent open-loop on a fixed schedule round-robin over
 * the dossiers (at most BENCH_LATENCY_MAX_IN_FLIGHT, 512, at a time). Latency: from the request's
 * intended send on the schedule to the notice's frame on its owner's socket (matched by the new
 * title); the actual send is reported too. Between rates, the previous rate's notices are drained
 * (up to BENCH_LATENCY_GRACE_S, 120 s) so that a backlog does not spill into the next rate; then
 * the dossiers' Temporal histories say where each update's time went, step by step.
 * BENCH_STACK: `separate` (default, bench/stack.ts) or `embedded` (npm start's own process); the
 * report is `latency` or `latency-embedded`.
 */

/** p50 / p99 / max of `values`, ms. */
const spread = (values: number[]): string =>
  `${fixed(percentile(values, 50), 0)} / ${fixed(percentile(values, 99), 0)} / ${fixed(values.length ? Math.max(...values) : NaN, 0)}`;

/** One rate's step breakdown: a Markdown table and the sentence naming the step that weighs most. */
function stepSection(r: RateResult): string {
  const heading = `### Where the time goes at ${r.rate}/s`;
  if (r.steps.length === 0)
    return `${heading}\n\nNo update found in the histories${r.stepsError ? ` (${r.stepsError})` : ''}.`;
  const onPathMs = r.steps.filter((row) => row.onPath).reduce((sum, row) => sum + row.totalMs, 0);
  const cell = (value: string) => value.replace(/\|/g, '\\|');
  const line = (row: StepRow) =>
    `| ${cell(row.step)} | ${row.onPath ? 'yes' : 'beside'} | ${row.count} | ${fixed(row.p50, 1)} | ${fixed(row.p99, 1)} | ${row.onPath ? `${fixed((row.totalMs / Math.max(1e-9, onPathMs)) * 100, 0)} %` : '—'} |`;
  const top = dominantStep(r.steps);
  const sentence = top
    ? `At ${r.rate}/s the step that weighs most is **${top.row.step}**: p50 ${fixed(top.row.p50, 1)} ms, p99 ${fixed(top.row.p99, 1)} ms, ${fixed(top.share * 100, 0)} % of the summed time from the intended sends to the frames.`
    : '';
  return [
    heading,
    `${r.stepsMatched} of ${r.delivered} delivered updates found in their workflows' histories.`,
    [
      '| step | on the path | updates | p50 (ms) | p99 (ms) | share of the path |',
      '| --- | --- | --- | --- | --- | --- |',
      ...r.steps.map(line),
    ].join('\n'),
    sentence,
  ]
    .filter(Boolean)
    .join('\n\n');
}

async function main(): Promise<void> {
  await sweepLeftovers();
  const { commit, dirty } = gitFacts();
  const quiet = await waitForQuietMachine(log);
  log(
    `starting the ${stackKind} stack${stackKind === 'separate' ? ` (dev server ${devServer.storage})` : ''}`,
  );
  // Hooked before the start: a signal while the stack starts stops what started.
  let stopStack = () => Promise.resolve();
  const unhook = stopOnSignal(() => stopStack());
  const results: RateResult[] = [];
  const failures: string[] = [];
  let logs: LogSummary[];
  let stack: DrivenStack;
  try {
    stack = await startDrivenStack({
      kind: stackKind,
      label: 'latency',
      devServer,
      workerEnv: { DEFAULT_TIMEZONE: zone, ...extraWorkerEnv },
      onStop: (stop) => (stopStack = stop),
    });
    logs = await runRates(stack, results, failures);
  } finally {
    // Still hooked while it stops: a signal now waits for the same stop, then exits.
    await stopStack();
    unhook();
  }
  const { components } = stack;

  const ms = (r: RateResult) => r.latencies.map(([, value]) => value);
  const growing = (r: RateResult) =>
    r.quarterP50[3]! > 2 * r.quarterP50[0]! + 50 || r.delivered < r.sent - r.failed ? 'yes' : 'no';
  const headers = [
    'updates/s',
    'sent (achieved/s)',
    'failed calls',
    'delivered / lost',
    'twice',
    'REST → socket p50 / p99 / max (ms), from the intended send',
    'from the actual send p50 / p99 / max (ms)',
    'send behind schedule p50 / p99 / max (ms)',
    'REST answer p50 / p99 (ms)',
    'send → stored p50 / stored → frame p50 (ms)',
    'p50 by quarter of the run (ms)',
    'trend (ms per s)',
    'queue grows',
    `CPU ms per update: ${components.map((c) => c.label).join(' / ')}`,
    'other processes (cores busy)',
  ];
  const rows = results.map((r) => [
    String(r.rate),
    `${r.sent} (${fixed(r.achievedRate, 1)})`,
    String(r.failed),
    `${r.delivered} / ${r.sent - r.failed - r.delivered}`,
    String(r.twice),
    spread(ms(r)),
    spread(r.fromSentMs),
    spread(r.sendLagMs),
    `${fixed(percentile(r.ackMs, 50), 0)} / ${fixed(percentile(r.ackMs, 99), 0)}`,
    `${fixed(percentile(r.storedMs, 50), 0)} / ${fixed(percentile(r.fanoutMs, 50), 0)}`,
    r.quarterP50.map((value) => fixed(value, 0)).join(' / '),
    fixed(r.slopeMsPerS, 1),
    growing(r),
    components.map((c) => fixed(((r.cpu.cpu[c.key] ?? NaN) / Math.max(1, r.sent)) * 1000, 2)).join(' / '),
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
    commitNote({ commit, dirty }),
    `The machine before the start: ${quiet}.`,
    ...failures,
  ];
  for (const r of results) {
    if (r.firstFailure) notes.push(`${r.rate}/s: ${r.failed} failed calls, the first: ${r.firstFailure}.`);
    if (r.lateSends > 0)
      notes.push(`${r.rate}/s: ${r.lateSends} sends more than 20 ms behind their schedule.`);
    notes.push(`${r.rate}/s: ${r.cpu.note(Math.max(1, r.sent), 'update')}.`);
    if (r.stepsError)
      notes.push(`${r.rate}/s: no step breakdown, the histories could not be read: ${r.stepsError}.`);
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
    name: stackKind === 'embedded' ? 'latency-embedded' : 'latency',
    title: `REST → socket latency at a steady update rate (${stackKind === 'embedded' ? "npm start's embedded default" : 'separate processes, PostgreSQL'})`,
    method: [
      `Stack: ${stackKind} (BENCH_STACK). ${STACK_METHODS[stackKind]}`,
      `${dossierCount} dossiers, one owner each, are created first and every owner has one tab open (\`ws\`, live; the server's per-address upgrade limit is off, as the tabs stand for many browsers).`,
      `Then, for each rate, updates are sent open-loop on a fixed schedule for ${durationS} s, round-robin over the dossiers (at most ${maxInFlight} requests in flight): each a`,
      '`PUT /api/v1/dossiers/{id}` with the service token and a new title, which makes one `updated` notice. Latency (the p50 / p99 /',
      "max columns, the quarters, the trend and the chart): from the request's intended send time on the schedule to its notice's",
      "frame on the owner's socket (matched by the title), same clock, so that a sender held back (the in-flight cap, its event",
      "loop) does not hide the wait (coordinated omission); the latency from the actual send and the send's lag behind the schedule",
      "are reported beside it. REST answer and send → stored count from the actual send; send → stored uses the frame's",
      '`createdAt` (`now()` of the storing transaction). After each rate its notices are drained (up to the grace time)',
      'before the next rate starts; one not delivered by then is lost. Trend: least-squares slope of latency over intended send time; the queue',
      "grows when the last quarter's p50 exceeds twice the first's plus 50 ms, or notices are still missing after the grace time.",
      'A 2 s warm-up at 5/s runs first and is not counted.',
      "Where the time goes: after each rate, the Temporal histories of the dossiers' workflows are fetched through the client API",
      '(`handle.fetchHistory()`, with the runs a continue-as-new left) and each delivered update is found in its own: the signal,',
      'then the activities, whose input carries its title (`saveDossierChanges`, `deliverNotification`), each with the workflow task',
      'that scheduled it. The gaps between consecutive points (intended send, send, signal recorded, each task scheduled → started',
      '→ completed, each activity scheduled → started → completed, the row stored, the frame) add up to the latency; two run beside',
      "the path (the REST answer after the signal, the delivery activity's end after the row). The dev server's event times, the",
      "bench's clock and the database's `now()` are the same machine's wall clock. Each table gives p50 and p99 of each gap, and",
      "each step's share of the summed path time; a task already scheduled when the signal came counts its wait from the signal.",
    ].join(' '),
    parameters: {
      dossiers: dossierCount,
      'rates (updates/s)': rates.join(', '),
      'seconds per rate': durationS,
      'grace to drain': `${graceMs / 1000} s`,
      'max requests in flight': maxInFlight,
      "owners' zone (DEFAULT_TIMEZONE)": zone,
      'stack (BENCH_STACK)': stackKind,
      ...stack.parameters,
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
    notes: [notes.map((note) => `- ${note}`).join('\n'), ...results.map(stepSection)].join('\n\n'),
  };
  const path = await writeBenchReport(report);
  process.stdout.write(`\n${renderText(report)}\n\n${report.notes}\n\nWritten: ${path}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
