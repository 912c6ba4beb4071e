import { cpus } from 'node:os';
import type { ConnectResult, PushResult } from './connections-connect.js';
import { connectionsMethod } from './connections-method.js';
import {
  capped,
  clientProcesses,
  commitConcurrency,
  connectConcurrency,
  connections,
  fmt,
  limits,
  log,
  mib,
  outputName,
  profilePhase,
  requestedConnections,
  serverCapacity,
  steps,
  stormNotifications,
  stormTabs,
  stormTimeoutSeconds,
  stormUsers,
  TARGET_CONNECTIONS,
  TARGET_RSS_BYTES,
  TARGET_STORM_SECONDS,
  TARGET_STORM_TABS,
  users,
} from './connections-params.js';
import { profiles, refusalText, type Sample } from './connections-probes.js';
import type { ServerStarted } from './connections-server.js';
import type { StormResult } from './connections-storm.js';
import { fit } from './common.js';
import { percentile, renderText, writeBenchReport, type BenchTarget } from './report.js';

/** docs/bench/connections.md and .svg: targets, memory per step, the push and the storm, and notes on each. */

export async function writeConnectionsReport(run: {
  machine: Record<string, string>;
  loadAtStart: string;
  samples: Sample[];
  server: ServerStarted;
  connect: ConnectResult;
  push: PushResult;
  storm: StormResult;
}): Promise<void> {
  const { machine, loadAtStart, samples } = run;
  const { capsText, inherited } = run.server;
  const { connectSeconds, connectRefusals, allConnectMs, clientRss, connectTcp, connectOtherCores } =
    run.connect;
  const { connected, allAuthenticated } = run.connect;
  const { commitSeconds, push, pushSeconds } = run.push;
  const { missedCommitSeconds, storm, stormLoad, stormOk, stormTimedOut, stormPeak } = run.storm;
  const { hwmBeforeStorm, hwmAfterStorm } = run.storm;
  const steady = samples.filter((s, index) => index > 0 && index <= steps.length);
  const growth = [samples[0]!, ...steady];
  const rssFit = fit(growth.map((s) => [s.connections, s.rss]));
  const heapFit = fit(growth.map((s) => [s.connections, s.heapUsed]));
  const outsideHeapFit = fit(growth.map((s) => [s.connections, s.rss - s.heapTotal]));
  const kernelFit = fit(growth.map((s) => [s.connections, s.kernelSlab]));
  const peak = Math.max(...samples.map((s) => s.hwm));
  const projected = rssFit.intercept + rssFit.slope * TARGET_CONNECTIONS;
  // The storm's burst comes on top of the steady state; it grows with the storm, not with the connections.
  const beforeStorm = samples.find((s) => s.label === 'after the push')!;
  const stormBurst = Math.max(0, stormPeak.rss - beforeStorm.rss, hwmAfterStorm - beforeStorm.rss);
  const projectedPeak = projected + stormBurst;
  const memoryMet =
    !capped && connections >= TARGET_CONNECTIONS && allAuthenticated && peak <= TARGET_RSS_BYTES;
  const perSocket = `${fmt(rssFit.slope)} B of RSS per connection (${fmt(heapFit.slope)} B of V8 heap, ${fmt(outsideHeapFit.slope)} B outside it)`;
  const targets: BenchTarget[] = [
    {
      target: `${TARGET_CONNECTIONS.toLocaleString('en-US')} concurrent authenticated connections on one server process in ≤ 1 GiB RSS`,
      measured:
        `${connected.connections.toLocaleString('en-US')} connections, ${connected.usersOnline.toLocaleString('en-US')} users online: VmRSS ${fmt(mib(connected.rss))} MiB; ` +
        `peak (VmHWM) ${fmt(mib(peak))} MiB over the whole run, reached in the storm of ${stormTabs.toLocaleString('en-US')} tabs` +
        (capped
          ? `. Projected at ${TARGET_CONNECTIONS.toLocaleString('en-US')}: ${fmt(mib(projected))} MiB steady, about ${fmt(mib(projectedPeak))} MiB with the same storm`
          : ''),
      met: memoryMet,
      note: capped
        ? `Not run at ${TARGET_CONNECTIONS.toLocaleString('en-US')}: the server's open-file hard limit here is ${limits.hard} (\`ulimit -Hn\`, not raisable without CAP_SYS_RESOURCE). Projection: the linear fit over the steps (${perSocket}) plus the storm's burst measured here (${fmt(mib(stormBurst))} MiB over the steady RSS).`
        : `${perSocket}.`,
    },
    {
      target: `A reconnect storm of ${TARGET_STORM_TABS.toLocaleString('en-US')} tabs fully caught up within ${TARGET_STORM_SECONDS} s`,
      measured: `${storm.complete.toLocaleString('en-US')} of ${storm.tabs.toLocaleString('en-US')} tabs got their ${stormNotifications} missed notifications exactly once, in order, in ${fmt(storm.seconds, 2)} s (per tab p50 ${fmt(percentile(storm.catchUpMs, 50))} ms, p99 ${fmt(percentile(storm.catchUpMs, 99))} ms)`,
      met: stormOk && storm.tabs >= TARGET_STORM_TABS && storm.seconds <= TARGET_STORM_SECONDS,
      note: [
        storm.tabs < TARGET_STORM_TABS ? `only ${storm.tabs} tabs in this run` : '',
        stormTimedOut ? `not all done after ${stormTimeoutSeconds} s` : '',
        storm.wrong > 0 ? `${storm.wrong} tabs wrong, first: ${storm.firstWrong}` : '',
        storm.failed > 0 ? `${storm.failed} tabs could not reconnect: ${storm.firstError}` : '',
        storm.lateFrames > 0 ? `${storm.lateFrames} duplicate frames after resumed` : '',
        storm.retried > 0
          ? `${storm.retried} attempts retried with the client library's backoff; upgrades refused: ${refusalText(storm.refusals)}`
          : '',
        `${connections - storm.tabs} other tabs stayed connected meanwhile`,
      ]
        .filter(Boolean)
        .join('; '),
    },
  ];

  const rows = samples.map((s) => [
    s.label,
    s.connections,
    s.usersOnline,
    mib(s.rss),
    mib(s.hwm),
    mib(s.heapUsed),
    mib(s.heapTotal),
    mib(s.rss - s.heapTotal),
    mib(s.kernelSlab),
    Number.isFinite(s.stepSeconds) ? fmt(s.stepSeconds, 1) : '',
    Number.isFinite(s.connectP50) ? `${fmt(s.connectP50)} / ${fmt(s.connectP99)}` : '',
  ]);
  const table = {
    headers: [
      'When',
      'Connections',
      'Users online',
      'VmRSS (MiB)',
      'VmHWM (MiB)',
      'V8 heap used after GC (MiB)',
      'V8 heap total (MiB)',
      'RSS outside the V8 heap (MiB)',
      'Kernel slab, whole machine (MiB)',
      'Step connect time (s)',
      'Connect p50 / p99 (ms)',
    ],
    rows,
  };
  const parameters: Record<string, string | number> = {
    'Connections (BENCH_CONNECTIONS)': capped
      ? `${connections} (asked ${requestedConnections}; capped by the open-file hard limit ${limits.hard})`
      : connections,
    'Users (BENCH_USERS)': users,
    'Tabs per user': fmt(connections / users, 2),
    'Connection steps (BENCH_STEP)': steps.join(', '),
    'Client processes (BENCH_CLIENT_PROCESSES)': clientProcesses,
    'Connects in flight while filling up, all client processes (BENCH_CONNECT_CONCURRENCY)':
      connectConcurrency,
    'Source addresses': 'one per user (its tabs share it, as one browser), another one for its reconnects',
    'Server connection caps (defaults unless set above)': capsText,
    'Storm tabs (BENCH_STORM_TABS)': `${stormTabs} (every tab of ${stormUsers} users)`,
    'Missed notifications per storm user (BENCH_STORM_NOTIFICATIONS)': stormNotifications,
    'Commit concurrency (BENCH_COMMIT_CONCURRENCY)': commitConcurrency,
    'Open files (soft / hard)': `${limits.soft} / ${limits.hard}`,
    'Load average at start (1 / 5 / 15 min; the machine is shared)': loadAtStart,
    ...(profilePhase && {
      'Server profile (BENCH_PROFILE)':
        profilePhase === 'storm-heap'
          ? 'storm-heap: sampling heap profiler during the storm, 4 KiB interval (output under Notes)'
          : `${profilePhase}: CPU profile (output under Notes)`,
    }),
    'Server environment': `DATABASE_URL (fresh database), TEMPORAL_ADDRESS=127.0.0.1:1, JWT_HS256_SECRET (random), SERVER_HOST=127.0.0.1, SERVER_PORT and SERVER_INTERNAL_PORT (free), LOG_LEVEL=warn; ${
      inherited.length > 0 ? `from the bench's environment: ${inherited.join(', ')}; ` : ''
    }everything else at its default`,
  };
  const method = connectionsMethod(capsText);
  const notes = `
- Connect: ${connections.toLocaleString('en-US')} connections in ${fmt(connectSeconds, 1)} s of connecting (${fmt(connections / connectSeconds)} per second, the
  sampling pauses between steps left out); per connection p50 ${fmt(percentile(allConnectMs, 50))} ms, p99 ${fmt(percentile(allConnectMs, 99))} ms
  (TCP + upgrade + token check + unread-count read; mostly waiting: ${connectConcurrency} connects are kept in flight,
  so each waits about that many divided by the rate). All authenticated and subscribed: ${allAuthenticated ? 'yes' : 'no'}
  (${connected.connections.toLocaleString('en-US')} connections, ${connected.usersOnline.toLocaleString('en-US')} users online).
- Push: ${users.toLocaleString('en-US')} notifications committed in ${fmt(commitSeconds, 1)} s; ${push.exactlyOne.toLocaleString('en-US')} of ${push.tabs.toLocaleString('en-US')} tabs got
  exactly one (${push.missing} none, ${push.extra} more, ${push.closed} closed); latency p50 ${fmt(percentile(push.latencies, 50))} ms,
  p99 ${fmt(percentile(push.latencies, 99))} ms, max ${fmt(Math.max(...push.latencies))} ms; the last tab had it ${fmt(pushSeconds, 1)} s after the first store call.
- Storm: the ${(stormUsers * stormNotifications).toLocaleString('en-US')} missed notifications took ${fmt(missedCommitSeconds, 1)} s to commit. Reconnect (first frame)
  p50 ${fmt(percentile(storm.openMs, 50))} ms, p99 ${fmt(percentile(storm.openMs, 99))} ms from the first attempt; ${storm.retried} attempts retried; upgrades refused by
  the server's caps: ${refusalText(storm.refusals)}${storm.firstError ? `; first other error: ${storm.firstError}` : ''}. While filling up: ${refusalText(connectRefusals)} refused.
- Other processes on the machine (not this run's: not the server, the clients, this process nor the PostgreSQL backends of its
  database) kept ${fmt(connectOtherCores, 2)} of the ${cpus().length} cores busy while connecting and ${fmt(stormLoad.otherCores, 2)} during the storm.
- TCP counters of the machine (\`/proc/net/netstat\`): while connecting ${connectTcp}; during the storm ${storm.tcp}.
- Memory per connection (slopes over the steps): ${fmt(rssFit.slope)} B of RSS, of which ${fmt(heapFit.slope)} B of V8 heap
  (live objects after GC) and ${fmt(outsideHeapFit.slope)} B outside the V8 heap; kernel slab ${fmt(kernelFit.slope)} B per
  connection, both ends, on the whole machine (not in any RSS; other processes move it too). Idle server: ${fmt(mib(samples[0]!.rss))} MiB.
  Projection at ${TARGET_CONNECTIONS.toLocaleString('en-US')} connections: ${fmt(mib(projected))} MiB.
- Storm burst (server memory sampled every 250 ms during the storm, garbage included): RSS up to ${fmt(mib(stormPeak.rss))} MiB
  (VmHWM ${fmt(mib(hwmBeforeStorm))} → ${fmt(mib(hwmAfterStorm))} MiB) from ${fmt(mib(beforeStorm.rss))} MiB before it; V8 heap used up to
  ${fmt(mib(stormPeak.heapUsed))} MiB (heap total ${fmt(mib(stormPeak.heapTotal))} MiB) against ${fmt(mib(beforeStorm.heapUsed))} MiB live before; outside the V8 heap up to
  ${fmt(mib(stormPeak.rssOutsideHeap))} MiB against ${fmt(mib(beforeStorm.rss - beforeStorm.heapTotal))} MiB.
- Load generator: the largest client process RSS was ${fmt(mib(clientRss))} MiB.
${profiles.map((text) => `\n\`\`\`text\n${text}\n\`\`\`\n`).join('')}${capped ? `- **Capped run.** ${requestedConnections.toLocaleString('en-US')} connections were asked for; this machine gives every process at most ${limits.hard} open files (\`ulimit -Hn\`; \`prlimit\` and \`ulimit -n\` above it fail without CAP_SYS_RESOURCE), so one server process cannot hold more than about ${serverCapacity.toLocaleString('en-US')} sockets here. The 1 GiB target is judged on the projection only, hence not marked met.\n` : ''}`;

  const md = await writeBenchReport(
    {
      name: outputName,
      title: `Connections: ${connections.toLocaleString('en-US')} WebSocket connections on one server process, and a reconnect storm of ${stormTabs.toLocaleString('en-US')} tabs${capped ? ' (capped run)' : ''}`,
      method,
      parameters,
      table,
      targets,
      chart: {
        title: 'Delivery server memory vs open connections',
        xLabel: 'open WebSocket connections (authenticated, subscribed)',
        yLabel: 'MiB',
        series: [
          { name: 'VmRSS', points: growth.map((s) => [s.connections, mib(s.rss)]) },
          { name: 'VmHWM (peak)', points: growth.map((s) => [s.connections, mib(s.hwm)]) },
          { name: 'V8 heap used (after GC)', points: growth.map((s) => [s.connections, mib(s.heapUsed)]) },
          {
            name: 'RSS outside V8 heap',
            points: growth.map((s) => [s.connections, mib(s.rss - s.heapTotal)]),
          },
        ],
      },
      notes,
    },
    { machine, dir: process.env.BENCH_OUTPUT_DIR || undefined },
  );
  console.log(`\n${renderText({ table, targets })}\n`);
  log(`wrote ${md}`);
}
