import { devServerOptionsFromEnv, workerEnvFromEnv } from './bench-util.js';
import { envInt, envList, envPositiveInt } from './env.js';
import type { StepRow } from './history-steps.js';
import { stackKindFromEnv, type StackCpu } from './stack-choice.js';
import { middayZone, progress as progressOf } from './stack.js';

/** The settings of `npm run bench:latency` (BENCH_LATENCY_*, BENCH_RATES) and what one rate yields. */

export const log = progressOf('latency');
export const dossierCount = envPositiveInt('BENCH_LATENCY_DOSSIERS', 20);
export const rates = envList('BENCH_RATES', '10,50,100');
export const durationS = envInt('BENCH_LATENCY_SECONDS', 20);
export const graceMs = envInt('BENCH_LATENCY_GRACE_S', 120) * 1000;
export const maxInFlight = envPositiveInt('BENCH_LATENCY_MAX_IN_FLIGHT', 512);
export const devServer = devServerOptionsFromEnv();
export const extraWorkerEnv = workerEnvFromEnv();
export const zone = process.env.BENCH_TIMEZONE ?? middayZone();
/** BENCH_STACK: `separate` (default) or `embedded`, npm start's own process (bench/stack-choice.ts). */
export const stackKind = stackKindFromEnv();
export const TARGET_RATE = 50;
export const TARGET_P99_MS = 100;

export interface Sent {
  dossierId: string;
  /** The new title: unique, it matches the frame and the history's signal and activities. */
  title: string;
  /** When the open-loop schedule meant to send it: latency counts from here (coordinated omission). */
  due: number;
  sentAt: number;
  ackAt?: number;
  storedAt?: number;
  frameAt?: number;
  failed?: string;
}

export interface RateResult {
  rate: number;
  sent: number;
  /** Updates per second actually sent (the schedule may slip). */
  achievedRate: number;
  /** Sends more than 20 ms behind their schedule (the bench itself lagging, or the in-flight cap). */
  lateSends: number;
  failed: number;
  firstFailure: string | undefined;
  delivered: number;
  twice: number;
  /** [intended send's offset in the run, intended send → frame], ms. */
  latencies: Array<[number, number]>;
  /** Actual send → frame, ms: what the latency was before it counted the sender's lag. */
  fromSentMs: number[];
  /** Actual send minus intended send, ms, of every send. */
  sendLagMs: number[];
  /** From the actual send. */
  ackMs: number[];
  storedMs: number[]; // send → created_at
  fanoutMs: number[]; // created_at → frame
  slopeMsPerS: number;
  quarterP50: number[];
  cpu: StackCpu;
  /** The gaps between the steps of the delivered updates, from their workflows' histories. */
  steps: StepRow[];
  /** Delivered updates found in the histories (their signal matched by title). */
  stepsMatched: number;
  /** Why the histories could not be read, if they could not. */
  stepsError?: string;
}
