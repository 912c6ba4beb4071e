/**
 * Small helpers every bench uses: time, concurrency, waiting. Free ports and `waitFor` are shared
 * with the tests: support/free-port.ts, support/wait.ts.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the processes of one machine (and with PostgreSQL's now()). */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/** `work` over `items` with at most `concurrency` at a time; the results in the items' order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

/** Runs `worker` over `items` with at most `concurrency` at a time. */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
): Promise<void> {
  await mapConcurrent(items, concurrency, worker);
}

/**
 * Calls `probe` every `intervalMs` until it returns something other than undefined, and returns
 * that; once `deadline` (epoch ms) has passed, throws `timeout()` instead. Errors of `probe` go
 * through.
 */
export async function poll<T>(
  probe: () => Promise<T | undefined>,
  { deadline, intervalMs, timeout }: { deadline: number; intervalMs: number; timeout: () => Error },
): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw timeout();
    await sleep(intervalMs);
  }
}

/** Polls `count()` until it reaches `target` or the deadline passes; returns the last count. */
export async function waitForCount(
  count: () => Promise<number>,
  target: number,
  deadline: number,
  { intervalMs = 250, onProgress }: { intervalMs?: number; onProgress?: (value: number) => void } = {},
): Promise<number> {
  let lastReport = 0;
  for (;;) {
    const value = await count();
    if (onProgress && Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      onProgress(value);
    }
    if (value >= target || Date.now() > deadline) return value;
    await sleep(intervalMs);
  }
}

/** Least-squares slope and intercept of y over x (slope NaN with fewer than two distinct x). */
export function fit(points: [number, number][]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/**
 * Runs `cleanUp` once however often it is asked for. Ctrl-C, SIGTERM and SIGHUP ask for it (the
 * first one counts: Ctrl-C reaches the whole process group and tsx relays it once more), then
 * the process exits with 130.
 */
export function cleanUpOnce(
  cleanUp: () => Promise<void>,
  announce: (signal: NodeJS.Signals) => void,
): { cleanUp: () => Promise<void>; started: () => boolean } {
  let cleaning: Promise<void> | undefined;
  const once = (): Promise<void> => (cleaning ??= cleanUp());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (cleaning) return;
      announce(signal);
      void once().finally(() => process.exit(130));
    });
  }
  return { cleanUp: once, started: () => cleaning !== undefined };
}
