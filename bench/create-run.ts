import { dateInDays, stopOnSignal, waitForQuietMachine, seconds } from './bench-util.js';
import { waitForCount, wallClock, withStack } from './common.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import {
  bulkConcurrency,
  bulkSize,
  concurrency,
  devServer,
  extraWorkerEnv,
  log,
  MODE_LABELS,
  n,
  owners,
  stackKind,
  timeoutMs,
  zone,
  type DossierBody,
  type Mode,
  type ModeResult,
} from './create-params.js';
import { startDrivenStack, type DrivenStack } from './stack-choice.js';

/**
 * One way of creating (REST, client API, bulk) on a fresh stack of BENCH_STACK's kind: calls
 * answered, notices stored, CPU.
 */

class CallError extends Error {}

/** POSTs `body`; resolves with the response's JSON, throws on any status but 202 or 200. */
async function postJson(stack: DrivenStack, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${stack.serverUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.serviceToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 202 && response.status !== 200) {
    throw new CallError(`${response.status} ${text.slice(0, 200)}`);
  }
  return JSON.parse(text) as unknown;
}

/** A bulk answer's dossiers not sent (each result has `sent`), with the first error. */
function unsent(results: unknown): { count: number; error?: string } {
  const list = (Array.isArray(results) ? results : []) as Array<{ sent?: boolean; error?: string }>;
  const failed = list.filter((result) => result.sent !== true);
  return { count: failed.length, ...(failed[0] && { error: String(failed[0].error ?? 'not sent') }) };
}

export async function runMode(mode: Mode): Promise<ModeResult> {
  const quiet = await waitForQuietMachine(log);
  log(`${MODE_LABELS[mode]}: starting a fresh ${stackKind} stack`);
  // Hooked before the start: a signal while the stack starts stops what started.
  let stopStack = () => Promise.resolve();
  const unhook = stopOnSignal(() => stopStack());
  try {
    const stack = await startDrivenStack({
      kind: stackKind,
      label: `create-${mode}`,
      devServer,
      workerEnv: { DEFAULT_TIMEZONE: zone, ...extraWorkerEnv },
      onStop: (stop) => (stopStack = stop),
    });
    const { dossiers: client } = await stack.temporal();
    const dueDate = dateInDays(60);
    const dossiers: DossierBody[] = Array.from({ length: n }, (_, i) => ({
      id: `C-${String(i).padStart(6, '0')}`,
      title: `Dossier ${i}`,
      ownerId: `create-u${i % owners}`,
      dueDate,
    }));
    const batches: DossierBody[][] = [];
    const bulk = mode === 'rest-bulk' || mode === 'client-bulk';
    for (let i = 0; i < n; i += bulk ? bulkSize : 1)
      batches.push(dossiers.slice(i, i + (bulk ? bulkSize : 1)));
    /** Sends a batch; resolves with how many of its dossiers were not sent (and why). */
    const call: (batch: DossierBody[]) => Promise<{ count: number; error?: string }> = {
      rest: async (batch: DossierBody[]) => {
        await postJson(stack, '/api/v1/dossiers', batch[0]);
        return { count: 0 };
      },
      client: async (batch: DossierBody[]) => {
        await client.create(batch[0]!);
        return { count: 0 };
      },
      'rest-bulk': async (batch: DossierBody[]) => {
        const answer = (await postJson(stack, '/api/v1/dossiers/bulk', { dossiers: batch })) as {
          results?: unknown;
        };
        return unsent(answer.results);
      },
      'client-bulk': async (batch: DossierBody[]) => {
        const createMany = (client as unknown as Record<string, (input: DossierBody[]) => Promise<unknown>>)
          .createMany;
        return unsent(await createMany!(batch));
      },
    }[mode];

    const ownerIds = Array.from({ length: owners }, (_, i) => `create-u${i}`);
    // Opened before the calls: on the embedded stack, tabs that count the notices as they come.
    const created = await stack.watchCreated(ownerIds);
    const callMs: number[] = [];
    const acceptedMs: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    const meter = await stack.startCpuMeter();
    const start = wallClock();
    await mapBounded(batches, bulk ? bulkConcurrency : concurrency, async (batch) => {
      const began = performance.now();
      try {
        const failed = await call(batch);
        callMs.push(performance.now() - began);
        const at = wallClock() - start;
        for (let i = failed.count; i < batch.length; i += 1) acceptedMs.push(at);
        errors += failed.count;
        if (failed.error) firstError ??= failed.error;
      } catch (error) {
        errors += batch.length;
        if (firstError === undefined) log(`${MODE_LABELS[mode]}: a call failed: ${withStack(error)}`);
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    });
    const acceptedAt = wallClock();
    log(
      `${MODE_LABELS[mode]}: ${acceptedMs.length} accepted in ${seconds(acceptedAt - start)} s (${errors} failed)`,
    );
    const stored = await waitForCount(() => created.count(), acceptedMs.length, start + timeoutMs, {
      intervalMs: 500,
      onProgress: (value) => log(`${MODE_LABELS[mode]}: ${value} created notices stored`),
    });
    const cpu = await meter.stop();
    await created.close();
    if (stored < acceptedMs.length)
      log(`${MODE_LABELS[mode]}: gave up after ${seconds(timeoutMs)} s: ${stored} stored`);
    // Read once the window is over: on the embedded stack, through the owners' lists (REST).
    const rows = await stack.createdNotices(ownerIds);
    const storedMs = rows.map((row) => row.at - start).sort((a, b) => a - b);
    const lastStored = storedMs[storedMs.length - 1] ?? NaN;
    const p10 = storedMs[Math.floor(storedMs.length * 0.1)] ?? NaN;
    const p90 = storedMs[Math.floor(storedMs.length * 0.9)] ?? NaN;
    const logs = await stack.logSummary();
    return {
      mode,
      quiet,
      calls: batches.length,
      callMs,
      errors,
      firstError,
      acceptedMs,
      storedMs,
      acceptedRate: (acceptedMs.length / (acceptedAt - start)) * 1000,
      storedRate: stored >= n ? (n / lastStored) * 1000 : NaN,
      steadyStoredRate:
        ((Math.floor(storedMs.length * 0.9) - Math.floor(storedMs.length * 0.1)) / (p90 - p10)) * 1000,
      cpu,
      logs,
      stackParameters: stack.parameters,
    };
  } finally {
    // Still hooked while it stops: a signal now waits for the same stop, then exits.
    await stopStack();
    unhook();
  }
}
