import {
  COMPONENTS,
  forEachConcurrent,
  middayZone,
  progress as progressOf,
  sleep,
  startCpuMeter,
  startStack,
  wallClock,
  type CpuWindow,
  type Stack,
} from './stack.js';
import {
  connectOwners,
  cpuNote,
  dateInDays,
  devServerOptionsFromEnv,
  devServerParameters,
  workerEnvParameter,
  envInt,
  envList,
  fixed,
  gitFacts,
  logNotes,
  othersCores,
  stopOnSignal,
  waitForCount,
  waitForQuietMachine,
  workerEnvFromEnv,
} from './bench-util.js';
import { percentile, renderText, writeBenchReport, type BenchReport } from './report.js';

/**
 * `npm run bench:latency`: REST → socket latency under a steady update rate. BENCH_LATENCY_DOSSIERS
 * (20) dossiers, one owner each, their owners' tabs open; then, for each rate of BENCH_RATES
 * (default 10,50,100 updates/s) for BENCH_LATENCY_SECONDS (20) each, `PUT /api/v1/dossiers/{id}`
 * with a new title (one `updated` notice each), sent open-loop on a fixed schedule round-robin over
 * the dossiers. Latency: from the request's send to the notice's frame on its owner's socket
 * (matched by the new title). Between rates, the previous rate's notices are drained (up to
 * BENCH_LATENCY_GRACE_S, 120 s) so that a backlog does not spill into the next rate.
 */

const log = progressOf('latency');
const dossierCount = envInt('BENCH_LATENCY_DOSSIERS', 20);
const rates = envList('BENCH_RATES', '10,50,100');
const durationS = envInt('BENCH_LATENCY_SECONDS', 20);
const graceMs = envInt('BENCH_LATENCY_GRACE_S', 120) * 1000;
const maxInFlight = envInt('BENCH_LATENCY_MAX_IN_FLIGHT', 512);
const devServer = devServerOptionsFromEnv();
const extraWorkerEnv = workerEnvFromEnv();
const zone = process.env.BENCH_TIMEZONE ?? middayZone();
const TARGET_RATE = 50;
const TARGET_P99_MS = 100;

interface Sent {
  sentAt: number;
  ackAt?: number;
  storedAt?: number;
  frameAt?: number;
  failed?: string;
}

interface RateResult {
  rate: number;
  sent: number;
  /** Updates per second actually sent (the schedule may slip). */
  achievedRate: number;
  /** Sends more than 20 ms behind their schedule (the bench itself lagging, or the in-flight cap). */
  lateSends: number;
  failed: number;
  firstFailure: string | undefined;
  delivered: number;
  twice: number;
  latencies: Array<[number, number]>; // [send offset ms, send → frame ms]
  ackMs: number[];
  storedMs: number[]; // send → created_at
  fanoutMs: number[]; // created_at → frame
  slopeMsPerS: number;
  quarterP50: number[];
  cpu: CpuWindow;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const count = points.length;
  if (count < 2) return NaN;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / count;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / count;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

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
    const client = await stack.dossierClient();
    const dueDate = dateInDays(60);
    const dossiers = Array.from({ length: dossierCount }, (_, i) => ({
      id: `L-${String(i).padStart(3, '0')}`,
      ownerId: `latency-u${i}`,
      dueDate,
    }));
    await forEachConcurrent(dossiers, 8, async (dossier) => {
      await client.create({ ...dossier, title: `Dossier ${dossier.id}` });
    });
    const created = await waitForCount(
      async () =>
        Number(
          (
            await stack.query<{ count: string }>(
              `select count(*) as count from notifications where kind = 'created'`,
            )
          )[0]!.count,
        ),
      dossierCount,
      Date.now() + 120_000,
    );
    if (created < dossierCount) throw new Error(`only ${created}/${dossierCount} dossiers created in 120 s`);

    const pending = new Map<string, Sent>();
    let twiceFrames = 0;
    const sockets = await connectOwners(
      stack,
      dossiers.map((dossier) => dossier.ownerId),
      (notification, receivedAt) => {
        if (notification.kind !== 'updated') return;
        const sent = pending.get(String(notification.data.dossierTitle));
        if (!sent) return;
        if (sent.frameAt !== undefined) {
          twiceFrames += 1;
          return;
        }
        sent.frameAt = receivedAt;
        sent.storedAt = Date.parse(notification.createdAt);
      },
    );
    log(`${dossierCount} dossiers created, their owners' sockets open`);

    /** Sends `rate` updates a second for `seconds`, open-loop; returns what was sent. */
    async function drive(
      rate: number,
      seconds: number,
      tag: string,
    ): Promise<{ sends: Sent[]; lateSends: number; elapsedMs: number }> {
      const total = Math.round(rate * seconds);
      const sends: Sent[] = [];
      const inFlight = new Set<Promise<void>>();
      let lateSends = 0;
      const start = wallClock();
      for (let i = 0; i < total; i += 1) {
        const due = start + (i * 1000) / rate;
        const wait = due - wallClock();
        if (wait >= 1) await sleep(wait);
        while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
        const dossier = dossiers[i % dossierCount]!;
        const title = `Dossier ${dossier.id} ${tag} #${i}`;
        const sent: Sent = { sentAt: wallClock() };
        if (sent.sentAt - due > 20) lateSends += 1;
        pending.set(title, sent);
        sends.push(sent);
        const request = fetch(`${stack.serverUrl}/api/v1/dossiers/${dossier.id}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${stack.serviceToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title, ownerId: dossier.ownerId, dueDate: dossier.dueDate }),
        })
          .then(async (response) => {
            const text = await response.text();
            sent.ackAt = wallClock();
            if (response.status !== 202) sent.failed = `${response.status} ${text.slice(0, 200)}`;
          })
          .catch((error: unknown) => {
            sent.failed = String(error);
          })
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await Promise.all(inFlight);
      return { sends, lateSends, elapsedMs: wallClock() - start };
    }

    async function drain(sends: Sent[]): Promise<void> {
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline) {
        if (sends.every((sent) => sent.frameAt !== undefined || sent.failed !== undefined)) return;
        stack.assertAlive();
        await sleep(100);
      }
    }

    // Warm-up: 2 s at 5/s, not measured.
    const warm = await drive(5, 2, 'warm-up');
    await drain(warm.sends);

    for (const rate of rates) {
      try {
        log(`${rate} updates/s for ${durationS} s`);
        twiceFrames = 0;
        const meter = await startCpuMeter(stack);
        const { sends, lateSends, elapsedMs } = await drive(rate, durationS, `r${rate}`);
        await drain(sends);
        const cpu = await meter.stop();
        // Late duplicates.
        await sleep(1000);
        const start = sends[0]!.sentAt;
        const ok = sends.filter((sent) => sent.failed === undefined);
        const delivered = ok.filter((sent) => sent.frameAt !== undefined);
        const latencies = delivered.map((sent): [number, number] => [
          sent.sentAt - start,
          sent.frameAt! - sent.sentAt,
        ]);
        const quarter = (q: number) =>
          percentile(
            latencies
              .filter(
                ([offset]) =>
                  offset >= (q * durationS * 1000) / 4 && offset < ((q + 1) * durationS * 1000) / 4,
              )
              .map(([, ms]) => ms),
            50,
          );
        const result: RateResult = {
          rate,
          sent: sends.length,
          achievedRate: (sends.length / elapsedMs) * 1000,
          lateSends,
          failed: sends.length - ok.length,
          firstFailure: sends.find((sent) => sent.failed)?.failed,
          delivered: delivered.length,
          twice: twiceFrames,
          latencies,
          ackMs: ok.filter((sent) => sent.ackAt !== undefined).map((sent) => sent.ackAt! - sent.sentAt),
          storedMs: delivered.map((sent) => sent.storedAt! - sent.sentAt),
          fanoutMs: delivered.map((sent) => sent.frameAt! - sent.storedAt!),
          slopeMsPerS: slope(latencies.map(([offset, ms]) => [offset / 1000, ms])),
          quarterP50: [0, 1, 2, 3].map(quarter),
          cpu,
        };
        results.push(result);
        const ms = latencies.map(([, value]) => value);
        log(
          `${rate}/s: ${result.delivered}/${result.sent} delivered, p50 ${fixed(percentile(ms, 50), 0)} ms, p99 ${fixed(percentile(ms, 99), 0)} ms, max ${fixed(Math.max(...ms), 0)} ms`,
        );
      } catch (error) {
        failures.push(`${rate}/s failed: ${error instanceof Error ? error.message : String(error)}`);
        log(`${rate}/s failed: ${String(error)}`);
        break;
      }
    }
    logs = await stack.logSummary();
    await sockets.close();
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
