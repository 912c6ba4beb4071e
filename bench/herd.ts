import {
  cpuNote,
  cumulativePoints,
  devServerParameters,
  fixed,
  commitNote,
  gitFacts,
  logNotes,
  othersCores,
  sdkNote,
  seconds,
  workerEnvParameter,
} from './bench-util.js';
import {
  concurrency,
  extraWorkerEnv,
  log,
  ownersFor,
  safety,
  sizes,
  timeoutMsFor,
  zone,
  type SizeResult,
} from './herd-params.js';
import { runSize } from './herd-run.js';
import { percentile, renderText, writeBenchReport, type BenchReport } from './report.js';
import { COMPONENTS } from './stack.js';
import { withStack } from './common.js';
import { drainQuietMs, exactlyOnceTarget } from './herd-tally.js';
import { sweepLeftovers } from './leftovers.js';

/**
 * `npm run bench:herd`: the thundering herd. N dossiers (BENCH_HERD sizes, default 1000,10000;
 * a fresh stack each) over U owners (BENCH_HERD_OWNERS, default N/10), all with `dueAt = T`, so
 * that all N `overdue` alerts fall due at the same instant. Each owner has one tab open. From T:
 * when each alert is stored (notifications.created_at) and when its frame reaches the socket,
 * what was lost or sent twice, and the CPU each process spent per reminder.
 *
 * T is chosen adaptively: a pilot of dossiers due in 60 days measures the create-and-store rate
 * of this machine, then T = now + N / rate × BENCH_HERD_SAFETY (1.5) + time to open the sockets
 * + 10 s. A run whose creation, storage of the `created` notices or sockets were not all done
 * before T is reported as invalid (its alerts would not all fall due at T).
 */

/** Reminders stored within the timeout: what the window's CPU was spent on. */
const storedCount = (r: SizeResult) => Math.max(1, r.storedMs.length);

const spread = (values: number[]) =>
  values.length === 0
    ? '—'
    : `${seconds(values[0]!)} / ${seconds(percentile(values, 50))} / ${seconds(percentile(values, 99))} / ${seconds(values[values.length - 1]!)}`;

async function main(): Promise<void> {
  await sweepLeftovers();
  const { commit, dirty } = gitFacts();
  const results: SizeResult[] = [];
  const failures: string[] = [];
  for (const n of sizes) {
    try {
      results.push(await runSize(n));
    } catch (error) {
      log(`N=${n} failed: ${withStack(error)}`);
      failures.push(`N=${n} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const headers = [
    'N',
    'owners',
    'created/s (client API)',
    'stored: first / p50 / p99 / last (s after T)',
    'on socket: first / p50 / p99 / last (s after T)',
    'late (after the timeout): rows / frames',
    'lost (missing after the drain): rows / frames',
    'twice rows / frames',
    'CPU ms per reminder: dev server / worker / server / PostgreSQL / bench',
    'other processes (cores busy)',
  ];
  const rows = results.map((r) => [
    String(r.n) + (r.invalid.length ? ' (invalid)' : '') + (r.timedOut ? ' (timed out)' : ''),
    String(r.owners),
    fixed(r.createRate, 0),
    spread(r.storedMs),
    spread(r.frameMs),
    `${r.lateRows} / ${r.lateFrames}`,
    `${r.lostRows} / ${r.lostFrames}` + (r.drain.quiet ? '' : ' (not quiet)'),
    `${r.twiceRows} / ${r.twiceFrames}`,
    COMPONENTS.map((c) => fixed((r.cpu.cpu[c] / storedCount(r)) * 1000, 2)).join(' / '),
    othersCores(r.cpu),
  ]);

  const lastOf = (values: number[]) => values[values.length - 1] ?? NaN;
  const targetFor = (n: number, limitS: number) => {
    const r = results.find((result) => result.n === n);
    if (!r)
      return {
        target: `${n.toLocaleString('en')} reminders due at one instant all stored and on their sockets within ${limitS} s`,
        measured: 'not run',
        met: false,
      };
    const last = Math.max(lastOf(r.storedMs), lastOf(r.frameMs));
    const complete = r.lostRows + r.lostFrames + r.lateRows + r.lateFrames === 0;
    return {
      target: `${n.toLocaleString('en')} reminders due at one instant all stored and on their sockets within ${limitS} s`,
      measured: complete
        ? `last stored ${seconds(lastOf(r.storedMs))} s, last on its socket ${seconds(lastOf(r.frameMs))} s after T`
        : `${r.storedMs.length} stored, ${r.frameMs.length} on sockets within ${seconds(timeoutMsFor(n))} s; ` +
          `${r.lateRows} / ${r.lateFrames} later, ${r.lostRows} / ${r.lostFrames} missing after a drain of ${seconds(r.drain.drainedMs)} s (rows / frames)`,
      met: complete && last <= limitS * 1000 && r.invalid.length === 0,
      note: [
        r.invalid.length > 0 ? `invalid run: ${r.invalid.join('; ')}` : '',
        r.cpu.machine.others > 0.25 * r.cpu.seconds
          ? `other processes kept ${othersCores(r.cpu)} cores busy meanwhile`
          : '',
      ]
        .filter(Boolean)
        .join('; '),
    };
  };
  const targets = [targetFor(10_000, 60), targetFor(1_000, 10), exactlyOnceTarget(results)];

  const facts = results[0]?.devServerFacts;
  const notes: string[] = [commitNote({ commit, dirty }), ...failures];
  for (const r of results) {
    notes.push(
      `N=${r.n}: pilot of ${r.pilot.count} dossiers: ${fixed(r.pilot.ratePerSecond, 0)}/s created and stored; ` +
        `herd created at ${fixed(r.createRate, 0)}/s (call p50 ${fixed(percentile(r.callMs, 50), 0)} ms, p99 ${fixed(percentile(r.callMs, 99), 0)} ms), ` +
        `created notices stored at ${fixed(r.createdStoredRate, 0)}/s; everything ready ${seconds(r.leadMs)} s before T; ${r.quiet}` +
        (r.invalid.length ? `; INVALID: ${r.invalid.join('; ')}` : '') +
        '.',
    );
    notes.push(
      `N=${r.n}: stored → on socket (frame arrival minus created_at) p50 ${fixed(percentile(r.deliveryMs, 50), 0)} ms, p99 ${fixed(percentile(r.deliveryMs, 99), 0)} ms, max ${fixed(Math.max(...r.deliveryMs), 0)} ms; ` +
        sdkNote(r.sdk),
    );
    notes.push(
      `N=${r.n}: ${cpuNote(r.cpu, storedCount(r), 'reminder stored')}; other notification frames: ${r.otherFrames}; sockets closed by the server: ${r.socketCloses.length}` +
        (r.socketCloses.length ? ` (codes ${[...new Set(r.socketCloses)].join(', ')})` : '') +
        '.',
    );
    notes.push(...logNotes(`N=${r.n}: `, r.logs));
  }

  const report: BenchReport = {
    failures,
    name: 'herd',
    title: 'Thundering herd: N reminders due at one instant',
    method: [
      'Each size runs on a fresh stack, every piece a separate process on loopback, as an integrating backend meets the service:',
      'the Temporal CLI dev server started by `startTemporalDevServer` (as `npm start` starts it, headless), a fresh PostgreSQL database',
      '(migrated, dropped afterwards), the production worker (`worker/main.ts`) and delivery server (`server/main.ts`).',
      `N dossiers over N/10 owners are created through the client API (\`createDossierClient().create\`, ${concurrency} calls at a time), all with \`dueAt = T\`,`,
      "so that each one's `overdue` alert falls due exactly at T. T is chosen adaptively: a pilot of dossiers due in 60 days measures the",
      `create-and-store rate, then T = now + N / rate × ${safety} + time for the sockets + 10 s; every \`created\` notice must be stored and every`,
      "owner's tab open (`ws`, live, token in Sec-WebSocket-Protocol; the server's per-address upgrade limit is off, as the tabs stand for many browsers but all come from 127.0.0.1) before T, else the run is marked invalid.",
      "Stored: `notifications.created_at` (PostgreSQL `now()`, the start of the storing transaction) minus T. On socket: the frame's arrival",
      'in the bench process minus T (same clock). After the timeout (or once all arrived) the bench keeps watching rows and frames until none has come',
      `for ${seconds(drainQuietMs)} s (at most max(60 s, half the timeout)). Late: a first row or frame after the timeout; lost: a dossier with no row or no frame when the drain ended;`,
      'twice: a second row or frame for the same dossier, drain included. A second row cannot exist while the unique key `notifications_idempotency_key_unique` holds',
      '(a retried step meets it and stores nothing): its count checks that key; a second frame would be a retry announced twice.',
      'CPU: utime + stime from /proc over the window from T − 1 s until everything arrived (or the timeout): the dev server (children included),',
      "the worker, the delivery server, the PostgreSQL backends of the database plus the server's background processes, and the bench itself;",
      'divided by the reminders stored in the window (N unless the timeout cut it short). The worker runs with DEFAULT_TIMEZONE set to a fixed-offset zone where it is about 13:00, so no 08:00 reminder and no',
      '18:00 daily report fall inside the run.',
    ].join(' '),
    parameters: {
      sizes: sizes.join(', '),
      owners: process.env.BENCH_HERD_OWNERS ? String(ownersFor(0)) : 'N / 10',
      'create concurrency': concurrency,
      'T safety factor': safety,
      timeout: process.env.BENCH_HERD_TIMEOUT_S
        ? `${process.env.BENCH_HERD_TIMEOUT_S} s`
        : 'max(120 s, 0.06 s × N)',
      "owners' zone (DEFAULT_TIMEZONE)": zone,
      ...devServerParameters(facts),
      'worker extra env': workerEnvParameter(extraWorkerEnv),
      commit,
    },
    table: { headers, rows },
    targets,
    chart: {
      title: 'Overdue alerts stored after T (cumulative)',
      xLabel: 'seconds after T',
      yLabel: 'alerts stored',
      kind: 'line',
      series: results.map((r) => ({ name: `N = ${r.n}`, points: cumulativePoints(r.storedMs, 100) })),
    },
    notes: notes.map((note) => `- ${note}`).join('\n'),
  };
  const path = await writeBenchReport(report);
  process.stdout.write(`\n${renderText(report)}\n\n${report.notes}\n\nWritten: ${path}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
