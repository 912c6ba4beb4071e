import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { machineFacts } from '../../bench/report.js';
import { FaultRig, progress, seconds, type ScenarioResult } from './harness.js';
import { runScenario, scenarioNames, scenarios } from './scenarios.js';

/**
 * `npm run faults`: every fault scenario (test/faults/scenarios.ts) under a load of
 * FAULTS_DOSSIERS dossiers each (default 1000; a comma-separated list runs each size on a fresh
 * rig), FAULTS_TABS tabs per user on each server (default 4: at 1,000 dossiers, 250 users and
 * 1,000 tabs on each server), then writes docs/faults.md (FAULTS_OUT elsewhere). Exits 1 if
 * anything was lost, duplicated or never recovered. FAULTS_SCENARIOS picks scenarios.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const sizes = (process.env.FAULTS_DOSSIERS ?? '1000').split(',').map((size) => Number(size.trim()));
if (sizes.some((size) => !Number.isInteger(size) || size < 8))
  throw new Error('FAULTS_DOSSIERS: whole numbers ≥ 8');
const tabsPerServer = Number(process.env.FAULTS_TABS ?? 4);
const chosen = (process.env.FAULTS_SCENARIOS ?? scenarioNames.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
for (const name of chosen) if (!scenarioNames.includes(name)) throw new Error(`Unknown scenario ${name}`);
const out = process.env.FAULTS_OUT ?? `${root}docs/faults.md`;

interface Run {
  size: number;
  results: ScenarioResult[];
  failures: Array<{ scenario: string; error: string }>;
  minutes: number;
}

const clean = (r: ScenarioResult): boolean =>
  r.lostRows +
    r.lostDeliveries +
    r.duplicatedRows +
    r.duplicatedDeliveries +
    r.duplicateFrames +
    r.unexpectedRows +
    r.outOfOrder +
    r.foreignDeliveries +
    r.planMismatches ===
    0 && r.recoveryMs !== undefined;

async function runSize(size: number): Promise<Run> {
  const started = Date.now();
  const rig = await FaultRig.start({ dossiers: size, tabsPerServer });
  const results: ScenarioResult[] = [];
  const failures: Run['failures'] = [];
  try {
    for (const scenario of scenarios.filter((s) => chosen.includes(s.name))) {
      try {
        results.push(await runScenario(rig, scenario));
      } catch (error) {
        progress(`${scenario.name} failed: ${String(error)}`);
        failures.push({
          scenario: scenario.name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  } finally {
    await rig.stop();
  }
  return { size, results, failures, minutes: (Date.now() - started) / 60_000 };
}

const cell = (value: string): string => value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = (headers: string[], rows: string[][]): string =>
  [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');

function resultsTable(run: Run): string {
  const rows = run.results.map((r) => [
    `\`${r.scenario}\``,
    `${r.dossiers} dossiers, ${r.expectedRows} notifications, ${r.tabs} tabs${r.tabsOnFaulted !== undefined ? ` (${r.tabsOnFaulted} on the faulted server)` : ''}`,
    `${r.lostRows} / ${r.lostDeliveries}`,
    `${r.duplicatedRows} / ${r.duplicatedDeliveries} / ${r.duplicateFrames}`,
    r.recoveryMs === undefined ? '**never**' : seconds(r.recoveryMs),
    `${seconds(r.latenessP50Ms)} / ${seconds(r.latenessMaxMs)}`,
    r.outOfOrder + r.foreignDeliveries + r.unexpectedRows + r.planMismatches === 0
      ? clean(r)
        ? 'yes'
        : '**no**'
      : `**no**: ${r.outOfOrder} out of order, ${r.foreignDeliveries} foreign, ${r.unexpectedRows} unexpected rows, ${r.planMismatches} plans`,
  ]);
  for (const failure of run.failures)
    rows.push([`\`${failure.scenario}\``, '—', '—', '—', `**failed**: ${failure.error}`, '—', '**no**']);
  return table(
    [
      'Scenario',
      'Load',
      'Lost (rows / deliveries)',
      'Duplicated (rows / deliveries / frames)',
      'Recovery (fault → last delivery)',
      'Alert lateness p50 / max',
      'Exact',
    ],
    rows,
  );
}

function details(run: Run): string {
  return run.results
    .map((r) => {
      const lines = [`- \`${r.scenario}\`: ${r.fault}.`];
      for (const [key, value] of Object.entries(r.measures)) lines.push(`  - ${key}: ${value}`);
      for (const note of r.notes) lines.push(`  - ${note}`);
      for (const example of r.examples.slice(0, 5)) lines.push(`  - e.g. ${example}`);
      return lines.join('\n');
    })
    .join('\n');
}

async function main(): Promise<void> {
  const runs: Run[] = [];
  for (const size of sizes) {
    progress(`${size} dossiers per scenario, ${tabsPerServer} tabs per user on each server`);
    runs.push(await runSize(size));
  }
  const machine = await machineFacts();
  const ok = runs.every((run) => run.failures.length === 0 && run.results.every(clean));
  const sections = runs.map((run) =>
    [
      `## ${run.size.toLocaleString('en-US')} dossiers per scenario`,
      `${run.results[0]?.users ?? '?'} users per scenario, each with ${tabsPerServer} tab${tabsPerServer === 1 ? '' : 's'} on each server; the whole run took ${run.minutes.toFixed(1)} min.`,
      resultsTable(run),
      READING,
      '### What each scenario measured',
      details(run),
    ].join('\n\n'),
  );
  const markdown = [
    '# Fault injection under load',
    `Generated by \`npm run faults\` (\`FAULTS_DOSSIERS=${sizes.join(',')}\`, \`FAULTS_TABS=${tabsPerServer}\`) on ${machine.Date}, commit ${machine['Git commit']}. ${ok ? 'Nothing was lost or duplicated, and every scenario recovered.' : '**Some scenario lost, duplicated or did not recover: see the tables.**'}`,
    METHOD,
    ...sections,
    '## Machine and versions',
    table(
      ['What', 'Version or value'],
      Object.entries(machine).map(([key, value]) => [key, value]),
    ),
  ].join('\n\n');
  const config = (await resolveConfig(out)) ?? {};
  await writeFile(out, await format(markdown, { ...config, parser: 'markdown' }));
  progress(`written: ${out}`);
  if (!ok) process.exitCode = 1;
}

/** What the figures come from: the settings and mechanisms behind each scenario's recovery. */
const READING = `**Reading the table.** A worker SIGKILLed or frozen gives its tasks back only at their
timeouts: its cached workflows' tasks move to the shared queue after the sticky timeout
(\`WORKER_STICKY_TIMEOUT_SECONDS\`, 10 s), an activity it had started is retried on the other
worker after its start-to-close timeout (30 s): the slowest alert of \`worker-sigkill\` and
\`worker-sigstop\` is about that late, and a frozen worker's late completion is refused by
Temporal or skipped by the idempotency key. Tabs of a killed server come back with the library's
backoff (0.5 s doubling to 30 s, jittered) through the server's opening cap (503 refusals are
retried), and the reconnection storm shares the two cores with the workers. Alerts due while the
dev server is down fire when it is back, behind the backlog. During the database outage the
activities fail and Temporal retries them (1 s, doubling); server 2's catch-up delivers what
committed before its LISTEN was back. A partition is noticed by the LISTEN health query within
15 s; nothing reaches the cut server's tabs until the network heals, so its recovery is the length
of the cut.`;

const METHOD = `## Method

[\`test/faults/\`](../test/faults/) starts the real pieces as separate processes
([\`bench/stack.ts\`](../bench/stack.ts), [\`bench/processes.ts\`](../bench/processes.ts)): the
Temporal CLI dev server on an SQLite file (WAL, as \`npm start\`), a database of its own on the
machine's PostgreSQL, two production workers (\`worker/main.ts\`) and two production delivery
servers (\`server/main.ts\`); the second server reaches PostgreSQL through a loopback TCP proxy
([\`tcp-proxy.ts\`](../test/faults/tcp-proxy.ts)) that a scenario can cut and heal.

Each scenario has a load of its own: dossiers created through the client API with a \`dueAt\`
a little after their creation should end, so that their \`overdue\` alerts fall due for real over
a window of 25 ms per dossier (at least 2 s); four dossiers per user, owners in a zone where it
is about 13:00 (no 08:00 reminder nor 18:00 report in the run). Before the dossiers, each user
opens tabs on both servers: the real client library
([\`web/client/notify-client.ts\`](../web/client/notify-client.ts) under Node,
[\`tabs.ts\`](../test/faults/tabs.ts)), starting at cursor \`0\` as the bell does for a user with
no notification, reconnecting with the library's backoff and \`?lastId=\`. A stand-in for a load
balancer sends half the tabs back to their own server (pinned) and the other half to the other
server after a failed attempt (failover).

The fault strikes once a quarter of the load's alerts are stored (10 % for the dev server, whose
load is spread over a longer window so that alerts fall due while it is down and after), while the
rest fire. The scenario repairs what it broke (restart, SIGCONT, heal).

**Recovery** is the time from the fault to the last expected notification on every tab. It
includes the alerts that were not yet due at the fault: compare with \`baseline\`, the same load
with no fault.

**The audit** ([\`audit.ts\`](../test/faults/audit.ts)). Expected: per dossier, its
\`created\` notice and its \`overdue\` alert (the plan of a \`dueAt\` a few seconds ahead: j-7, j-1
and j-0 are past, skipped; \`overdue_critical\` is three days later). First every dossier's
\`reminderPlan\` query must say \`overdue\` sent and \`overdue_critical\` pending (so no activity of
it can store anything more), then frames in flight get 1 s. Then, from the rows and the tabs:

- **lost rows**: expected (dossier, kind) keys with no row; **duplicated rows**: a second row for
  a key;
- **lost deliveries**: per tab, its user's rows that the library never delivered;
  **duplicated deliveries**: delivered twice; **duplicated frames**: notification frames the wire
  carried twice to a tab (the library would drop the repeat); also counted and required to be
  zero: deliveries out of id order, another user's notifications, unexpected rows, plans that
  disagree.

[\`test/integration/faults.test.ts\`](../test/integration/faults.test.ts) runs the fast subset in
\`npm test\` (\`worker-sigkill\` and \`server-sigkill\` at 150 dossiers, one tab per user per
server; \`FAULTS_SCENARIOS\`, \`FAULTS_DOSSIERS\` to change) and asserts every count is zero.
Settings: \`FAULTS_PG_DOWN_S\` (3), \`FAULTS_PG_HOLD_S\` (3), \`FAULTS_DEV_DOWN_S\` (10),
\`FAULTS_PAUSE_S\` (40), \`FAULTS_PARTITION_S\` (20), \`FAULTS_PARTITION_NOTICE_S\` (20: the health check bounds it at 15 s).

| Scenario | The fault |
| --- | --- |
${scenarios.map((s) => `| \`${s.name}\` | ${cell(s.fault)} |`).join('\n')}

The partition: the proxy drops every byte either way without closing anything, and holds new
connections; at the heal, a connection that lost bytes stays dead (its PostgreSQL side closed, its
client side open and silent, as after a long partition), the others go on. Before the LISTEN
health query (server/hub/notification-listener.ts: the first LISTEN re-issued every 10 s, 5 s to
answer), the cut server never noticed and its tabs lost every notification from the cut on. A
tab that connected to the cut server during the partition waited on a pooled connection the
partition had killed, for ever; the statement deadline (\`DATABASE_STATEMENT_TIMEOUT_MS\`, 30 s, plus
5 s for the reply) now fails that read, the socket closes with 1001 and the tab reconnects
(test/faults/opening-read-partition.test.ts).`;

await main();
