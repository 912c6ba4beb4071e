// The fault scenarios in their order, and how one runs: its load, the fault, recovery, the audit.
import { wallClock } from '../../bench/stack.js';
import type { ScenarioResult } from './audit.js';
import type { FaultRig } from './harness.js';
import { logSince, sizeOf } from './process-logs.js';
import { seconds } from './progress.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { devserverRestart, partition, postgresOutage } from './scenarios-dependencies.js';
import { baseline, serverSigkill, workerSigkill, workerSigstop } from './scenarios-processes.js';

export type { Scenario, ScenarioContext } from './scenario.js';

/**
 * The fault scenarios (docs/faults.md; written in scenarios-processes.ts and
 * scenarios-dependencies.ts). Each one prepares its own load on the shared rig, waits
 * until a quarter of its alerts are stored (the reminders are firing), strikes, repairs what it
 * broke, then waits for full recovery and audits (test/faults/audit.ts). Durations come from the
 * environment so that the full run and the CI subset share the code.
 */

export const scenarios: Scenario[] = [
  baseline,
  workerSigkill,
  serverSigkill,
  postgresOutage,
  devserverRestart,
  workerSigstop,
  partition,
];

export const scenarioNames = scenarios.map((scenario) => scenario.name);

/** Runs one scenario on the rig: its load, the fault, recovery, the audit. */
export async function runScenario(
  rig: FaultRig,
  scenario: Scenario,
  { recoveryTimeoutMs }: { recoveryTimeoutMs?: number } = {},
): Promise<ScenarioResult> {
  const load = await rig.prepareLoad(scenario.name, {
    ...(scenario.windowMs && { windowMs: scenario.windowMs(rig.options.dossiers) }),
  });
  const context: ScenarioContext = { rig, load, measures: {}, notes: [] };
  let repair: (() => Promise<void>) | undefined;
  try {
    await rig.whileFiring(load, scenario.strikeAt);
    const tabsOnFaulted = scenario.tabsOnFaulted?.(context);
    const watched = scenario.watchLogs?.(rig) ?? [];
    const offsets = await Promise.all(watched.map((child) => sizeOf(child.logFile)));
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
    for (const [index, child] of watched.entries()) {
      const lines = await logSince(child.logFile, offsets[index]!);
      if (lines.length > 0)
        context.notes.push(
          `${child.name} logged: ${lines
            .slice(0, 4)
            .map((line) => `${line.count}× "${line.message}"`)
            .join(', ')}`,
        );
    }
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
