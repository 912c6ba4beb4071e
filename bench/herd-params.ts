import { devServerOptionsFromEnv, workerEnvFromEnv } from './bench-util.js';
import { envInt, envList, envPositiveInt } from './env.js';
import type { HerdTally } from './herd-tally.js';
import {
  middayZone,
  progress as progressOf,
  type CpuWindow,
  type LogSummary,
  type Stack,
  type WorkerSdkFacts,
} from './stack.js';

/** The settings of `npm run bench:herd` (BENCH_HERD_*), and what one size's run yields. */

export const log = progressOf('herd');
export const sizes = envList('BENCH_HERD', '1000,10000', { integers: true });
export const concurrency = envPositiveInt('BENCH_HERD_CONCURRENCY', 64);
export const safety = envInt('BENCH_HERD_SAFETY', 1.5);
export const devServer = devServerOptionsFromEnv();
export const extraWorkerEnv = workerEnvFromEnv();
export const ownersFor = (n: number) => envInt('BENCH_HERD_OWNERS', 0) || Math.max(1, Math.ceil(n / 10));
export const timeoutMsFor = (n: number) =>
  envInt('BENCH_HERD_TIMEOUT_S', Math.max(120, Math.ceil(n * 0.06))) * 1000;
export const zone = process.env.BENCH_TIMEZONE ?? middayZone();

/** One size's run; its tally (in time, late, lost, twice) and drain: bench/herd-tally.ts. */
export interface SizeResult extends HerdTally {
  n: number;
  quiet: string;
  owners: number;
  pilot: { count: number; ratePerSecond: number };
  createRate: number;
  createdStoredRate: number;
  callMs: number[];
  /** T minus the moment creation, `created` storage and sockets were all done. */
  leadMs: number;
  invalid: string[];
  timedOut: boolean;
  otherFrames: number;
  socketCloses: number[];
  cpu: CpuWindow;
  sdk: WorkerSdkFacts;
  logs: LogSummary[];
  devServerFacts: Stack['devServerFacts'];
}
