import { mapBounded } from '../domain/bounded-concurrency.js';
import { poll } from '../support/wait.js';
import { dateInDays, seconds, stopOnSignal, waitForQuietMachine } from './bench-util.js';
import { sleep, wallClock } from './common.js';
import { startEmbeddedCpuMeter } from './embedded-meter.js';
import { startEmbedded } from './embedded-process.js';
import { createBulk, listOwnersNotifications, type BulkDossier } from './embedded-rest.js';
import {
  bulkConcurrency,
  bulkSize,
  log,
  ownersFor,
  safety,
  sqlitePragmas,
  timeoutMsFor,
  zone,
  type EmbeddedSizeResult,
} from './herd-embedded-params.js';
import { connectOwners } from './owners.js';
import { summarizeLog } from './stack-logs.js';
import { scrapeWorkerMetrics, workerSdkFacts } from './stack-meter.js';
import { drainMaxMs, drainQuietMs, drainUntilQuiet, tallyHerd } from './herd-tally.js';

/**
 * One size of the herd on `npm start`'s embedded default, driven from outside only: one tab per
 * owner, a pilot that times T, N dossiers due at T in bulk through REST, then from T every alert's
 * frame; the rows read back through each owner's notification list; the CPU of start.ts and of
 * its dev server.
 */

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

export async function runEmbeddedSize(n: number): Promise<EmbeddedSizeResult> {
  const ownerCount = ownersFor(n);
  const timeoutMs = timeoutMsFor(n);
  const quiet = await waitForQuietMachine(log);
  log(`N=${n}: starting scripts/start.ts (PGlite, dev server on its SQLite file, worker and server)`);
  // Hooked before the start: a signal while start.ts starts stops it too.
  let stopService = () => Promise.resolve();
  const unhook = stopOnSignal(() => stopService());
  try {
    const service = await startEmbedded(
      `herd-embedded${n}`,
      {
        DEFAULT_TIMEZONE: zone,
        ...(sqlitePragmas !== undefined && { TEMPORAL_DEV_SQLITE_PRAGMAS: sqlitePragmas }),
      },
      { onStop: (stop) => (stopService = stop) },
    );
    const owners = Array.from({ length: ownerCount }, (_, i) => `herd-u${i}`);

    // 1. One tab per owner, first: the `created` notices' frames tell when they are stored.
    const created = { P: new Set<string>(), H: new Set<string>() };
    const frames = new Map<string, number[]>();
    let otherFrames = 0;
    const sockets = await connectOwners(service, owners, (notification, receivedAt) => {
      const id = notification.dossierId ?? '';
      if (notification.kind === 'created' && /^[PH]-/.test(id)) created[id[0] as 'P' | 'H'].add(id);
      else if (notification.kind === 'overdue' && id.startsWith('H-')) {
        const list = frames.get(id);
        if (list) list.push(receivedAt);
        else frames.set(id, [receivedAt]);
      } else otherFrames += 1;
    });
    log(`N=${n}: ${ownerCount} sockets open`);
    const waitCreated = (prefix: 'P' | 'H', count: number, deadline: number) =>
      poll(
        () => {
          service.assertAlive();
          return created[prefix].size >= count;
        },
        { deadline, intervalMs: 100, probeErrors: 'throw', onTimeout: () => false },
      );

    // 2. Pilot: the create-and-store rate of this machine, on dossiers due in 60 days.
    const pilotCount = Math.min(300, Math.max(50, Math.round(n / 20)));
    const pilot: BulkDossier[] = Array.from({ length: pilotCount }, (_, i) => ({
      id: `P-${String(i).padStart(6, '0')}`,
      title: `Pilot ${i}`,
      ownerId: owners[i % ownerCount]!,
      dueDate: dateInDays(60),
    }));
    const pilotStart = wallClock();
    for (const batch of chunks(pilot, bulkSize)) await createBulk(service, batch);
    if (!(await waitCreated('P', pilotCount, Date.now() + 300_000)))
      throw new Error(`pilot: only ${created.P.size}/${pilotCount} created notices on sockets in 300 s`);
    const pilotRate = (pilotCount / (wallClock() - pilotStart)) * 1000;
    const T = Math.ceil((wallClock() + (n / pilotRate) * 1000 * safety + 10_000) / 1000) * 1000;
    const dueAt = new Date(T).toISOString();
    log(
      `N=${n}: pilot ${pilotRate.toFixed(0)} dossiers/s created and stored; T = ${dueAt} (in ${seconds(T - wallClock())} s)`,
    );

    // 3. The herd: N dossiers due at T, in bulk.
    const herd: BulkDossier[] = Array.from({ length: n }, (_, i) => ({
      id: `H-${String(i).padStart(6, '0')}`,
      title: `Herd ${i}`,
      ownerId: owners[i % ownerCount]!,
      dueAt,
    }));
    const bulkCallMs: number[] = [];
    const createStart = wallClock();
    await mapBounded(chunks(herd, bulkSize), bulkConcurrency, async (batch) => {
      const started = performance.now();
      await createBulk(service, batch);
      bulkCallMs.push(performance.now() - started);
      log(`N=${n}: a bulk call of ${batch.length} answered in ${seconds(performance.now() - started)} s`);
    });
    const acceptedAt = wallClock();
    await waitCreated('H', n, T - 2000);
    const createdStoredAt = wallClock();
    log(
      `N=${n}: created in ${seconds(acceptedAt - createStart)} s, ${created.H.size} notices on sockets after ${seconds(createdStoredAt - createStart)} s`,
    );
    const readyAt = wallClock();
    const invalid: string[] = [];
    if (created.H.size < n) invalid.push(`only ${created.H.size}/${n} created notices on sockets before T`);
    if (readyAt > T - 500) invalid.push(`setup overran T by ${seconds(readyAt - T)} s`);
    if (frames.size > 0) invalid.push(`${frames.size} overdue alerts on sockets before T`);

    // 4. From T: all N alerts fall due.
    await sleep(T - 1000 - wallClock());
    const metricsBefore = await scrapeWorkerMetrics(service);
    const meter = startEmbeddedCpuMeter({ start: service.pid, devServer: service.devServerPid });
    let lastLog = 0;
    await poll(
      () => {
        service.assertAlive();
        const now = wallClock();
        if (now - lastLog > 5000 && now > T) {
          lastLog = now;
          log(`N=${n}: T+${seconds(now - T)} s: ${frames.size} on sockets`);
        }
        return frames.size >= n;
      },
      { deadline: T + timeoutMs, intervalMs: 100, probeErrors: 'throw', onTimeout: () => false },
    );
    const timedOut = frames.size < n;
    const cpu = await meter.stop();
    const metricsAfter = await scrapeWorkerMetrics(service);
    // The rows are read through REST only once, afterwards: the frames tell when it went quiet.
    log(
      `N=${n}: ${timedOut ? `timed out at T+${seconds(timeoutMs)} s` : 'all delivered'}; draining until quiet`,
    );
    const drain = await drainUntilQuiet({
      count: () => {
        service.assertAlive();
        return [...frames.values()].reduce((sum, list) => sum + list.length, 0);
      },
      quietMs: drainQuietMs,
      deadline: Date.now() + drainMaxMs(timeoutMs),
    });
    log(
      `N=${n}: drained in ${seconds(drain.drainedMs)} s${drain.quiet ? '' : ' (still changing)'}; reading the rows`,
    );

    // 5. The rows, through each owner's list.
    const listStart = performance.now();
    const listed = await listOwnersNotifications(service, owners);
    const listing = { requests: listed.requests, ms: performance.now() - listStart };
    const stored = listed.items
      .filter((item) => item.kind === 'overdue' && item.dossierId?.startsWith('H-'))
      .map((item) => ({ dossierId: item.dossierId!, at: Date.parse(item.createdAt) }));
    const tally = tallyHerd({ ids: herd.map((dossier) => dossier.id), stored, frames, T, timeoutMs });
    const logs = [
      { ...(await summarizeLog('server', service.logFile)), name: 'start.ts' },
      await summarizeLog('devServer', service.devServerLogFile),
    ];
    const socketCloses = [...sockets.closes];
    await sockets.close();
    return {
      n,
      quiet,
      owners: ownerCount,
      pilot: { count: pilotCount, ratePerSecond: pilotRate },
      createRate: (n / (acceptedAt - createStart)) * 1000,
      createdStoredRate: (created.H.size / (createdStoredAt - createStart)) * 1000,
      bulkCallMs,
      leadMs: T - readyAt,
      invalid,
      timedOut,
      ...tally,
      drain,
      otherFrames,
      socketCloses,
      listing,
      cpu,
      sdk: workerSdkFacts(metricsBefore, metricsAfter),
      logs,
      devServerCommandLine: service.devServerCommandLine,
    };
  } finally {
    // Still hooked while it stops: a signal now waits for the same stop, then exits.
    await stopService();
    unhook();
  }
}
