import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import pg from 'pg';
import { BENCH_APPLICATION_NAME, sleep, wallClock } from '../../bench/stack.js';
import {
  DAILY_REPORT_SCHEDULE_ID,
  HOURLY_URGENT_CHECK_SCHEDULE_ID,
  REMINDER_AUDIT_SCHEDULE_ID,
} from '../../client/schedules.js';
import { LISTEN_APPLICATION_NAME } from '../../server/hub/notification-listener.js';
import type { ProcessHandle } from '../../bench/processes.js';
import {
  defaultWindowMs,
  logSince,
  seconds,
  sizeOf,
  waitUntil,
  type FaultRig,
  type Load,
  type ScenarioResult,
} from './harness.js';

/**
 * The fault scenarios (docs/faults.md). Each one prepares its own load on the shared rig, waits
 * until a quarter of its alerts are stored (the reminders are firing), strikes, repairs what it
 * broke, then waits for full recovery and audits (test/faults/harness.ts). Durations come from the
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
  /** Over how long the load's alerts fall due (default: defaultWindowMs). */
  windowMs?: (dossiers: number) => number;
  /** Strike once this fraction of the alerts is stored (default 0.25). */
  strikeAt?: number;
  /** Processes whose warnings and errors from the fault on go to the notes. */
  watchLogs?: (rig: FaultRig) => ProcessHandle[];
}

const envSeconds = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return value * 1000;
};

/** A worker's activity start-to-close timeout (workflows/dossier-workflow.ts). */
const ACTIVITY_TIMEOUT_MS = 30_000;

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
    watchLogs: (rig) => rig.stack.workers,
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
  {
    name: 'postgres-outage',
    watchLogs: (rig) => [...rig.stack.workers, ...rig.stack.servers],
    fault:
      "the service's database refuses connections for 3 s (ALLOW_CONNECTIONS false) and every backend of it is terminated (workers, servers, LISTEN); server 2 gets back 3 s after the others",
    async inject({ rig, load, measures, notes }) {
      const downMs = envSeconds('FAULTS_PG_DOWN_S', 3);
      const holdMs = envSeconds('FAULTS_PG_HOLD_S', 3);
      const database = rig.stack.databaseName;
      const failedBefore = await rig.workerCounter('temporal_activity_execution_failed');
      const visible = async () =>
        new Set(
          (
            await rig.stack.query<{ id: string }>(
              'select id::text as id from notifications where dossier_id like $1',
              [`${load.prefix}-%`],
            )
          ).map((row) => row.id),
        );
      // Server 2 reaches PostgreSQL through the proxy: it gets back `holdMs` after the others,
      // so that alerts commit while its LISTEN is certainly down.
      rig.proxy.holdNewConnections(downMs + holdMs);
      const at = wallClock();
      // Only this database: the cluster is shared with other work. New connections are refused
      // ("not currently accepting connections"), existing ones ended, the harness's own aside.
      // From another database: a database cannot refuse connections while one works in it.
      const adminUrl = new URL(rig.stack.databaseUrl);
      adminUrl.pathname = '/postgres';
      const admin = new pg.Client({ connectionString: adminUrl.toString() });
      await admin.connect();
      let killed: Array<{ application_name: string }>;
      try {
        await admin.query(`alter database ${database} with allow_connections false`);
        try {
          killed = (
            await admin.query<{ application_name: string }>(
              `select application_name, pg_terminate_backend(pid) from pg_stat_activity
                where datname = $1 and backend_type = 'client backend' and coalesce(application_name, '') <> $2`,
              [database, BENCH_APPLICATION_NAME],
            )
          ).rows;
          await sleep(Math.max(0, at + downMs - wallClock()));
        } finally {
          await admin.query(`alter database ${database} with allow_connections true`);
        }
      } finally {
        await admin.end();
      }
      const upAt = wallClock();
      const before = await visible();
      const listeners = killed.filter((row) => row.application_name === LISTEN_APPLICATION_NAME).length;
      measures['backends terminated (of them LISTEN)'] = `${killed.length} (${listeners})`;
      measures['database refused connections for'] = seconds(upAt - at);
      await sleep(Math.max(0, upAt + holdMs - 300 - wallClock()));
      const during = await visible();
      const committedWhileDown = [...during].filter((id) => !before.has(id)).length;
      measures["alerts committed while server 2's LISTEN was still down"] = String(committedWhileDown);
      if (committedWhileDown === 0)
        notes.push("no alert committed while server 2's LISTEN was down: that case was not exercised");
      for (const server of rig.stack.servers) {
        await waitUntil(
          `${server.name}'s LISTEN back`,
          async () => (await rig.listenConnected(server.healthUrl)) === true,
          { timeoutMs: 60_000, intervalMs: 50 },
        );
      }
      measures['both LISTEN connections back after'] = sinceFault(at);
      return {
        at,
        after: async () => {
          const failed = (await rig.workerCounter('temporal_activity_execution_failed')) - failedBefore;
          measures['activity attempts failed and retried'] = String(failed);
          if (failed === 0) notes.push('no activity attempt failed: the retry path was not exercised');
        },
      };
    },
  },
  {
    name: 'devserver-restart',
    fault: 'stop the Temporal dev server (SIGTERM), start it again on its SQLite file',
    // Some alerts fall due while it is down, the others after the restart.
    windowMs: (dossiers) => envSeconds('FAULTS_DEV_DOWN_S', 10) + Math.max(10_000, defaultWindowMs(dossiers)),
    strikeAt: 0.1,
    watchLogs: (rig) => [...rig.stack.workers, ...rig.stack.servers],
    async inject({ rig, load, measures, notes }) {
      const downMs = envSeconds('FAULTS_DEV_DOWN_S', 10);
      const connection = await Connection.connect({ address: rig.stack.temporalAddress });
      const client = new Client({ connection, namespace: rig.stack.namespace });
      // A probe schedule every 2 s, whose runs nobody serves (a task queue without workers):
      // that it goes on firing after the restart is what the service's schedules rely on.
      const probe = await client.schedule.create({
        scheduleId: `faults-probe-${load.prefix}`,
        spec: { intervals: [{ every: '2 seconds' }] },
        action: {
          type: 'startWorkflow',
          workflowType: 'faultsProbe',
          workflowId: `faults-probe-${load.prefix}`,
          taskQueue: 'faults-probe',
          workflowExecutionTimeout: '10 seconds',
        },
        policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
      });
      const described = async (id: string) => client.schedule.getHandle(id).describe();
      const serviceSchedules = [
        HOURLY_URGENT_CHECK_SCHEDULE_ID,
        DAILY_REPORT_SCHEDULE_ID,
        REMINDER_AUDIT_SCHEDULE_ID,
      ];
      const nextBefore = new Map<string, number>();
      for (const id of serviceSchedules)
        nextBefore.set(id, (await described(id)).info.nextActionTimes[0]?.getTime() ?? NaN);

      const dev = rig.stack.devServer;
      const at = wallClock();
      await dev.stop();
      await sleep(Math.max(0, at + downMs - wallClock()));
      await dev.start();
      const restartedAt = wallClock();
      measures['dev server down for'] = seconds(restartedAt - at);
      return {
        at,
        after: async () => {
          try {
            // Alerts due while it was down fire late; those due after the restart on time.
            const rows = await rig.stack.query<{ due: number; late: number }>(
              `select extract(epoch from scheduled_for)::float8 * 1000 as due,
                      extract(epoch from created_at - scheduled_for)::float8 * 1000 as late
                 from notifications where kind = 'overdue' and dossier_id like $1`,
              [`${load.prefix}-%`],
            );
            const lateness = (from: number, to: number) => {
              const late = rows
                .filter((r) => r.due >= from && r.due < to)
                .map((r) => r.late)
                .sort((a, b) => a - b);
              const p50 = late[Math.floor(late.length / 2)];
              return `${late.length}, ${seconds(p50)}, ${seconds(late.at(-1))}`;
            };
            measures['alerts due while it was down: count, lateness p50, max'] = lateness(at, restartedAt);
            measures['alerts due after the restart: count, lateness p50, max'] = lateness(
              restartedAt,
              Infinity,
            );
            const probeRan = await waitUntil(
              'the probe schedule to fire after the restart',
              async () => {
                const info = (await probe.describe()).info;
                const next = info.recentActions.find((action) => action.takenAt.getTime() > restartedAt);
                return next && next.takenAt.getTime() - restartedAt;
              },
              { timeoutMs: 30_000, intervalMs: 500 },
            );
            measures['probe schedule fired again after the restart'] = `+${seconds(probeRan)}`;
            for (const id of serviceSchedules) {
              const info = await described(id);
              const next = info.info.nextActionTimes[0]?.getTime();
              if (info.state.paused || next === undefined || next < restartedAt)
                notes.push(
                  `schedule ${id} after the restart: paused ${info.state.paused}, next ${String(next)}`,
                );
              else if (next !== nextBefore.get(id))
                notes.push(`schedule ${id}: next action moved from ${String(nextBefore.get(id))} to ${next}`);
            }
            measures['service schedules after the restart'] = notes.some((n) => n.startsWith('schedule '))
              ? 'see notes'
              : 'all three there, not paused, same next action';
          } finally {
            await probe.delete().catch(() => undefined);
            await connection.close();
          }
        },
      };
    },
  },
  {
    name: 'worker-sigstop',
    fault: `SIGSTOP worker 1 past its activity timeout (${ACTIVITY_TIMEOUT_MS / 1000} s), then SIGCONT`,
    watchLogs: (rig) => rig.stack.workers,
    async inject({ rig, measures }) {
      const pauseMs = envSeconds('FAULTS_PAUSE_S', ACTIVITY_TIMEOUT_MS / 1000 + 10);
      const worker = rig.stack.workers[0]!;
      const skippedBefore = await rig.workerCounter('normx_notify_notifications_duplicates_skipped_total');
      const at = wallClock();
      worker.pause();
      await sleep(pauseMs);
      worker.resume();
      measures['worker 1 paused for'] = sinceFault(at);
      return {
        at,
        after: async () => {
          await worker.waitReady(Date.now() + 60_000);
          const skipped =
            (await rig.workerCounter('normx_notify_notifications_duplicates_skipped_total')) - skippedBefore;
          measures['stores skipped by the idempotency key'] = String(skipped);
        },
      };
    },
  },
  {
    name: 'partition',
    fault:
      'silent partition between delivery server 2 and PostgreSQL (loopback TCP proxy: bytes dropped, nothing closed), healed later',
    tabsOnFaulted: ({ load }) => load.tabs.filter((tab) => tab.connected && tab.server === 1).length,
    watchLogs: (rig) => [rig.stack.servers[1]!],
    async inject({ rig, measures, notes }) {
      const minCutMs = envSeconds('FAULTS_PARTITION_S', 20);
      const noticeWithinMs = envSeconds('FAULTS_PARTITION_NOTICE_S', 20);
      const server = rig.stack.servers[1]!;
      const at = wallClock();
      rig.proxy.cut();
      let noticedAfter: number | undefined;
      try {
        await waitUntil(
          'server 2 to notice that its LISTEN connection is gone',
          async () => (await rig.listenConnected(server.healthUrl)) === false,
          { timeoutMs: noticeWithinMs, intervalMs: 100 },
        );
        noticedAfter = wallClock() - at;
      } catch {
        notes.push(
          `server 2 did not notice the partition within ${seconds(noticeWithinMs)}: its LISTEN gauge stayed 1 on a connection that carries nothing`,
        );
      }
      measures['LISTEN loss noticed after'] =
        noticedAfter === undefined ? `not within ${seconds(noticeWithinMs)}` : seconds(noticedAfter);
      await sleep(Math.max(0, at + minCutMs - wallClock()));
      const healedAt = wallClock();
      rig.proxy.heal();
      measures['partition lasted'] = seconds(healedAt - at);
      try {
        await waitUntil(
          "server 2's LISTEN back",
          async () => noticedAfter !== undefined && (await rig.listenConnected(server.healthUrl)) === true,
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        measures['LISTEN back after the heal'] = seconds(wallClock() - healedAt);
      } catch {
        measures['LISTEN back after the heal'] = 'never noticed it was gone';
      }
      measures['proxy: connections dead after the heal'] = String(rig.proxy.stats.deadAfterHeal);
      return {
        at,
        // A feed that never noticed stays on its dead connection: the next scenarios need a live one.
        repair: async () => {
          if (noticedAfter !== undefined) return;
          await server.stop();
          await server.start();
        },
      };
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
