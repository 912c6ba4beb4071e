import { wallClock } from '../../bench/stack.js';
import { seconds, waitUntil, type FaultRig, type Load, type ScenarioResult } from './harness.js';

/**
 * The fault scenarios of issue 12. Each one prepares its own load on the shared rig, waits until
 * a quarter of its alerts are stored (the reminders are firing), strikes, repairs what it broke,
 * then waits for full recovery and audits (test/faults/harness.ts). Durations come from the
 * environment so that the full run and the CI subset share the code.
 */

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
}

const sinceFault = (at: number) => seconds(wallClock() - at);

export const scenarios: Scenario[] = [
  {
    name: 'baseline',
    fault: 'none (reference: the same load with no fault)',
    inject: async () => ({ at: wallClock() }),
  },
  {
    name: 'worker-sigkill',
    fault: 'SIGKILL worker 1 while the alerts fire; start it again',
    async inject({ rig, measures }) {
      const worker = rig.stack.workers[0]!;
      const at = wallClock();
      await worker.kill();
      await worker.start();
      measures['worker 1 serving again after'] = sinceFault(at);
      return { at };
    },
  },
  {
    name: 'server-sigkill',
    fault: 'SIGKILL delivery server 1 with its tabs connected; start it again; tabs reconnect and resume',
    tabsOnFaulted: ({ load }) => load.tabs.filter((tab) => tab.connected && tab.server === 0).length,
    async inject({ rig, load, measures }) {
      const server = rig.stack.servers[0]!;
      const onIt = load.tabs.filter((tab) => tab.connected && tab.server === 0);
      const openedBefore = new Map(onIt.map((tab) => [tab, tab.opened[0]! + tab.opened[1]!]));
      const at = wallClock();
      await server.kill();
      await server.start();
      measures['server 1 serving again after'] = sinceFault(at);
      await waitUntil(
        `the ${onIt.length} tabs of server 1 to reconnect`,
        () => onIt.every((tab) => tab.connected && tab.opened[0]! + tab.opened[1]! > openedBefore.get(tab)!),
        { timeoutMs: 120_000, intervalMs: 100 },
      );
      measures['its tabs all reconnected after'] = sinceFault(at);
      const movedOver = onIt.filter((tab) => tab.server === 1).length;
      measures['tabs reconnected: to server 2 / to the restarted one'] =
        `${movedOver} / ${onIt.length - movedOver}`;
      const attempts = onIt.reduce((sum, tab) => sum + tab.attempts[0]! + tab.attempts[1]!, 0);
      measures['upgrade attempts per tab (whole life)'] = (attempts / Math.max(1, onIt.length)).toFixed(1);
      return { at };
    },
  },
];

export const scenarioNames = scenarios.map((scenario) => scenario.name);

/** Runs one scenario on the rig: its load, the fault, recovery, the audit. */
export async function runScenario(
  rig: FaultRig,
  scenario: Scenario,
  { recoveryTimeoutMs }: { recoveryTimeoutMs?: number } = {},
): Promise<ScenarioResult> {
  const load = await rig.prepareLoad(scenario.name);
  const context: ScenarioContext = { rig, load, measures: {}, notes: [] };
  let repair: (() => Promise<void>) | undefined;
  try {
    await rig.whileFiring(load);
    const tabsOnFaulted = scenario.tabsOnFaulted?.(context);
    rig.log(`${scenario.name}: fault: ${scenario.fault}`);
    const injected = await scenario.inject(context);
    const { at, after } = injected;
    repair = injected.repair;
    const timeoutMs = recoveryTimeoutMs ?? Math.max(120_000, load.dossiers.length * 150);
    const recoveredAt = await rig.recovered(load, Math.max(0, load.dueTo - wallClock()) + timeoutMs);
    rig.log(
      `${scenario.name}: ${recoveredAt === undefined ? `NOT recovered within ${seconds(timeoutMs)} after the last alert's instant` : `recovered ${seconds(recoveredAt - at)} after the fault`}`,
    );
    const result = await rig.audit(load, { scenario: scenario.name, fault: scenario.fault, at, recoveredAt });
    await after?.();
    if (tabsOnFaulted !== undefined) result.tabsOnFaulted = tabsOnFaulted;
    Object.assign(result.measures, context.measures);
    result.notes.push(...context.notes);
    rig.log(
      `${scenario.name}: lost ${result.lostRows} rows / ${result.lostDeliveries} deliveries, duplicated ${result.duplicatedRows} rows / ${result.duplicatedDeliveries} deliveries / ${result.duplicateFrames} frames; ` +
        Object.entries(result.measures)
          .map(([key, value]) => `${key}: ${value}`)
          .join('; '),
    );
    return result;
  } finally {
    rig.closeTabs(load);
    // Whatever the scenario left broken is repaired for the next one.
    rig.proxy.heal();
    await repair?.().catch((error: Error) =>
      rig.log(`repair after ${scenario.name} failed: ${error.message}`),
    );
    for (const child of [rig.stack.devServer, ...rig.stack.workers, ...rig.stack.servers]) {
      if (child.state === 'paused') child.resume();
      if (child.state === 'down')
        await child
          .start()
          .catch((error: Error) => rig.log(`could not restart ${child.name}: ${error.message}`));
    }
  }
}
