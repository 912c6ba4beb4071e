import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../config/config.js';

/**
 * The settings of each part, read by config/config.ts: the worker's tuning and internal port, the
 * reminder audit and the retention, the business calendar, the delivery server's connection caps.
 * Defaults, off where a setting can be, and bad values named (config.test.ts: the whole, the secrets
 * and `.env.example`).
 */
describe('configuration of each part', () => {
  it('worker tuning and dev server pragmas: SDK defaults, overrides, bad values named', () => {
    const { tuning } = loadConfig({}).worker;
    assert.equal(tuning.maxCachedWorkflows, undefined, 'the SDK sizes the cache from the heap');
    assert.equal(tuning.maxConcurrentWorkflowTaskExecutions, 40);
    assert.equal(tuning.stickyQueueScheduleToStartTimeoutSeconds, 10);
    const tuned = loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '12000', WORKER_WORKFLOW_POLLERS: '4' }).worker
      .tuning;
    assert.equal(tuned.maxCachedWorkflows, 12000);
    // Empty, as the commented lines of .env.example leave them: the SDK's default, not 0.
    const blank = loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '', WORKER_WORKFLOW_THREADS: '' }).worker.tuning;
    assert.equal(blank.maxCachedWorkflows, undefined);
    assert.equal(blank.workflowThreadPoolSize, undefined);
    assert.equal(loadConfig({ WORKER_WORKFLOW_THREADS: '2' }).worker.tuning.workflowThreadPoolSize, 2);
    assert.equal(tuned.maxConcurrentWorkflowTaskPolls, 4);
    assert.deepEqual(loadConfig({}).temporal.devServer.sqlitePragmas, [
      'journal_mode=wal',
      'synchronous=normal',
    ]);
    assert.deepEqual(loadConfig({ TEMPORAL_DEV_SQLITE_PRAGMAS: '' }).temporal.devServer.sqlitePragmas, []);
  });

  it('worker internal port and metrics settings: defaults, off, and bad values named', () => {
    const { internal, metricsBind } = loadConfig({}).worker;
    assert.deepEqual(
      { internal, metricsBind },
      { internal: { host: '0.0.0.0', port: 8001 }, metricsBind: '127.0.0.1:9464' },
    );
    const off = loadConfig({
      WORKER_INTERNAL_HOST: '127.0.0.1',
      WORKER_INTERNAL_PORT: '0',
      WORKER_METRICS_BIND: 'off',
    }).worker;
    assert.deepEqual(
      { internal: off.internal, metricsBind: off.metricsBind },
      { internal: { host: '127.0.0.1', port: 0 }, metricsBind: undefined },
    );
    assert.equal(loadConfig({ WORKER_METRICS_BIND: '[::]:9464' }).worker.metricsBind, '[::]:9464');
    for (const [variable, value] of [
      ['WORKER_INTERNAL_PORT', 'http'],
      ['WORKER_INTERNAL_PORT', '70000'],
      ['WORKER_INTERNAL_PORT', '-1'],
      ['WORKER_HEALTH_PORT', 'http'],
      ['WORKER_METRICS_BIND', '9464'],
      ['WORKER_METRICS_BIND', '0.0.0.0:0'],
      ['WORKER_METRICS_BIND', 'http://0.0.0.0:9464'],
      ['WORKER_MAX_WORKFLOW_TASKS', '1'],
      ['WORKER_MAX_CACHED_WORKFLOWS', '-5'],
      ['WORKER_STICKY_TIMEOUT_SECONDS', '0'],
      ['DATABASE_POOL_MAX', 'many'],
      ['TEMPORAL_DEV_SQLITE_PRAGMAS', 'journal_mode=wal;drop table x'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.problems.length, 1, error.message);
          assert.match(
            error.problems[0]!,
            new RegExp(`^${variable}: .* \\(got "${value.replace(/[/.]/g, '\\$&')}"\\)$`),
          );
          return true;
        },
        `${variable}=${value} is rejected`,
      );
    }
  });

  it('refuses a reminder audit lookback that would leave reminders between two runs unchecked', () => {
    assert.throws(
      () => loadConfig({ REMINDER_AUDIT_LOOKBACK: 'PT30M', REMINDER_AUDIT_GRACE: 'PT15M' }),
      /REMINDER_AUDIT_LOOKBACK: must be at least REMINDER_AUDIT_GRACE plus one hour/,
    );
    assert.equal(loadConfig({ REMINDER_AUDIT_LOOKBACK: 'PT1H15M' }).reminderAudit.lookback, 'PT1H15M');
  });

  it('notification retention: a year by default, off, at least a week, at most a century, never within the audit lookback', () => {
    assert.equal(loadConfig({}).notificationRetention, 'P1Y');
    assert.equal(loadConfig({ NOTIFICATION_RETENTION: '' }).notificationRetention, 'P1Y');
    assert.equal(loadConfig({ NOTIFICATION_RETENTION: 'off' }).notificationRetention, undefined);
    assert.equal(loadConfig({ NOTIFICATION_RETENTION: 'P7D' }).notificationRetention, 'P7D');
    assert.equal(loadConfig({ NOTIFICATION_RETENTION: 'P2Y6M' }).notificationRetention, 'P2Y6M');
    assert.equal(loadConfig({ NOTIFICATION_RETENTION: 'P100Y' }).notificationRetention, 'P100Y');
    // Longer than a century: its cutoff is before any date PostgreSQL takes (P300000Y) or the
    // run would fail every night; no retention that long is meant.
    for (const value of [
      'P6D',
      'PT1H',
      'P6DT23H59M',
      'P-1Y',
      'one year',
      '365',
      'OFF',
      'none',
      'P100Y1D',
      'P2000Y',
      'P9999Y',
      'P100000Y',
      'P300000Y',
    ]) {
      assert.throws(
        () => loadConfig({ NOTIFICATION_RETENTION: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.problems.length, 1);
          assert.match(
            error.problems[0]!,
            /^NOTIFICATION_RETENTION: must be an ISO 8601 duration of at least P7D and at most P100Y, such as P1Y or P90D, or off \(got "/,
          );
          return true;
        },
        `NOTIFICATION_RETENTION=${value} is refused`,
      );
    }
    // The audit sends again a reminder whose row is gone within its lookback: the retention must
    // keep a day more than that (domain/retention.ts, RETENTION_MARGIN_OVER_AUDIT).
    for (const value of ['P10D', 'P10DT23H']) {
      assert.throws(
        () => loadConfig({ REMINDER_AUDIT_LOOKBACK: 'P10D', NOTIFICATION_RETENTION: value }),
        /NOTIFICATION_RETENTION: must be at least REMINDER_AUDIT_LOOKBACK plus P1D, or the audit would send again reminders it removed \(got P10D/,
      );
    }
    const accepted = loadConfig({ REMINDER_AUDIT_LOOKBACK: 'P10D', NOTIFICATION_RETENTION: 'P11D' });
    assert.equal(accepted.notificationRetention, 'P11D');
    assert.equal(
      loadConfig({ REMINDER_AUDIT_LOOKBACK: 'P31D', NOTIFICATION_RETENTION: 'off' }).notificationRetention,
      undefined,
    );
  });

  it('business calendar: France by default, regions and closed days, off, unknown ones named', () => {
    assert.deepEqual(loadConfig({}).businessCalendar, { country: 'FR', closedDays: [] });
    assert.deepEqual(
      loadConfig({ BUSINESS_CALENDAR: 'FR-57', BUSINESS_CLOSED_DAYS: '2027-08-13, 12-24' }).businessCalendar,
      { country: 'FR', region: '57', closedDays: ['2027-08-13', '12-24'] },
    );
    assert.deepEqual(loadConfig({ BUSINESS_CALENDAR: 'DE-BY' }).businessCalendar, {
      country: 'DE',
      region: 'BY',
      closedDays: [],
    });
    assert.equal(loadConfig({ BUSINESS_CALENDAR: 'off' }).businessCalendar, null);
    for (const [name, value] of [
      ['BUSINESS_CALENDAR', 'XX'],
      ['BUSINESS_CALENDAR', 'FR-99'],
      ['BUSINESS_CALENDAR', 'fr'],
      ['BUSINESS_CLOSED_DAYS', '2027-02-30'],
      ['BUSINESS_CLOSED_DAYS', '13-01'],
      ['BUSINESS_CLOSED_DAYS', 'christmas'],
      ['BUSINESS_CLOSED_DAYS', Array.from({ length: 101 }, () => '12-24').join(',')],
    ] as const) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: Error) => error.message.includes(`${name}: `),
        `${name}=${value.slice(0, 40)}`,
      );
    }
    // 29 February is a yearly closed day in leap years only.
    assert.deepEqual(loadConfig({ BUSINESS_CLOSED_DAYS: '02-29' }).businessCalendar?.closedDays, ['02-29']);
  });

  it('WORKER_HEALTH_PORT, the deprecated name of WORKER_INTERNAL_PORT, still sets the port, with a warning', () => {
    const current = loadConfig({ WORKER_INTERNAL_PORT: '9101' });
    assert.equal(current.worker.internal.port, 9101);
    assert.deepEqual(current.deprecatedSettings, []);
    const deprecated = loadConfig({ WORKER_HEALTH_PORT: '9102' });
    assert.equal(deprecated.worker.internal.port, 9102);
    assert.deepEqual(deprecated.deprecatedSettings, [
      { name: 'WORKER_HEALTH_PORT', use: 'WORKER_INTERNAL_PORT' },
    ]);
    // Both, as during a migration: the same port is fine, two ports are refused by name.
    assert.equal(
      loadConfig({ WORKER_INTERNAL_PORT: '9103', WORKER_HEALTH_PORT: '9103' }).worker.internal.port,
      9103,
    );
    assert.throws(
      () => loadConfig({ WORKER_INTERNAL_PORT: '9104', WORKER_HEALTH_PORT: '9105' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.problems.map((problem) => problem.split(':')[0]),
          ['WORKER_HEALTH_PORT'],
        );
        return true;
      },
    );
  });

  it('connection caps: defaults, 0 turns one off, bad values named', () => {
    assert.deepEqual(loadConfig({}).server.connectionLimits, {
      maxSocketsPerUser: 20,
      upgradesPerAddress: { perSecond: 20, burst: 100 },
      maxOpeningSockets: 4000,
    });
    assert.deepEqual(
      loadConfig({
        WS_MAX_SOCKETS_PER_USER: '0',
        WS_UPGRADES_PER_SECOND_PER_ADDRESS: '0',
        WS_UPGRADE_BURST_PER_ADDRESS: '5',
        WS_MAX_OPENING_SOCKETS: '0',
      }).server.connectionLimits,
      { maxSocketsPerUser: 0, upgradesPerAddress: { perSecond: 0, burst: 5 }, maxOpeningSockets: 0 },
    );
    for (const [variable, value] of [
      ['WS_MAX_SOCKETS_PER_USER', '-1'],
      ['WS_MAX_SOCKETS_PER_USER', 'many'],
      ['WS_UPGRADES_PER_SECOND_PER_ADDRESS', '-2'],
      ['WS_UPGRADE_BURST_PER_ADDRESS', '0'],
      ['WS_MAX_OPENING_SOCKETS', '1.5'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.length === 1 &&
          error.problems[0]!.startsWith(`${variable}: `),
        `${variable}=${value} is rejected`,
      );
    }
  });
});
