import { TimeoutError } from './child.js';
import { waitFor } from '../support/wait.js';
import { sleep, wallClock } from './common.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import type { SamplingHeapProfile } from './connections-inspector.js';
import { summarizeHeapProfile } from './connections-inspector.js';
import type { StormReport } from './connections-protocol.js';
import {
  commitConcurrency,
  connections,
  fmt,
  log,
  mib,
  profilePhase,
  stormNotifications,
  stormTimeoutSeconds,
  stormUsers,
} from './connections-params.js';
import {
  addRefusals,
  concat,
  otherLoadDuring,
  profiled,
  profiles,
  refusalText,
  sample,
  serverMetrics,
  tcpCounters,
  tcpCountersSince,
  type Sample,
} from './connections-probes.js';
import { commit, run, type ServerStarted } from './connections-server.js';
import { procStatus } from './proc.js';
import { percentile } from './report.js';

/**
 * The reconnect storm: every tab of the first users dropped, notifications committed meanwhile,
 * then every one of those tabs back at once with `?lastId=`; each must get exactly what it missed.
 */

export type StormResult = Awaited<ReturnType<typeof reconnectStorm>>;

export async function reconnectStorm(server: ServerStarted, samples: Sample[]) {
  for (const client of run.clients) client.send({ cmd: 'disconnect', stormUsers });
  const gone = (await Promise.all(run.clients.map((client) => client.next('disconnected', 30_000)))).reduce(
    (sum, r) => sum + r.tabs,
    0,
  );
  await waitFor(
    'the server seeing the storm tabs leave',
    async () => (await serverMetrics(server.internalPort)).normx_notify_ws_connections === connections - gone,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  log(
    `storm: ${gone} tabs of ${stormUsers} users gone; committing ${stormNotifications} notifications per user`,
  );
  const missedStarted = performance.now();
  const expectedLists = await mapBounded(
    Array.from({ length: stormUsers }, (_, user) => user),
    commitConcurrency,
    async (user) => {
      const ids: string[] = [];
      for (let k = 0; k < stormNotifications; k++) ids.push(await commit(user, `bench:storm:${user}:${k}`));
      return ids;
    },
  );
  const missedCommitSeconds = (performance.now() - missedStarted) / 1000;
  const expected = new Map(expectedLists.map((ids, user) => [user, ids]));
  let stormStart = 0;
  const tcpBeforeStorm = tcpCounters();
  let stormTimedOut = false;
  const hwmBeforeStorm = procStatus(server.pid).VmHWM ?? NaN;
  // While the storm runs: the server's memory as it is (no GC), every 250 ms, to see what the burst costs.
  const stormPeak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, rssOutsideHeap: 0 };
  let stormRunning = true;
  const stormSampler = (async () => {
    while (stormRunning) {
      const memory = await run.inspector!.memory().catch(() => undefined);
      const rss = procStatus(server.pid).VmRSS ?? 0;
      if (memory) {
        stormPeak.heapUsed = Math.max(stormPeak.heapUsed, memory.heapUsed);
        stormPeak.heapTotal = Math.max(stormPeak.heapTotal, memory.heapTotal);
        stormPeak.external = Math.max(stormPeak.external, memory.external);
        stormPeak.rssOutsideHeap = Math.max(stormPeak.rssOutsideHeap, memory.rss - memory.heapTotal);
      }
      stormPeak.rss = Math.max(stormPeak.rss, rss);
      await sleep(250);
    }
  })();
  const stormLoad = await otherLoadDuring(server.pid, () =>
    profiled('storm', async () => {
      stormStart = wallClock();
      if (profilePhase === 'storm-heap')
        await run.inspector!.call('HeapProfiler.startSampling', { samplingInterval: 4096 });
      for (const client of run.clients)
        client.send({ cmd: 'reconnect', expected, timeoutMs: stormTimeoutSeconds * 1000 });
      if (profilePhase === 'storm-heap')
        void sleep(Number(process.env.BENCH_HEAP_SAMPLE_AFTER_MS ?? 3000)).then(async () => {
          const { profile } = (await run.inspector!.call('HeapProfiler.stopSampling')) as {
            profile: SamplingHeapProfile;
          };
          const lines = summarizeHeapProfile(profile);
          profiles.push(lines.join('\n'));
          log(lines.join('\n'));
        });
      await Promise.all(
        run.clients.map((client) =>
          client.next('reconnected', stormTimeoutSeconds * 1000).catch((error: Error) => {
            if (!(error instanceof TimeoutError)) throw error;
            stormTimedOut = true;
          }),
        ),
      );
    }),
  );
  stormRunning = false;
  await stormSampler;
  const hwmAfterStorm = procStatus(server.pid).VmHWM ?? NaN;
  log(
    `storm memory (sampled every 250 ms, no GC): RSS up to ${mib(stormPeak.rss)} MiB, heap used up to ${mib(stormPeak.heapUsed)} MiB ` +
      `(heap total ${mib(stormPeak.heapTotal)}), outside the heap up to ${mib(stormPeak.rssOutsideHeap)} MiB; VmHWM ${mib(hwmBeforeStorm)} → ${mib(hwmAfterStorm)} MiB`,
  );
  // A last look a second later: any frame after `resumed` would be a duplicate.
  await sleep(1_000);
  for (const client of run.clients) client.send({ cmd: 'report' });
  const stormReports: StormReport[] = await Promise.all(
    run.clients.map((client) => client.next('storm-report', 10_000)),
  );
  const storm = {
    tabs: stormReports.reduce((sum, r) => sum + r.tabs, 0),
    complete: stormReports.reduce((sum, r) => sum + r.complete, 0),
    wrong: stormReports.reduce((sum, r) => sum + r.wrong, 0),
    failed: stormReports.reduce((sum, r) => sum + r.failed, 0),
    retried: stormReports.reduce((sum, r) => sum + r.retried, 0),
    refusals: stormReports.reduce((all, r) => addRefusals(all, r.refusals), {} as Record<string, number>),
    lateFrames: stormReports.reduce((sum, r) => sum + r.lateFrames, 0),
    firstWrong: stormReports.find((r) => r.firstWrong)?.firstWrong,
    firstError: stormReports.find((r) => r.firstError)?.firstError,
    catchUpMs: concat(stormReports.map((r) => r.catchUpMs)),
    openMs: concat(stormReports.map((r) => r.openMs)),
    seconds: (Math.max(...stormReports.map((r) => r.lastDoneAt)) - stormStart) / 1000,
    tcp: tcpCountersSince(tcpBeforeStorm),
  };
  log(`TCP during the storm: ${storm.tcp}`);
  log(`other processes kept ${stormLoad.otherCores.toFixed(2)} cores busy during the storm`);
  const stormOk =
    !stormTimedOut &&
    storm.complete === storm.tabs &&
    storm.wrong === 0 &&
    storm.failed === 0 &&
    storm.lateFrames === 0;
  log(
    `storm: ${storm.complete} of ${storm.tabs} tabs caught up (${storm.wrong} wrong, ${storm.failed} failed, ` +
      `${storm.retried} retried, refused: ${refusalText(storm.refusals)}, ${storm.lateFrames} late frames) in ${storm.seconds.toFixed(2)} s; per tab p50 ` +
      `${fmt(percentile(storm.catchUpMs, 50))} ms, p99 ${fmt(percentile(storm.catchUpMs, 99))} ms` +
      `${storm.firstWrong ? `; first wrong: ${storm.firstWrong}` : ''}${storm.firstError ? `; first error: ${storm.firstError}` : ''}`,
  );
  await waitFor(
    'the server counting every tab back',
    async () => (await serverMetrics(server.internalPort)).normx_notify_ws_connections === connections,
    { timeoutMs: 30_000, intervalMs: 100 },
  ).catch((error: Error) => log(error.stack ?? error.message));
  samples.push(await sample('after the storm', server.pid, server.internalPort));
  return {
    missedCommitSeconds,
    storm,
    stormLoad,
    stormOk,
    stormTimedOut,
    stormPeak,
    hwmBeforeStorm,
    hwmAfterStorm,
  };
}
