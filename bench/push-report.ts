import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labelOf, params } from './push-params.js';
import { MB, reruns, type ServerResult } from './push-rounds.js';
import { percentile } from '../support/percentile.js';
import { fmt, fmtRate, median } from './push-stats.js';

/**
 * docs/bench/push.md of `npm run bench`: the tables per scenario, the verdict against the 3× target
 * and what the run depended on. The method and the settings are in bench/README.md.
 */

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Summary {
  result: ServerResult;
  rounds: number;
  framesPerSecond: number;
  p50: number;
  p99: number;
  cpuMicrosPerFrame: number;
  systemShare: number;
  clientCpuShare: number;
  otherLoad: number;
  delivered: string;
}

export function summarize(result: ServerResult, batch: number): Summary {
  const rounds = result.scenarios.get(batch) ?? [];
  const all = new Float64Array(rounds.reduce((sum, round) => sum + round.latencies.length, 0));
  let offset = 0;
  for (const round of rounds) {
    all.set(round.latencies, offset);
    offset += round.latencies.length;
  }
  const frames = rounds.reduce((sum, round) => sum + round.frames, 0);
  const expected = rounds.reduce((sum, round) => sum + round.expected, 0);
  return {
    result,
    rounds: rounds.length,
    framesPerSecond: median(rounds.map((round) => round.framesPerSecond)),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    cpuMicrosPerFrame: median(rounds.map((round) => round.serverCpuMicros / round.frames)),
    systemShare: median(rounds.map((round) => round.serverSystemCpuMicros / round.serverCpuMicros)),
    clientCpuShare: median(rounds.map((round) => round.clientCpuMicros / 1e6 / round.seconds)),
    otherLoad: median(rounds.map((round) => round.otherLoad)),
    delivered: rounds.length ? `${frames.toLocaleString('en-US')}/${expected.toLocaleString('en-US')}` : '–',
  };
}

const markdownTable = (header: string[], rows: string[][]): string =>
  [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');

const nameOf = (result: ServerResult): string => labelOf(result.kind) + (result.error ? ' (failed)' : '');

export function connectionTable(results: ServerResult[]): string {
  return markdownTable(
    [
      'server',
      `connect ${params.connections.toLocaleString('en-US')}`,
      'attempts retried',
      'users online',
      'RSS MB idle / connected / peak',
      'KB per connection',
    ],
    results.map((result) => [
      nameOf(result),
      `${fmt(result.connectSeconds, 2)} s`,
      result.retried.toLocaleString('en-US'),
      result.usersOnline.toLocaleString('en-US'),
      `${fmt(result.rssIdle / MB)} / ${fmt(result.rssConnected / MB)} / ${fmt(result.rssPeak / MB)}`,
      fmt((result.rssConnected - result.rssIdle) / Math.max(1, result.open) / 1024, 1),
    ]),
  );
}

export function pushTable(summaries: Summary[]): string {
  const ws = summaries.find((summary) => summary.result.kind === 'ws');
  return markdownTable(
    [
      'server',
      'frames/s (median)',
      'vs ws',
      'p50 ms',
      'p99 ms',
      'server CPU µs/frame',
      'of which kernel',
      'CPU efficiency vs ws',
      'client cores busy',
      'other load (cores)',
      'frames delivered',
    ],
    summaries.map((summary) => {
      const ratio = ws ? summary.framesPerSecond / ws.framesPerSecond : NaN;
      const cpuRatio = ws ? ws.cpuMicrosPerFrame / summary.cpuMicrosPerFrame : NaN;
      return [
        nameOf(summary.result),
        fmtRate(summary.framesPerSecond),
        Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–',
        fmt(summary.p50, 1),
        fmt(summary.p99, 1),
        fmt(summary.cpuMicrosPerFrame, 2),
        Number.isFinite(summary.systemShare) ? `${(summary.systemShare * 100).toFixed(0)}%` : '–',
        Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}×` : '–',
        fmt(summary.clientCpuShare, 2),
        fmt(summary.otherLoad, 2),
        summary.delivered,
      ];
    }),
  );
}

export function verdictOf(summaries: Summary[]): string {
  const ours = summaries.find((summary) => summary.result.kind === 'ours');
  const ws = summaries.find((summary) => summary.result.kind === 'ws');
  if (!ours?.rounds || !ws?.rounds) return 'No verdict: ours and ws did not both complete.';
  const ratio = ours.framesPerSecond / ws.framesPerSecond;
  const cpuRatio = ws.cpuMicrosPerFrame / ours.cpuMicrosPerFrame;
  return ratio >= 3
    ? `**3× target met**: ours delivers ${ratio.toFixed(2)}× the \`ws\` throughput (${cpuRatio.toFixed(2)}× its CPU efficiency).`
    : `**3× target NOT met**: ours delivers ${ratio.toFixed(2)}× the \`ws\` throughput (${cpuRatio.toFixed(2)}× its CPU efficiency); the target is 3×.`;
}

export function versionOf(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(`${root}/node_modules/${name}/package.json`, 'utf8')) as {
      name: string;
      version: string;
    };
    return manifest.name === name ? manifest.version : `${manifest.name}@${manifest.version}`;
  } catch {
    return '?';
  }
}

/** The commit measured, and whether `server/` differed from it (files and a hash of the diff). */
export function gitDescription(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: root }).toString().trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const changed = git('diff', 'HEAD', '--name-only', '--', 'server');
    if (!changed) return commit;
    const hash = createHash('sha1')
      .update(git('diff', 'HEAD', '--', 'server'))
      .digest('hex')
      .slice(0, 10);
    return `${commit} plus uncommitted changes to ${changed.split('\n').join(', ')} (diff sha1 ${hash})`;
  } catch {
    return 'unknown';
  }
}

export function report(parts: {
  machine: string;
  code: string;
  summary: string;
  results: string;
  failures: string;
  durationSeconds: number;
  /** The chart's file name, beside the report. */
  chart: string;
}): string {
  const frames = (params.notifications * params.connections) / params.users;
  const warmups = `${params.warmupRounds} warm-up round${params.warmupRounds === 1 ? '' : 's'}`;
  return `# Push-path benchmark

Generated by \`npm run bench\` (\`bench/run.ts\`) on ${new Date().toISOString()}; the run took
${parts.durationSeconds.toFixed(0)} s. Where the time goes, and what would change it:
[bench/profiling.md](../../bench/profiling.md).

${parts.summary}

## Machine and versions

${parts.machine}

- uWebSockets.js ${versionOf('uWebSockets.js')}, ws ${versionOf('ws')},
  socket.io ${versionOf('socket.io')}, jose ${versionOf('jose')}, rxjs ${versionOf('rxjs')}
- Code: ${parts.code}
- Parameters: ${params.connections.toLocaleString('en-US')} connections of ${params.users.toLocaleString('en-US')} users
  (${params.connections / params.users} sockets per user), ${params.notifications.toLocaleString('en-US')} notifications per
  round → ${frames.toLocaleString('en-US')} frames per round; per scenario ${warmups} then
  ${params.rounds} measured rounds; ${params.clientProcesses} load-generator processes (${params.clientMode} client),
  ${params.connectConcurrency} connects in flight each.
- Other processes on the machine: ${
    reruns.count === 0
      ? 'no measured round was disturbed by them.'
      : `${reruns.count} measured round${reruns.count === 1 ? ' was' : 's were'} run again because other processes took more than ${params.maxOtherLoad} cores meanwhile; the least disturbed attempt is kept (see **other load**).`
  }

## Results
${parts.failures ? `\n**Failures:**\n\n${parts.failures}\n` : ''}
${parts.results}

![frames per second](${parts.chart})

- **frames/s**: notification frames received by all clients ÷ wall time from the first publish
  to the last frame received; median of the measured rounds. **vs ws**: ratio to the \`ws\` row.
  Expect ±20 % between runs on this machine: servers and clients share 2 cores.
- **p50 / p99 ms**: delivery latency (arrival − \`sentAt\` stamped in the notification at
  publish, wall clocks of two processes: ±0.05 ms), over every frame of the measured rounds, the
  feed running flat out: it is mostly queueing.
- **server CPU µs/frame**: the server process's CPU time (user + system) during a round ÷ frames
  delivered: unlike frames/s, it does not depend on how the cores are shared with the clients.
  **of which kernel**: the system-time share, mostly the sockets' \`send\` syscalls (on
  loopback they also carry part of the receiving side's TCP work; softirq time, charged to no
  process, is not counted). **CPU efficiency vs ws**: ws's µs/frame ÷ this row's.
- **client cores busy**: the load generators' CPU time ÷ round wall time. With 2 cores for the
  server and the clients, no row can go much beyond what 2 cores minus the server leave the
  clients (about 7 µs of client CPU per frame).
- **other load**: cores kept busy during a round by processes outside the benchmark (from
  \`/proc/stat\`, approximate); above 0.1 or so, that row's frames/s is understated.
- **RSS**: the server process before any connection, after all connections (1 s after the last
  opened), and its peak (VmHWM, at the end). **KB per connection** = (connected − idle) ÷
  connections. Ours also holds its PostgreSQL pool, MikroORM, the Temporal client and the REST
  routes in the idle figure.
- **connect**: wall time for all connections to be open (a connection refused or dropped while
  opening is tried again, twice at most: **attempts retried**): the upgrade with JWT verification
  for all; for ours also until the session's first frame (\`unread_count\`, one PostgreSQL read per
  socket); for Socket.IO until the namespace connect is acknowledged (the JWT is checked there).

## Method

How each server is set up and fed, and how to run the bench with other settings:
[bench/README.md](../../bench/README.md#push-path-npm-run-bench).
`;
}
