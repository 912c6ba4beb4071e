import { dateInDays, fixed } from './bench-util.js';
import { fit, sleep, waitForCount, wallClock, withStack } from './common.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import { poll } from '../support/wait.js';
import {
  dossierCount,
  durationS,
  graceMs,
  log,
  maxInFlight,
  rates,
  type RateResult,
  type Sent,
} from './latency-params.js';
import { dossierWorkflowId } from '../workflows/dossier-messages.js';
import { fetchStepEvents } from './history-events.js';
import { stepTable, updateGaps, type Gap, type StepRow } from './history-steps.js';
import { connectOwners } from './owners.js';
import { percentile } from './report.js';
import type { DrivenStack } from './stack-choice.js';
import type { LogSummary } from './stack.js';

/** Least-squares slope of y over x. */
const slope = (points: Array<[number, number]>): number => fit(points).slope;

/** The update a signal's or an activity's input carries: its dossier's title (upsert, save, delivery). */
const titleOf = (input: unknown): string | undefined => {
  const title = (input as { dossier?: { title?: unknown } } | undefined)?.dossier?.title;
  return typeof title === 'string' ? title : undefined;
};

/**
 * Where the delivered updates' time went, from their dossier workflows' histories (read after
 * the rate, outside its CPU window): the gaps between their steps, per step.
 */
async function historySteps(
  stack: DrivenStack,
  delivered: Sent[],
  since: number,
): Promise<{ steps: StepRow[]; matched: number }> {
  const { client } = await stack.temporal();
  const workflowIds = [...new Set(delivered.map((sent) => dossierWorkflowId(sent.dossierId)))];
  const histories = await fetchStepEvents(client, workflowIds, titleOf, { since });
  const paths: Gap[][] = [];
  for (const sent of delivered) {
    const gaps = updateGaps(histories.get(dossierWorkflowId(sent.dossierId)) ?? [], sent.title, {
      due: sent.due,
      sent: sent.sentAt,
      ...(sent.ackAt !== undefined && { answered: sent.ackAt }),
      ...(sent.storedAt !== undefined && { stored: sent.storedAt }),
      ...(sent.frameAt !== undefined && { frame: sent.frameAt }),
    });
    if (gaps) paths.push(gaps);
  }
  return { steps: stepTable(paths), matched: paths.length };
}

/**
 * On a started stack: the dossiers and their owners' tabs, a warm-up, then each rate of updates
 * sent open-loop and drained; each rate's figures go to `results` (a failed rate to `failures`,
 * and the rates after it are not run). Returns the stack's log summary.
 */
export async function runRates(
  stack: DrivenStack,
  results: RateResult[],
  failures: string[],
): Promise<LogSummary[]> {
  const { dossiers: client } = await stack.temporal();
  const dueDate = dateInDays(60);
  const dossiers = Array.from({ length: dossierCount }, (_, i) => ({
    id: `L-${String(i).padStart(3, '0')}`,
    ownerId: `latency-u${i}`,
    dueDate,
  }));
  await mapBounded(dossiers, 8, async (dossier) => {
    await client.create({ ...dossier, title: `Dossier ${dossier.id}` });
  });
  const owners = dossiers.map((dossier) => dossier.ownerId);
  const created = await waitForCount(
    async () => (await stack.createdNotices(owners)).length,
    dossierCount,
    Date.now() + 120_000,
  );
  if (created < dossierCount) throw new Error(`only ${created}/${dossierCount} dossiers created in 120 s`);

  const pending = new Map<string, Sent>();
  let twiceFrames = 0;
  const sockets = await connectOwners(stack, owners, (notification, receivedAt) => {
    if (notification.kind !== 'updated') return;
    const sent = pending.get(String(notification.data.dossierTitle));
    if (!sent) return;
    if (sent.frameAt !== undefined) {
      twiceFrames += 1;
      return;
    }
    sent.frameAt = receivedAt;
    sent.storedAt = Date.parse(notification.createdAt);
  });
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
      const sent: Sent = { dossierId: dossier.id, title, due, sentAt: wallClock() };
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
          // The report keeps the text; the first failure's stack goes to the log.
          if (!sends.some((other) => other.failed !== undefined)) log(`a send failed: ${withStack(error)}`);
          sent.failed = String(error);
        })
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
    return { sends, lateSends, elapsedMs: wallClock() - start };
  }

  async function drain(sends: Sent[]): Promise<void> {
    await poll(
      () => {
        if (sends.every((sent) => sent.frameAt !== undefined || sent.failed !== undefined)) return true;
        stack.assertAlive();
        return undefined;
      },
      { deadline: Date.now() + graceMs, intervalMs: 100, probeErrors: 'throw', onTimeout: () => false },
    );
  }

  // Warm-up: 2 s at 5/s, not measured.
  const warm = await drive(5, 2, 'warm-up');
  await drain(warm.sends);

  for (const rate of rates) {
    try {
      log(`${rate} updates/s for ${durationS} s`);
      twiceFrames = 0;
      const meter = await stack.startCpuMeter();
      const { sends, lateSends, elapsedMs } = await drive(rate, durationS, `r${rate}`);
      await drain(sends);
      const cpu = await meter.stop();
      // Late duplicates.
      await sleep(1000);
      // From the intended send (`due`), not the actual one: a sender held back by the in-flight
      // cap or its event loop would otherwise hide that wait (coordinated omission).
      const start = sends[0]!.due;
      const ok = sends.filter((sent) => sent.failed === undefined);
      const delivered = ok.filter((sent) => sent.frameAt !== undefined);
      const latencies = delivered.map((sent): [number, number] => [
        sent.due - start,
        sent.frameAt! - sent.due,
      ]);
      let steps: { steps: StepRow[]; matched: number } = { steps: [], matched: 0 };
      let stepsError: string | undefined;
      try {
        steps = await historySteps(stack, delivered, start);
      } catch (error) {
        stepsError = error instanceof Error ? error.message : String(error);
        log(`${rate}/s: the histories could not be read: ${withStack(error)}`);
      }
      const quarter = (q: number) =>
        percentile(
          latencies
            .filter(
              ([offset]) => offset >= (q * durationS * 1000) / 4 && offset < ((q + 1) * durationS * 1000) / 4,
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
        fromSentMs: delivered.map((sent) => sent.frameAt! - sent.sentAt),
        sendLagMs: sends.map((sent) => sent.sentAt - sent.due),
        ackMs: ok.filter((sent) => sent.ackAt !== undefined).map((sent) => sent.ackAt! - sent.sentAt),
        storedMs: delivered.map((sent) => sent.storedAt! - sent.sentAt),
        fanoutMs: delivered.map((sent) => sent.frameAt! - sent.storedAt!),
        slopeMsPerS: slope(latencies.map(([offset, ms]) => [offset / 1000, ms])),
        quarterP50: [0, 1, 2, 3].map(quarter),
        cpu,
        steps: steps.steps,
        stepsMatched: steps.matched,
        ...(stepsError !== undefined && { stepsError }),
      };
      results.push(result);
      const ms = latencies.map(([, value]) => value);
      log(
        `${rate}/s: ${result.delivered}/${result.sent} delivered, p50 ${fixed(percentile(ms, 50), 0)} ms, p99 ${fixed(percentile(ms, 99), 0)} ms, max ${fixed(Math.max(...ms), 0)} ms`,
      );
    } catch (error) {
      failures.push(`${rate}/s failed: ${error instanceof Error ? error.message : String(error)}`);
      log(`${rate}/s failed: ${withStack(error)}`);
      break;
    }
  }
  const logs = await stack.logSummary();
  await sockets.close();
  return logs;
}
