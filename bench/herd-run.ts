import { dateInDays, stopOnSignal, waitForQuietMachine } from './bench-util.js';
import { sleep, waitForCount, wallClock } from './common.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import { poll } from '../support/wait.js';
import { connectOwners } from './owners.js';
import { scrapeWorkerMetrics, startCpuMeter, startStack, workerSdkFacts } from './stack.js';
import { seconds } from './bench-util.js';
import {
  concurrency,
  devServer,
  extraWorkerEnv,
  log,
  ownersFor,
  safety,
  timeoutMsFor,
  zone,
  type SizeResult,
} from './herd-params.js';
import { drainMaxMs, drainQuietMs, drainUntilQuiet, tallyHerd } from './herd-tally.js';

/**
 * One size of the herd on a fresh stack: the pilot that times T, the N dossiers due at T, one tab
 * per owner, then from T every alert's row and frame, the CPU and the SDK's latencies.
 */
export async function runSize(n: number): Promise<SizeResult> {
  const ownerCount = ownersFor(n);
  const timeoutMs = timeoutMsFor(n);
  const quiet = await waitForQuietMachine(log);
  log(
    `N=${n}: starting a fresh stack (dev server ${devServer.storage}${devServer.extraArgs.length ? ` ${devServer.extraArgs.join(' ')}` : ''})`,
  );
  const stack = await startStack({
    label: `herd${n}`,
    devServer,
    workerEnv: { DEFAULT_TIMEZONE: zone, ...extraWorkerEnv },
  });
  const unhook = stopOnSignal(stack.stop);
  try {
    const client = await stack.dossierClient();
    const owners = Array.from({ length: ownerCount }, (_, i) => `herd-u${i}`);
    const countKind = async (kind: string, prefix: string) =>
      Number(
        (
          await stack.query<{ count: string }>(
            'select count(*) as count from notifications where kind = $1 and dossier_id like $2',
            [kind, `${prefix}%`],
          )
        )[0]!.count,
      );

    // 1. Pilot: the create-and-store rate of this machine, on dossiers due in 60 days.
    const pilotCount = Math.min(300, Math.max(50, Math.round(n / 20)));
    const pilotIds = Array.from({ length: pilotCount }, (_, i) => `P-${String(i).padStart(6, '0')}`);
    const pilotStart = wallClock();
    await mapBounded(pilotIds, concurrency, async (id, i) => {
      await client.create({
        id,
        title: `Pilot ${i}`,
        ownerId: owners[i % ownerCount]!,
        dueDate: dateInDays(60),
      });
    });
    const pilotStored = await waitForCount(
      () => countKind('created', 'P-'),
      pilotCount,
      Date.now() + 300_000,
    );
    if (pilotStored < pilotCount)
      throw new Error(`pilot: only ${pilotStored}/${pilotCount} created notices stored in 300 s`);
    const pilotRate = (pilotCount / (wallClock() - pilotStart)) * 1000;
    const socketAllowanceMs = 5000 + ownerCount * 10;
    const T =
      Math.ceil((wallClock() + (n / pilotRate) * 1000 * safety + socketAllowanceMs + 10_000) / 1000) * 1000;
    const dueAt = new Date(T).toISOString();
    log(
      `N=${n}: pilot ${pilotRate.toFixed(0)} dossiers/s created and stored; T = ${dueAt} (in ${seconds(T - wallClock())} s)`,
    );

    // 2. The herd: N dossiers due at T, created through the client API.
    const ids = Array.from({ length: n }, (_, i) => `H-${String(i).padStart(6, '0')}`);
    const callMs: number[] = [];
    const createStart = wallClock();
    let done = 0;
    await mapBounded(ids, concurrency, async (id, i) => {
      const started = performance.now();
      await client.create({ id, title: `Herd ${i}`, ownerId: owners[i % ownerCount]!, dueAt });
      callMs.push(performance.now() - started);
      done += 1;
      if (done % 2000 === 0) log(`N=${n}: ${done} created`);
    });
    const acceptedAt = wallClock();
    const createdStored = await waitForCount(() => countKind('created', 'H-'), n, T - 2000, {
      onProgress: (value) => log(`N=${n}: ${value} created notices stored`),
    });
    const createdStoredAt = wallClock();
    log(
      `N=${n}: created in ${seconds(acceptedAt - createStart)} s, notices stored after ${seconds(createdStoredAt - createStart)} s`,
    );

    // 3. One tab per owner.
    const frames = new Map<string, number[]>();
    let otherFrames = 0;
    const sockets = await connectOwners(stack, owners, (notification, receivedAt) => {
      if (notification.kind === 'overdue' && notification.dossierId?.startsWith('H-')) {
        const list = frames.get(notification.dossierId);
        if (list) list.push(receivedAt);
        else frames.set(notification.dossierId, [receivedAt]);
      } else otherFrames += 1;
    });
    const readyAt = wallClock();
    const overdueBefore = await countKind('overdue', 'H-');
    const invalid: string[] = [];
    if (createdStored < n) invalid.push(`only ${createdStored}/${n} created notices stored before T`);
    if (readyAt > T - 500) invalid.push(`setup overran T by ${seconds(readyAt - T)} s`);
    if (overdueBefore > 0) invalid.push(`${overdueBefore} overdue alerts stored before T`);
    log(
      `N=${n}: ${ownerCount} sockets open; T in ${seconds(T - readyAt)} s${invalid.length ? ` (INVALID: ${invalid.join('; ')})` : ''}`,
    );

    // 4. From T: all N alerts fall due.
    await sleep(T - 1000 - wallClock());
    const metricsBefore = await scrapeWorkerMetrics(stack);
    const meter = await startCpuMeter(stack);
    const deadline = T + timeoutMs;
    let rows = 0;
    let lastLog = 0;
    await poll(
      async () => {
        stack.assertAlive();
        rows = await countKind('overdue', 'H-');
        const now = wallClock();
        if (now - lastLog > 5000 && now > T) {
          lastLog = now;
          log(`N=${n}: T+${seconds(now - T)} s: ${rows} stored, ${frames.size} on sockets`);
        }
        return rows >= n && frames.size >= n;
      },
      { deadline, intervalMs: 250, probeErrors: 'throw', onTimeout: () => false },
    );
    const timedOut = rows < n || frames.size < n;
    const cpu = await meter.stop();
    const metricsAfter = await scrapeWorkerMetrics(stack);
    log(
      `N=${n}: ${timedOut ? `timed out at T+${seconds(timeoutMs)} s` : 'all stored and delivered'}; draining until quiet`,
    );
    const framesSeen = () => [...frames.values()].reduce((sum, list) => sum + list.length, 0);
    const drain = await drainUntilQuiet({
      count: async () => (await countKind('overdue', 'H-')) + framesSeen(),
      quietMs: drainQuietMs,
      deadline: Date.now() + drainMaxMs(timeoutMs),
    });
    log(
      `N=${n}: drained in ${seconds(drain.drainedMs)} s${drain.quiet ? '' : ' (still changing)'}; reading rows`,
    );

    const stored = await stack.query<{ dossier_id: string; at: number }>(
      `select dossier_id, extract(epoch from created_at)::float8 * 1000 as at
         from notifications where kind = 'overdue' and dossier_id like 'H-%'`,
    );
    const tally = tallyHerd({
      ids,
      stored: stored.map((row) => ({ dossierId: row.dossier_id, at: row.at })),
      frames,
      T,
      timeoutMs,
    });
    const logs = await stack.logSummary();
    const socketCloses = [...sockets.closes];
    await sockets.close();
    return {
      n,
      quiet,
      owners: ownerCount,
      pilot: { count: pilotCount, ratePerSecond: pilotRate },
      createRate: (n / (acceptedAt - createStart)) * 1000,
      createdStoredRate: (createdStored / (createdStoredAt - createStart)) * 1000,
      callMs,
      leadMs: T - readyAt,
      invalid,
      timedOut,
      ...tally,
      drain,
      otherFrames,
      socketCloses,
      cpu,
      sdk: workerSdkFacts(metricsBefore, metricsAfter),
      logs,
      devServerFacts: stack.devServerFacts,
    };
  } finally {
    unhook();
    await stack.stop();
  }
}
