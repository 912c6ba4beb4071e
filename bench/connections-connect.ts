import { TimeoutError } from './child.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import type { PushReport } from './connections-protocol.js';
import {
  commitConcurrency,
  connections,
  connectTimeoutSeconds,
  fmt,
  log,
  steps,
  users,
} from './connections-params.js';
import {
  addRefusals,
  concat,
  ownPids,
  processCpuSeconds,
  profiled,
  refusalText,
  sample,
  serverMetrics,
  tcpCounters,
  tcpCountersSince,
  type Sample,
} from './connections-probes.js';
import { commit, run, type ServerStarted } from './connections-server.js';
import { waitFor } from '../support/wait.js';
import { machineBusySeconds } from './proc.js';
import { percentile } from './report.js';

/** The connections bench's first phases: the connections step by step (memory after each), then one push to every tab. */

export type ConnectResult = Awaited<ReturnType<typeof connectAll>>;
export type PushResult = Awaited<ReturnType<typeof pushToAll>>;

/** Opens every connection, `steps` at a time, sampling the server's memory after each step into `samples`. */
export async function connectAll(server: ServerStarted, samples: Sample[]) {
  let connectSeconds = 0;
  const connectRefusals: Record<string, number> = {};
  const tcpBeforeConnect = tcpCounters();
  const connectLoadStart = {
    pids: await ownPids(server.pid),
    busy: machineBusySeconds(),
    at: performance.now(),
  };
  const connectOwnBefore = connectLoadStart.pids.map(processCpuSeconds);
  const allConnectMs: number[] = [];
  let clientRss = 0;
  for (const upTo of steps) {
    const started = performance.now();
    const results = await profiled(upTo === connections ? 'connect' : 'none', () => {
      for (const client of run.clients)
        client.send({ cmd: 'connect', upTo, timeoutMs: connectTimeoutSeconds * 1000 });
      return Promise.race([
        Promise.all(run.clients.map((client) => client.next('connected', 300_000))),
        server.serverExit,
      ]);
    });
    const seconds = (performance.now() - started) / 1000;
    connectSeconds += seconds;
    const open = results.reduce((sum, r) => sum + r.open, 0);
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    const retried = results.reduce((sum, r) => sum + r.retried, 0);
    for (const r of results) addRefusals(connectRefusals, r.refusals);
    const stepMs = concat(results.map((r) => r.connectMs));
    allConnectMs.push(...stepMs);
    clientRss = Math.max(clientRss, ...results.map((r) => r.rssBytes));
    log(
      `${open} open (${failed} failed, ${retried} retried; refused so far: ${refusalText(connectRefusals)}` +
        `${results.find((r) => r.firstError) ? `; first error: ${results.find((r) => r.firstError)?.firstError}` : ''}) in ${seconds.toFixed(1)} s`,
    );
    if (failed > 0)
      throw new Error(`${failed} connections failed: ${results.find((r) => r.firstError)?.firstError}`);
    await waitFor(
      `the server counting ${upTo} connections`,
      async () => (await serverMetrics(server.internalPort)).normx_notify_ws_connections === upTo,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    samples.push(
      await sample(`${upTo} connected`, server.pid, server.internalPort, {
        stepSeconds: seconds,
        connectP50: percentile(stepMs, 50),
        connectP99: percentile(stepMs, 99),
      }),
    );
  }
  const connectTcp = tcpCountersSince(tcpBeforeConnect);
  const connectOtherCores = Math.max(
    0,
    (machineBusySeconds() -
      connectLoadStart.busy -
      connectLoadStart.pids.reduce(
        (sum, p, index) => sum + Math.max(0, processCpuSeconds(p) - connectOwnBefore[index]!),
        0,
      )) /
      ((performance.now() - connectLoadStart.at) / 1000),
  );
  log(`TCP while connecting: ${connectTcp}; other processes kept ${connectOtherCores.toFixed(2)} cores busy`);

  const connected = samples[samples.length - 1]!;
  const allAuthenticated = connected.connections === connections && connected.usersOnline === users;
  return {
    connectSeconds,
    connectRefusals,
    allConnectMs,
    clientRss,
    connectTcp,
    connectOtherCores,
    connected,
    allAuthenticated,
  };
}

/** One notification per user, committed as the activities do; every tab must get it exactly once. */
export async function pushToAll(server: ServerStarted, samples: Sample[]) {
  for (const client of run.clients) client.send({ cmd: 'arm' });
  await Promise.all(run.clients.map((client) => client.next('armed', 10_000)));
  const pushStarted = performance.now();
  await mapBounded(
    Array.from({ length: users }, (_, user) => user),
    commitConcurrency,
    (user) => commit(user, `bench:push:${user}`),
  );
  const commitSeconds = (performance.now() - pushStarted) / 1000;
  const pushReports: PushReport[] = await Promise.all(
    run.clients.map(async (client) => {
      try {
        return await client.next('pushed', 60_000);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        client.send({ cmd: 'report' });
        return client.next('push-report', 10_000);
      }
    }),
  );
  const pushSeconds =
    (Math.max(...pushReports.map((r) => r.lastAt)) - (performance.timeOrigin + pushStarted)) / 1000;
  const push = {
    tabs: pushReports.reduce((sum, r) => sum + r.tabs, 0),
    exactlyOne: pushReports.reduce((sum, r) => sum + r.exactlyOne, 0),
    missing: pushReports.reduce((sum, r) => sum + r.missing, 0),
    extra: pushReports.reduce((sum, r) => sum + r.extra, 0),
    closed: pushReports.reduce((sum, r) => sum + r.closed, 0),
    latencies: concat(pushReports.map((r) => r.latencies)),
  };
  log(
    `push: ${users} committed in ${commitSeconds.toFixed(1)} s; ${push.exactlyOne} of ${push.tabs} tabs got exactly one ` +
      `(${push.missing} none, ${push.extra} more), latency p50 ${fmt(percentile(push.latencies, 50))} ms, ` +
      `p99 ${fmt(percentile(push.latencies, 99))} ms; all in ${pushSeconds.toFixed(1)} s`,
  );
  samples.push(await sample('after the push', server.pid, server.internalPort));
  return { commitSeconds, push, pushSeconds };
}
