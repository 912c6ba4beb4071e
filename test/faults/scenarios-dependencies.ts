// The fault scenarios of what the service depends on: PostgreSQL, the Temporal dev server, the network.
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import pg from 'pg';
import { BENCH_APPLICATION_NAME, sleep, wallClock } from '../../bench/stack.js';
import {
  DAILY_REPORT_SCHEDULE_ID,
  HOURLY_URGENT_CHECK_SCHEDULE_ID,
  REMINDER_AUDIT_SCHEDULE_ID,
} from '../../client/schedules.js';
import { LISTEN_APPLICATION_NAME } from '../../server/hub/notification-listener.js';
import { defaultWindowMs } from './harness.js';
import { seconds, waitUntil } from './progress.js';
import { envSeconds, sinceFault, type Scenario } from './scenario.js';

export const postgresOutage: Scenario = {
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
};

export const devserverRestart: Scenario = {
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
};

export const partition: Scenario = {
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
};
