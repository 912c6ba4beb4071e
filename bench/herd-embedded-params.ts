import { envInt, envList, envPositiveInt } from './env.js';
import type { HerdTally } from './herd-tally.js';
import type { EmbeddedCpuWindow } from './embedded-meter.js';
import { middayZone, progress as progressOf, type WorkerSdkFacts } from './stack.js';
import type { LogSummary } from './stack-logs.js';

/** The settings of `npm run bench:herd-embedded`, and what one size's run yields. */

export const log = progressOf('herd-embedded');
export const sizes = envList('BENCH_HERD', '1000,10000', { integers: true });
/** Dossiers per bulk call (the route takes up to 1,000) and bulk calls at a time. */
export const bulkSize = Math.min(1000, envPositiveInt('BENCH_HERD_BULK_SIZE', 1000));
export const bulkConcurrency = envPositiveInt('BENCH_HERD_BULK_CONCURRENCY', 2);
export const safety = envInt('BENCH_HERD_SAFETY', 1.5);
export const ownersFor = (n: number) => envInt('BENCH_HERD_OWNERS', 0) || Math.max(1, Math.ceil(n / 10));
/** Longer than bench:herd's (max(120 s, 0.06 s × N)): one process carries PGlite, the worker and the server. */
export const timeoutMsFor = (n: number) =>
  envInt('BENCH_HERD_TIMEOUT_S', Math.max(180, Math.ceil(n * 0.1))) * 1000;
export const zone = process.env.BENCH_TIMEZONE ?? middayZone();
/** npm start's pragmas unless this shell sets TEMPORAL_DEV_SQLITE_PRAGMAS (as bench:herd). */
export const sqlitePragmas = process.env.TEMPORAL_DEV_SQLITE_PRAGMAS;

/** One size's run; its tally (in time, late, lost, twice) and drain: bench/herd-tally.ts. */
export interface EmbeddedSizeResult extends HerdTally {
  n: number;
  quiet: string;
  owners: number;
  pilot: { count: number; ratePerSecond: number };
  /** Dossiers accepted per second by the bulk calls of the herd. */
  createRate: number;
  /** `created` notices on their sockets per second, from the first bulk call. */
  createdStoredRate: number;
  bulkCallMs: number[];
  /** T minus the moment creation and the `created` notices were all done. */
  leadMs: number;
  invalid: string[];
  timedOut: boolean;
  otherFrames: number;
  socketCloses: number[];
  /** Owners' lists read after the run: requests and pages. */
  listing: { requests: number; ms: number };
  cpu: EmbeddedCpuWindow;
  sdk: WorkerSdkFacts;
  logs: LogSummary[];
  devServerCommandLine: string;
}
