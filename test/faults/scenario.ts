// What a fault scenario is (its strike, repair, watched logs) and the helpers the scenarios share.
import { wallClock } from '../../bench/stack.js';
import type { ProcessHandle } from '../../bench/processes.js';
import type { FaultRig, Load } from './harness.js';
import { seconds } from './progress.js';

export interface ScenarioContext {
  rig: FaultRig;
  load: Load;
  /** Extra figures for the report. */
  measures: Record<string, string>;
  notes: string[];
}

export interface Scenario {
  name: string;
  /** One line for the table. */
  fault: string;
  /**
   * Strikes and repairs; returns the instant of the fault (wall clock). Measures and notes go to
   * the context; `after` runs once the load has recovered (or timed out) and been audited;
   * `repair` then puts right what would spoil the next scenario.
   */
  inject(
    context: ScenarioContext,
  ): Promise<{ at: number; after?: () => Promise<void>; repair?: () => Promise<void> }>;
  /** Tabs on the server the fault hit, counted at the fault. */
  tabsOnFaulted?: (context: ScenarioContext) => number;
  /** Over how long the load's alerts fall due (default: defaultWindowMs). */
  windowMs?: (dossiers: number) => number;
  /** Strike once this fraction of the alerts is stored (default 0.25). */
  strikeAt?: number;
  /** Processes whose warnings and errors from the fault on go to the notes. */
  watchLogs?: (rig: FaultRig) => ProcessHandle[];
}

export const envSeconds = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return value * 1000;
};

/** A worker's activity start-to-close timeout (workflows/dossier-workflow.ts). */
export const ACTIVITY_TIMEOUT_MS = 30_000;

export const sinceFault = (at: number) => seconds(wallClock() - at);
