/**
 * What one herd run counts, from the alerts' rows and frames (bench/herd-run.ts and
 * bench/herd-embedded-run.ts alike): when each was stored and reached its socket after T, what
 * came twice. Within the timeout only: what arrived during the wait after it counts as twice, not
 * as in time.
 */
export function tallyHerd({
  stored,
  frames,
  T,
  timeoutMs,
}: {
  /** Each overdue alert's row: its dossier and when it was stored (ms since the epoch). */
  stored: Array<{ dossierId: string; at: number }>;
  /** Each dossier's frame arrivals (ms since the epoch), in order. */
  frames: Map<string, number[]>;
  T: number;
  timeoutMs: number;
}) {
  const inTime = (at: number) => at - T <= timeoutMs;
  const storedAt = new Map<string, number>();
  for (const row of stored)
    if (!storedAt.has(row.dossierId) && inTime(row.at)) storedAt.set(row.dossierId, row.at);
  const storedMs = stored
    .map((row) => row.at - T)
    .filter((ms) => ms <= timeoutMs)
    .sort((a, b) => a - b);
  const twiceRows = stored.length - new Set(stored.map((row) => row.dossierId)).size;
  const frameMs: number[] = [];
  const deliveryMs: number[] = [];
  let twiceFrames = 0;
  for (const [dossierId, times] of frames) {
    if (times.length > 1) twiceFrames += times.length - 1;
    if (!inTime(times[0]!)) continue;
    frameMs.push(times[0]! - T);
    const rowAt = storedAt.get(dossierId);
    if (rowAt !== undefined) deliveryMs.push(times[0]! - rowAt);
  }
  frameMs.sort((a, b) => a - b);
  return { storedAt, storedMs, twiceRows, frameMs, deliveryMs, twiceFrames };
}

/** The herd's "none lost, none twice" target, over every size run. */
export function exactlyOnceTarget(
  results: Array<{ n: number; lostRows: number; lostFrames: number; twiceRows: number; twiceFrames: number }>,
) {
  const exact = results.every((r) => r.lostRows + r.lostFrames + r.twiceRows + r.twiceFrames === 0);
  return {
    target: 'none lost, none twice (rows and frames)',
    measured:
      results
        .map((r) => `N=${r.n}: lost ${r.lostRows}/${r.lostFrames}, twice ${r.twiceRows}/${r.twiceFrames}`)
        .join('; ') || 'not run',
    met: results.length > 0 && exact,
  };
}
