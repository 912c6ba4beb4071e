import { poll } from '../support/wait.js';

/**
 * Small helpers every bench uses: time, waiting for a count. Free ports and polling are shared
 * with the tests (support/free-port.ts, support/wait.ts), bounded concurrency with production code
 * (domain/bounded-concurrency.ts).
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the processes of one machine (and with PostgreSQL's now()). */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/**
 * Polls `count()` until it reaches `target` or `deadline` (epoch ms) passes; returns the last
 * count. `onProgress` hears it at most every 5 s. Errors of `count` go through.
 */
export async function waitForCount(
  count: () => Promise<number>,
  target: number,
  deadline: number,
  { intervalMs = 250, onProgress }: { intervalMs?: number; onProgress?: (value: number) => void } = {},
): Promise<number> {
  let lastReport = 0;
  let last = 0;
  return poll(
    async () => {
      last = await count();
      if (onProgress && Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        onProgress(last);
      }
      return last >= target ? last : undefined;
    },
    { deadline, intervalMs, probeErrors: 'throw', onTimeout: () => last },
  );
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

let interruptedBySignal = false;
/** A signal stopped the run: what it measured is partial, and no report is written. */
export const interrupted = (): boolean => interruptedBySignal;
export const markInterrupted = (): void => {
  interruptedBySignal = true;
};

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
      markInterrupted();
      announce(signal);
      void once().finally(() => process.exit(130));
    });
  }
  return { cleanUp: once, started: () => cleaning !== undefined };
}

/** An error as a progress line shows it: its stack (where it came from), else its text. */
export const withStack = (error: unknown): string =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);
