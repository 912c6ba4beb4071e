import { devServerOptionsFromEnv, workerEnvFromEnv } from './bench-util.js';
import { envInt, envList, envPositiveInt } from './env.js';
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
/**
 * After the timeout (or once all arrived): watch until no row or frame has come for
 * BENCH_HERD_DRAIN_QUIET_S (15 s) — a late alert or a retried step's duplicate would — for at most
 * BENCH_HERD_DRAIN_MAX_S (max(60 s, half the timeout)). What is still missing then is counted lost.
 */
export const drainQuietMs = envInt('BENCH_HERD_DRAIN_QUIET_S', 15) * 1000;
export const drainMaxMsFor = (n: number) =>
  envInt('BENCH_HERD_DRAIN_MAX_S', Math.max(60, Math.ceil(timeoutMsFor(n) / 2000))) * 1000;

export interface SizeResult {
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
  storedMs: number[];
  frameMs: number[];
  /** frame arrival minus the row's created_at, per dossier. */
  deliveryMs: number[];
  /** After the timeout, before the drain ended. */
  lateRows: number;
  lateFrames: number;
  /** Still missing when the drain ended. */
  lostRows: number;
  lostFrames: number;
  drain: { quiet: boolean; drainedMs: number };
  twiceRows: number;
  twiceFrames: number;
  otherFrames: number;
  socketCloses: number[];
  cpu: CpuWindow;
  sdk: WorkerSdkFacts;
  logs: LogSummary[];
  devServerFacts: Stack['devServerFacts'];
}
