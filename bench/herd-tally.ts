import { sleep } from './common.js';
import { envInt } from './env.js';

/**
 * What one herd run counts, from the alerts' rows and frames (bench/herd-run.ts and
 * bench/herd-embedded-run.ts alike). Three outcomes per dossier, for its row and its frame alike:
 * in time (within the timeout after T), late (after the timeout, before the drain ended) and
 * missing (not there when the drain ended: the only ones that may have been lost). Twice: every
 * row or frame past a dossier's first, whenever it came, drain included.
 */
export function tallyHerd({
  ids,
  stored,
  frames,
  T,
  timeoutMs,
}: {
  /** The herd's dossiers: each must have exactly one row and one frame. */
  ids: readonly string[];
  /** Each overdue alert's row: its dossier and when it was stored (ms since the epoch). */
  stored: Array<{ dossierId: string; at: number }>;
  /** Each dossier's frame arrivals (ms since the epoch), in order. */
  frames: Map<string, number[]>;
  T: number;
  timeoutMs: number;
}) {
  const inTime = (at: number) => at - T <= timeoutMs;
  const herd = new Set(ids);
  const firstRow = new Map<string, number>();
  let twiceRows = 0;
  for (const row of stored) {
    if (!herd.has(row.dossierId)) continue;
    const first = firstRow.get(row.dossierId);
    if (first === undefined) firstRow.set(row.dossierId, row.at);
    else {
      twiceRows += 1;
      firstRow.set(row.dossierId, Math.min(first, row.at));
    }
  }
  let twiceFrames = 0;
  const firstFrame = new Map<string, number>();
  for (const [dossierId, times] of frames) {
    if (!herd.has(dossierId) || times.length === 0) continue;
    twiceFrames += times.length - 1;
    firstFrame.set(dossierId, Math.min(...times));
  }
  const outcome = (first: Map<string, number>) => {
    const ms: number[] = [];
    let late = 0;
    for (const at of first.values()) {
      if (inTime(at)) ms.push(at - T);
      else late += 1;
    }
    return { ms: ms.sort((a, b) => a - b), late, missing: herd.size - first.size };
  };
  const rows = outcome(firstRow);
  const sockets = outcome(firstFrame);
  const deliveryMs: number[] = [];
  for (const [dossierId, frameAt] of firstFrame) {
    const rowAt = firstRow.get(dossierId);
    if (rowAt !== undefined && inTime(frameAt)) deliveryMs.push(frameAt - rowAt);
  }
  return {
    storedMs: rows.ms,
    frameMs: sockets.ms,
    deliveryMs,
    lateRows: rows.late,
    lateFrames: sockets.late,
    lostRows: rows.missing,
    lostFrames: sockets.missing,
    twiceRows,
    twiceFrames,
  };
}

/**
 * Waits until `count()` (every row and frame seen so far, duplicates included) has not changed for
 * `quietMs`, or `deadline` (epoch ms) passes: a late alert or a duplicate from a retried step would
 * still move it. Returns whether it went quiet and how long the drain took.
 */
export async function drainUntilQuiet({
  count,
  quietMs,
  deadline,
  intervalMs = 250,
}: {
  count: () => Promise<number> | number;
  quietMs: number;
  deadline: number;
  intervalMs?: number;
}): Promise<DrainResult> {
  const started = Date.now();
  let last = await count();
  let changedAt = Date.now();
  for (;;) {
    if (Date.now() - changedAt >= quietMs) return { quiet: true, drainedMs: Date.now() - started };
    if (Date.now() >= deadline) return { quiet: false, drainedMs: Date.now() - started };
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
    const now = await count();
    if (now !== last) {
      last = now;
      changedAt = Date.now();
    }
  }
}

/** How a drain went: whether rows and frames stopped coming, and how long it watched. */
export interface DrainResult {
  quiet: boolean;
  drainedMs: number;
}

/** What a herd size's result carries of its tally and drain (bench:herd and bench:herd-embedded). */
export type HerdTally = ReturnType<typeof tallyHerd> & { drain: DrainResult };

/**
 * The drain after the timeout (or once all arrived), for both herd benches: watch until no row or
 * frame has come for BENCH_HERD_DRAIN_QUIET_S (15 s) — a late alert or a retried step's duplicate
 * would — for at most BENCH_HERD_DRAIN_MAX_S (max(60 s, half the timeout)). What is still missing
 * then is counted lost.
 */
export const drainQuietMs = envInt('BENCH_HERD_DRAIN_QUIET_S', 15) * 1000;
export const drainMaxMs = (timeoutMs: number) =>
  envInt('BENCH_HERD_DRAIN_MAX_S', Math.max(60, Math.ceil(timeoutMs / 2000))) * 1000;

/** The herd's "none lost, none twice" target, over every size run (late ones are not lost). */
export function exactlyOnceTarget(
  results: Array<{
    n: number;
    lostRows: number;
    lostFrames: number;
    twiceRows: number;
    twiceFrames: number;
    drain: DrainResult;
  }>,
) {
  const exact = results.every(
    (r) => r.drain.quiet && r.lostRows + r.lostFrames + r.twiceRows + r.twiceFrames === 0,
  );
  return {
    target: 'none lost, none twice (rows and frames)',
    measured:
      results
        .map(
          (r) =>
            `N=${r.n}: missing ${r.lostRows}/${r.lostFrames}, twice ${r.twiceRows}/${r.twiceFrames}` +
            (r.drain.quiet ? '' : ' (still changing when the drain ended)'),
        )
        .join('; ') || 'not run',
    met: results.length > 0 && exact,
  };
}
