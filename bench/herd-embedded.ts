import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { interrupted, withStack } from './common.js';
import {
  commitNote,
  cumulativePoints,
  fixed,
  gitFacts,
  othersCores,
  sdkNote,
  seconds,
} from './bench-util.js';
import { EMBEDDED_COMPONENTS, EMBEDDED_LABELS, type EmbeddedCpuWindow } from './embedded-meter.js';
import {
  bulkConcurrency,
  bulkSize,
  log,
  ownersFor,
  safety,
  sizes,
  sqlitePragmas,
  timeoutMsFor,
  zone,
  type EmbeddedSizeResult,
} from './herd-embedded-params.js';
import { runEmbeddedSize } from './herd-embedded-run.js';
import { machineFacts, percentile, renderText, writeBenchReport, type BenchReport } from './report.js';
import { drainQuietMs, exactlyOnceTarget } from './herd-tally.js';
import { sweepLeftovers } from './leftovers.js';

/**
 * `npm run bench:herd-embedded`: the thundering herd of bench:herd on the embedded default that
 * `npm start` runs: scripts/start.ts, one Node process with PGlite (one session), the worker and
 * the delivery server, and its child the Temporal CLI dev server on an SQLite file. Driven from
 * outside only, as an integrating backend and its users meet it: N dossiers (BENCH_HERD sizes,
 * default 1000,10000; a fresh start.ts each) over N/10 owners (BENCH_HERD_OWNERS) created in bulk
 * through REST with a service token, all due at T; one tab per owner; from T, when each
 * `overdue` alert's frame reaches its socket; afterwards each owner's list through REST (the rows
 * and their createdAt). T is timed by a pilot, as in bench:herd.
 *
 * Settings: BENCH_HERD, BENCH_HERD_OWNERS, BENCH_HERD_SAFETY (1.5), BENCH_HERD_TIMEOUT_S
 * (max(180, 0.1 × N)), BENCH_HERD_BULK_SIZE (1000), BENCH_HERD_BULK_CONCURRENCY (2),
 * BENCH_TIMEZONE, TEMPORAL_DEV_SQLITE_PRAGMAS (npm start's default), BENCH_QUIET_WAIT_S,
 * BENCH_QUIET_CORES, BENCH_OUTPUT_DIR, BENCH_KEEP=1 (keeps the temp dir: logs, PGlite, SQLite).
 */

const packageVersion = (name: string): string => {
  try {
    const manifest = readFileSync(
      fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url)),
      'utf8',
    );
    return (JSON.parse(manifest) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

/** Reminders stored within the timeout: what the window's CPU was spent on. */
const storedCount = (r: EmbeddedSizeResult) => Math.max(1, r.storedMs.length);
const perReminder = (r: EmbeddedSizeResult, cpuSeconds: number) =>
  fixed((cpuSeconds / storedCount(r)) * 1000, 2);
const lastOf = (values: number[]) => values[values.length - 1] ?? NaN;
const spread = (values: number[]) =>
  values.length === 0
    ? '—'
    : `${seconds(values[0]!)} / ${seconds(percentile(values, 50))} / ${seconds(percentile(values, 99))} / ${seconds(lastOf(values))}`;
const busyShare = (cpu: EmbeddedCpuWindow) =>
  `${fixed((cpu.machine.busy / Math.max(0.001, cpu.seconds * cpu.machine.cores)) * 100, 0)} %`;

/** What the window's CPU says of a missed target: where it went, and how busy the machine was. */
function cause(r: EmbeddedSizeResult): string {
  const cpu = r.cpu;
  return (
    `CPU per reminder: start.ts ${perReminder(r, cpu.cpu.start)} ms (its main thread busy ` +
    `${fixed((cpu.mainThread / Math.max(0.001, cpu.seconds)) * 100, 0)} % of the window), the dev server ` +
    `${perReminder(r, cpu.cpu.devServer)} ms; the ${cpu.machine.cores} cores ${busyShare(cpu)} busy, ` +
    `${othersCores(cpu)} by other processes`
  );
}

async function main(): Promise<void> {
  await sweepLeftovers();
  const { commit, dirty } = gitFacts();
  const results: EmbeddedSizeResult[] = [];
  const failures: string[] = [];
  for (const n of sizes) {
    if (interrupted()) break;
    try {
      results.push(await runEmbeddedSize(n));
    } catch (error) {
      if (interrupted()) break;
      log(`N=${n} failed: ${withStack(error)}`);
      failures.push(`N=${n} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // Stopped by a signal: the handler stops start.ts and exits; no report (the committed one stays).
  if (interrupted()) return;

  const headers = [
    'N',
    'owners',
    'created/s (REST bulk)',
    'stored: first / p50 / p99 / last (s after T)',
    'on socket: first / p50 / p99 / last (s after T)',
    'late (after the timeout): rows / frames',
    'lost (missing after the drain): rows / frames',
    'twice rows / frames',
    'CPU ms per reminder: start.ts / dev server / bench',
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
    EMBEDDED_COMPONENTS.map((c) => perReminder(r, r.cpu.cpu[c])).join(' / '),
    othersCores(r.cpu),
  ]);

  const targetFor = (n: number, limitS: number) => {
    const target = `${n.toLocaleString('en')} reminders due at one instant all stored and on their sockets within ${limitS} s`;
    const r = results.find((result) => result.n === n);
    if (!r) return { target, measured: 'not run', met: false };
    const last = Math.max(lastOf(r.storedMs), lastOf(r.frameMs));
    const complete = r.lostRows + r.lostFrames + r.lateRows + r.lateFrames === 0;
    const met = complete && last <= limitS * 1000 && r.invalid.length === 0;
    return {
      target,
      measured: complete
        ? `last stored ${seconds(lastOf(r.storedMs))} s, last on its socket ${seconds(lastOf(r.frameMs))} s after T`
        : `${r.storedMs.length} stored, ${r.frameMs.length} on sockets within ${seconds(timeoutMsFor(n))} s; ` +
          `${r.lateRows} / ${r.lateFrames} later, ${r.lostRows} / ${r.lostFrames} missing after a drain of ${seconds(r.drain.drainedMs)} s (rows / frames)`,
      met,
      note: [r.invalid.length > 0 ? `invalid run: ${r.invalid.join('; ')}` : '', met ? '' : cause(r)]
        .filter(Boolean)
        .join('; '),
    };
  };
  const targets = [targetFor(10_000, 60), targetFor(1_000, 10), exactlyOnceTarget(results)];

  const notes: string[] = [commitNote({ commit, dirty }), ...failures];
  for (const r of results) {
    const cpu = r.cpu;
    notes.push(
      `N=${r.n}: pilot of ${r.pilot.count} dossiers: ${fixed(r.pilot.ratePerSecond, 0)}/s created and stored; ` +
        `herd created at ${fixed(r.createRate, 0)}/s in bulk calls of up to ${bulkSize} (call p50 ${seconds(percentile(r.bulkCallMs, 50))} s, max ${seconds(Math.max(...r.bulkCallMs))} s), ` +
        `created notices on their sockets at ${fixed(r.createdStoredRate, 0)}/s; everything ready ${seconds(r.leadMs)} s before T; ${r.quiet}` +
        (r.invalid.length ? `; INVALID: ${r.invalid.join('; ')}` : '') +
        '.',
    );
    notes.push(
      `N=${r.n}: stored → on socket (frame arrival minus the row's createdAt, ms precision) p50 ${fixed(percentile(r.deliveryMs, 50), 0)} ms, p99 ${fixed(percentile(r.deliveryMs, 99), 0)} ms, max ${fixed(Math.max(...r.deliveryMs), 0)} ms; ` +
        sdkNote(r.sdk),
    );
    const threads = Object.entries(cpu.threads)
      .filter(([, s]) => s >= 0.05)
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `${name} ${fixed(s, 1)} s`)
      .join(', ');
    notes.push(
      `N=${r.n}: CPU over the ${fixed(cpu.seconds, 1)} s window: ` +
        EMBEDDED_COMPONENTS.map(
          (c) =>
            `${EMBEDDED_LABELS[c]} ${fixed(cpu.cpu[c], 1)} s (${perReminder(r, cpu.cpu[c])} ms per reminder stored)`,
        ).join(', ') +
        `; start.ts by thread: ${threads || 'none'}; ` +
        `the machine was busy ${fixed(cpu.machine.busy, 1)} of ${fixed(cpu.seconds * cpu.machine.cores, 1)} core-seconds, ` +
        `${fixed(cpu.machine.others, 1)} s of it other processes; peak RSS: ` +
        EMBEDDED_COMPONENTS.filter((c) => cpu.peakRss[c] !== undefined)
          .map((c) => `${EMBEDDED_LABELS[c]} ${fixed(cpu.peakRss[c]!, 0)} MiB`)
          .join(', ') +
        '.',
    );
    notes.push(
      `N=${r.n}: rows read back through ${r.listing.requests} list requests (one owner's token each) in ${seconds(r.listing.ms)} s; ` +
        `other notification frames: ${r.otherFrames}; sockets closed by the server: ${r.socketCloses.length}` +
        (r.socketCloses.length ? ` (codes ${[...new Set(r.socketCloses)].join(', ')})` : '') +
        '.',
    );
    for (const summary of r.logs.filter((s) => s.warnings + s.errors > 0))
      notes.push(
        `N=${r.n}: ${summary.name ?? 'dev server'} log: ${summary.errors} errors, ${summary.warnings} warnings` +
          (summary.top.length ? ` (${summary.top.map((t) => `${t.count}× ${t.message}`).join(' | ')})` : '') +
          '.',
      );
  }

  const report: BenchReport = {
    failures,
    name: 'herd-embedded',
    title: 'Thundering herd on the embedded default (`npm start`): N reminders due at one instant',
    method: [
      "Each size runs on a fresh `npm start` process: `node --import tsx scripts/start.ts` (npm start's last step, without its setup and web build),",
      'with no DATABASE_URL and no TEMPORAL_ADDRESS, so it runs PGlite (PostgreSQL in WebAssembly, one session, a pool of one, served on loopback),',
      'the worker and the delivery server in one Node process, and its child the Temporal CLI dev server (SQLite file, Web UI), as a developer gets it;',
      'its own temp dir for PGlite and the SQLite file, free ports, LOG_LEVEL=warn, a JWT secret the bench signs its tokens with (so no demo dossiers).',
      'The bench drives it from outside only, as an integrating backend and its users would, and opens no connection to PGlite:',
      'one tab per owner first (`ws`, token in Sec-WebSocket-Protocol; the per-address upgrade limit off, as in bench:herd), then a pilot of dossiers due in 60 days',
      "created in one bulk call (`POST /api/v1/dossiers/bulk`, service token) times the create-and-store rate (until every `created` notice's frame arrived),",
      `then T = now + N / rate × ${safety} + 10 s, and the N dossiers over N/10 owners are created with \`dueAt = T\` in bulk calls of ${bulkSize}, ${bulkConcurrency} at a time;`,
      "every `created` notice must be on its socket before T, else the run is marked invalid. On socket: each `overdue` frame's arrival in the bench process minus T.",
      "Stored: after the run, each owner's list (`GET /api/v1/users/me/notifications`, the owner's token, paged) gives each alert's row and its `createdAt`",
      '(PGlite `now()`, the start of the storing transaction, millisecond precision) minus T. After the timeout (or once all arrived) the bench keeps watching the frames until none has come',
      `for ${seconds(drainQuietMs)} s (at most max(60 s, half the timeout)), then reads the rows. Late: a first row or frame after the timeout; lost: a dossier with no row or no frame`,
      'when the drain ended; twice: a second row or frame for the same dossier, drain included (a second row is barred by the unique key `notifications_idempotency_key_unique`: its count checks that key).',
      'CPU: utime + stime from /proc over the window from T − 1 s until every frame arrived (or the timeout): the start.ts process (also by thread),',
      'the dev server (its children included) and the bench itself, divided by the reminders stored. DEFAULT_TIMEZONE is a fixed-offset zone where it is about 13:00,',
      "so no 08:00 reminder falls inside the run (as in bench:herd). Compare with bench:herd (docs/bench/herd.md): the same herd on the machine's PostgreSQL, worker and server as separate processes.",
    ].join(' '),
    parameters: {
      sizes: sizes.join(', '),
      owners: process.env.BENCH_HERD_OWNERS ? String(ownersFor(0)) : 'N / 10',
      'bulk calls': `${bulkSize} dossiers each, ${bulkConcurrency} at a time`,
      'T safety factor': safety,
      timeout: process.env.BENCH_HERD_TIMEOUT_S
        ? `${process.env.BENCH_HERD_TIMEOUT_S} s`
        : 'max(180 s, 0.1 s × N)',
      "owners' zone (DEFAULT_TIMEZONE)": zone,
      'SQLite pragmas (TEMPORAL_DEV_SQLITE_PRAGMAS)': sqlitePragmas ?? "npm start's default",
      'dev server command': results[0] ? `\`${results[0].devServerCommandLine}\`` : 'not started',
      commit,
    },
    table: { headers, rows },
    targets,
    chart: {
      title: 'Overdue alerts on their sockets after T (cumulative), npm start',
      xLabel: 'seconds after T',
      yLabel: 'alerts on sockets',
      kind: 'line',
      series: results.map((r) => ({ name: `N = ${r.n}`, points: cumulativePoints(r.frameMs, 100) })),
    },
    notes: notes.map((note) => `- ${note}`).join('\n'),
  };
  // The machine's PostgreSQL is not what ran: start.ts's PGlite is.
  const machine = await machineFacts();
  machine.PostgreSQL = `PGlite ${packageVersion('@electric-sql/pglite')} in start.ts (the machine's PostgreSQL, not used: ${machine.PostgreSQL})`;
  const path = await writeBenchReport(report, { machine });
  process.stdout.write(`\n${renderText(report)}\n\n${report.notes}\n\nWritten: ${path}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
