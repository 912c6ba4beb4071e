// How the fault rig reports and waits: progress lines, durations, polling its probes.
import { waitFor } from '../support/wait.js';

export const progress = (message: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)} faults] ${message}\n`);
};

export const seconds = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms) ? '—' : `${(ms / 1000).toFixed(1)} s`;

/** `waitFor` (test/support/wait.ts), polling every 100 ms unless told: the rig's probes ask processes. */
export const waitUntil = <T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<T> => waitFor(what, probe, { timeoutMs, intervalMs });
