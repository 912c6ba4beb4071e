import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FaultRig, seconds, type ScenarioResult } from '../faults/harness.js';
import { runScenario, scenarioNames, scenarios } from '../faults/scenarios.js';

/**
 * Fault injection (docs/faults.md), the fast subset: the real pieces as separate processes
 * (Temporal dev server on an SQLite file, PostgreSQL, two workers, two delivery servers), a load of
 * dossiers whose alerts fire for real while tabs of the client library listen on both servers, and
 * under that load: a worker SIGKILLed and restarted, a delivery server SIGKILLed and restarted.
 * Each ends with the audit: exactly one row per expected notification, each delivered once to every
 * tab of its user, in id order. `npm run faults` runs every scenario at ~1,000 dossiers and writes
 * docs/faults.md.
 *
 * FAULTS_DOSSIERS (default 150) sizes each load; FAULTS_SCENARIOS picks scenarios (comma-separated
 * names from test/faults/scenarios.ts).
 */

const DOSSIERS = Number(process.env.FAULTS_DOSSIERS ?? 150);
const CHOSEN = (process.env.FAULTS_SCENARIOS ?? 'worker-sigkill,server-sigkill')
  .split(',')
  .map((name) => name.trim());
for (const name of CHOSEN) if (!scenarioNames.includes(name)) throw new Error(`Unknown scenario ${name}`);

let rig: FaultRig;

before(async () => {
  rig = await FaultRig.start({ dossiers: DOSSIERS });
});
after(async () => {
  await rig?.stop();
});

function assertClean(result: ScenarioResult): void {
  const context = `${result.scenario}: ${JSON.stringify(result.measures)}; ${result.notes.join('; ')}; e.g. ${result.examples.join(' | ')}`;
  assert.equal(result.lostRows, 0, `rows lost; ${context}`);
  assert.equal(result.duplicatedRows, 0, `rows duplicated; ${context}`);
  assert.equal(result.unexpectedRows, 0, `unexpected rows; ${context}`);
  assert.equal(result.planMismatches, 0, `plans that disagree; ${context}`);
  assert.equal(result.lostDeliveries, 0, `deliveries lost; ${context}`);
  assert.equal(result.duplicatedDeliveries, 0, `deliveries duplicated; ${context}`);
  assert.equal(result.duplicateFrames, 0, `frames sent twice; ${context}`);
  assert.equal(result.outOfOrder, 0, `deliveries out of order; ${context}`);
  assert.equal(result.foreignDeliveries, 0, `another user's notifications delivered; ${context}`);
  assert.ok(result.recoveryMs !== undefined, `never fully recovered; ${context}`);
}

describe(`fault injection under load (${DOSSIERS} dossiers per scenario)`, () => {
  for (const scenario of scenarios.filter((s) => CHOSEN.includes(s.name))) {
    it(`${scenario.name}: ${scenario.fault}`, { timeout: 600_000 }, async () => {
      const result = await runScenario(rig, scenario);
      process.stderr.write(
        `${scenario.name}: recovery ${seconds(result.recoveryMs)}, lateness max ${seconds(result.latenessMaxMs)}; ${JSON.stringify(result.measures)}; notes: ${result.notes.join(' | ')}\n`,
      );
      assertClean(result);
      if (scenario.name === 'server-sigkill') {
        assert.ok((result.tabsOnFaulted ?? 0) > 0, 'tabs were connected to the killed server');
      }
      if (scenario.name === 'partition') {
        assert.doesNotMatch(
          result.measures['LISTEN loss noticed after'] ?? '',
          /not within/,
          'the partition was noticed',
        );
      }
    });
  }
});
