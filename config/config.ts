import { Duration } from 'luxon';
import type { z } from 'zod';
import { hs256SecretBytes } from '../domain/hs256-secret.js';
import { AUDIT_PERIOD_MS } from '../domain/reminder-audit.js';
import type { ReminderPolicy } from '../domain/reminder-plan.js';
import type { CalendarSetting } from '../domain/business-days.js';
import { calendarSetting } from './business-calendar-setting.js';
import { durationMs, minimumRetentionMs, RETENTION_MARGIN_OVER_AUDIT } from '../domain/retention.js';
import { envSchema } from './env-schema.js';

/**
 * Every setting of the service, read once from environment variables at start-up.
 * A bad value stops the process with a message naming the variable (see `loadConfig`).
 */
export { configVariables } from './env-schema.js';

export interface AppConfig {
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  database: {
    url: string | undefined;
    pgliteDataDir: string;
    pglitePort: number;
    poolMax: number;
    /** Each statement's deadline; a reply NETWORK_GRACE_MS later drops its connection (0: none). */
    statementTimeoutMs: number;
  };
  temporal: {
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    /** `npm start`'s embedded dev server; `sqlitePragmas` as `name=value` (docs/operations.md weighs them). */
    devServer: { dbFile: string; port: number; uiPort: number; sqlitePragmas: string[] };
  };
  schedules: {
    /** Zone of the hourly schedule. */
    timeZone: string;
    /** Local time of the daily report, in each user's own zone. */
    dailyReport: { hour: number; minute: number };
    /** ISO duration: how late a report is still sent after a run missed its time (outage). */
    dailyReportCatchUpWindow: string;
  };
  reminderPolicy: ReminderPolicy;
  /** Whose holidays and closed days move reminders to the previous business day; null: none do. */
  businessCalendar: CalendarSetting | null;
  /** The hourly reminder audit (domain/reminder-audit.ts). */
  reminderAudit: {
    /** How far back it looks for reminders owed (ISO duration). */
    lookback: string;
    /** How long a reminder is given to arrive before it counts as missed (ISO duration). */
    grace: string;
  };
  /**
   * How long notifications are kept (ISO duration; undefined: `off`, kept for ever): the daily
   * retention removes older ones (docs/operations.md, "Retention").
   */
  notificationRetention: string | undefined;
  defaults: { timeZone: string; locale: 'fr' | 'en' };
  server: {
    host: string;
    port: number;
    /** Where /healthz and /metrics listen (port 0: any free port). */
    internal: { host: string; port: number };
    auth: {
      hs256Secret: string | undefined;
      jwksUrl: string | undefined;
      issuer: string | undefined;
      audience: string | undefined;
      clockToleranceSeconds: number;
      serviceScope: string;
    };
    /** `*` allows any Origin. */
    allowedOrigins: string[];
    maxPayloadBytes: number;
    idleTimeoutSeconds: number;
    /** A socket with more than this waiting to be sent is cut off (it catches up on reconnect). */
    maxBufferedBytes: number;
    rateLimit: { perSecond: number; burst: number };
    tokenExpiryWarningSeconds: number;
    /** What the preferences routes show of the reminder policy: the default j-N hour (`HH:mm`) and the offsets. */
    reminders: { defaultReminderTime: string; offsetsDays: number[] };
    /** Refusals answer the upgrade request (catalog codes too_many_sockets, too_many_upgrades, server_busy). */
    connectionLimits: {
      /** Open sockets per user (0: no cap). */
      maxSocketsPerUser: number;
      /**
       * Upgrade attempts per remote address, as a token bucket (perSecond 0: no limit). The
       * address is the TCP peer's: behind a reverse proxy, the proxy's, so that every user shares it.
       */
      upgradesPerAddress: { perSecond: number; burst: number };
      /** Sessions whose opening reads (unread count, catch-up) are running at once (0: no cap). */
      maxOpeningSockets: number;
    };
    shutdownTimeoutMs: number;
  };
  /** Settings given under a deprecated name, each with its new name: the worker warns of them at start. */
  deprecatedSettings: Array<{ name: string; use: string }>;
  worker: {
    /** GET /healthz and GET /metrics of a worker process: WORKER_INTERNAL_HOST, WORKER_INTERNAL_PORT (0: any free port). */
    internal: { host: string; port: number };
    /** Where the Temporal SDK's Prometheus exporter listens (its output is also in /metrics); undefined: off. */
    metricsBind: string | undefined;
    /** Worker slots, pollers and cache (the SDK's names); measured in docs/bench/herd.md. */
    tuning: {
      maxCachedWorkflows: number | undefined;
      maxConcurrentWorkflowTaskExecutions: number;
      maxConcurrentActivityTaskExecutions: number;
      maxConcurrentLocalActivityExecutions: number;
      maxConcurrentWorkflowTaskPolls: number;
      maxConcurrentActivityTaskPolls: number;
      stickyQueueScheduleToStartTimeoutSeconds: number;
      workflowThreadPoolSize: number | undefined;
    };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Settings an entry point cannot run without (the embedded defaults are `npm start`'s only):
 * throws a ConfigError naming each missing one.
 */
export function requireSettings(who: string, required: Record<string, boolean>): void {
  const missing = Object.entries(required).filter(([, present]) => !present);
  if (missing.length > 0) throw new ConfigError(missing.map(([name]) => `${name}: is required by ${who}`));
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) =>
          `${issue.path.join('.')}: ${issue.message} (got ${shownValue(issue.path[0], valueAt(env, issue.path))})`,
      ),
    );
  }
  const e = parsed.data;
  // The audit runs hourly: each run must look back over the hour since the last one, past the grace.
  const auditReach = Duration.fromISO(e.REMINDER_AUDIT_GRACE).plus({ milliseconds: AUDIT_PERIOD_MS });
  if (Duration.fromISO(e.REMINDER_AUDIT_LOOKBACK) < auditReach) {
    throw new ConfigError([
      `REMINDER_AUDIT_LOOKBACK: must be at least REMINDER_AUDIT_GRACE plus one hour, the audit's period (got ${e.REMINDER_AUDIT_LOOKBACK} with a grace of ${e.REMINDER_AUDIT_GRACE})`,
    ]);
  }
  // The retention must never remove a row the audit looks at: it would send that reminder again.
  const retention = e.NOTIFICATION_RETENTION === 'off' ? undefined : e.NOTIFICATION_RETENTION;
  if (retention !== undefined && durationMs(retention) < minimumRetentionMs(e.REMINDER_AUDIT_LOOKBACK)) {
    throw new ConfigError([
      `NOTIFICATION_RETENTION: must be at least REMINDER_AUDIT_LOOKBACK plus ${RETENTION_MARGIN_OVER_AUDIT}, or the audit would send again reminders it removed (got ${retention} with a lookback of ${e.REMINDER_AUDIT_LOOKBACK})`,
    ]);
  }
  return {
    logLevel: e.LOG_LEVEL,
    database: {
      url: e.DATABASE_URL,
      pgliteDataDir: e.PGLITE_DATA_DIR,
      pglitePort: e.PGLITE_PORT,
      poolMax: e.DATABASE_POOL_MAX,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devServer: {
        dbFile: e.TEMPORAL_DEV_DB_FILE,
        port: e.TEMPORAL_DEV_PORT,
        uiPort: e.TEMPORAL_UI_PORT,
        sqlitePragmas: e.TEMPORAL_DEV_SQLITE_PRAGMAS,
      },
    },
    schedules: {
      timeZone: e.SCHEDULE_TIMEZONE,
      dailyReport: e.DAILY_REPORT_TIME,
      dailyReportCatchUpWindow: e.DAILY_REPORT_CATCHUP_WINDOW,
    },
    reminderPolicy: {
      reminderTime: e.REMINDER_TIME,
      offsetsDays: e.REMINDER_OFFSETS_DAYS,
      criticalDelay: e.OVERDUE_CRITICAL_DELAY,
    },
    businessCalendar: calendarSetting(e.BUSINESS_CALENDAR, e.BUSINESS_CLOSED_DAYS),
    reminderAudit: { lookback: e.REMINDER_AUDIT_LOOKBACK, grace: e.REMINDER_AUDIT_GRACE },
    notificationRetention: retention,
    defaults: { timeZone: e.DEFAULT_TIMEZONE, locale: e.DEFAULT_LOCALE },
    server: {
      host: e.SERVER_HOST,
      port: e.SERVER_PORT,
      internal: { host: e.SERVER_INTERNAL_HOST, port: e.SERVER_INTERNAL_PORT ?? 8002 },
      auth: {
        hs256Secret: e.JWT_HS256_SECRET,
        jwksUrl: e.JWT_JWKS_URL,
        issuer: e.JWT_ISSUER,
        audience: e.JWT_AUDIENCE,
        clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_SECONDS,
        serviceScope: e.JWT_SERVICE_SCOPE,
      },
      allowedOrigins: e.WS_ALLOWED_ORIGINS,
      maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      idleTimeoutSeconds: e.WS_IDLE_TIMEOUT_SECONDS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      rateLimit: { perSecond: e.WS_RATE_LIMIT_PER_SECOND, burst: e.WS_RATE_LIMIT_BURST },
      tokenExpiryWarningSeconds: e.WS_TOKEN_EXPIRY_WARNING_SECONDS,
      reminders: {
        defaultReminderTime: `${String(e.REMINDER_TIME.hour).padStart(2, '0')}:${String(e.REMINDER_TIME.minute).padStart(2, '0')}`,
        offsetsDays: e.REMINDER_OFFSETS_DAYS,
      },
      connectionLimits: {
        maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
        upgradesPerAddress: {
          perSecond: e.WS_UPGRADES_PER_SECOND_PER_ADDRESS,
          burst: e.WS_UPGRADE_BURST_PER_ADDRESS,
        },
        maxOpeningSockets: e.WS_MAX_OPENING_SOCKETS,
      },
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
    deprecatedSettings:
      e.WORKER_HEALTH_PORT === undefined ? [] : [{ name: 'WORKER_HEALTH_PORT', use: 'WORKER_INTERNAL_PORT' }],
    worker: {
      internal: {
        host: e.WORKER_INTERNAL_HOST,
        port: e.WORKER_INTERNAL_PORT ?? e.WORKER_HEALTH_PORT ?? 8001,
      },
      metricsBind: e.WORKER_METRICS_BIND === 'off' ? undefined : e.WORKER_METRICS_BIND,
      tuning: {
        maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
        maxConcurrentWorkflowTaskExecutions: e.WORKER_MAX_WORKFLOW_TASKS,
        maxConcurrentActivityTaskExecutions: e.WORKER_MAX_ACTIVITY_TASKS,
        maxConcurrentLocalActivityExecutions: e.WORKER_MAX_LOCAL_ACTIVITIES,
        maxConcurrentWorkflowTaskPolls: e.WORKER_WORKFLOW_POLLERS,
        maxConcurrentActivityTaskPolls: e.WORKER_ACTIVITY_POLLERS,
        stickyQueueScheduleToStartTimeoutSeconds: e.WORKER_STICKY_TIMEOUT_SECONDS,
        workflowThreadPoolSize: e.WORKER_WORKFLOW_THREADS,
      },
    },
  };
}

/** Variables whose value is a secret: a refusal names its length, never the value (it reaches logs). */
const SECRET_VARIABLES = new Set<PropertyKey>(['JWT_HS256_SECRET']);

/** A refused value as the error shows it: secrets by their length, a URL's password masked. */
function shownValue(variable: PropertyKey | undefined, value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  if (SECRET_VARIABLES.has(variable ?? '')) return `${hs256SecretBytes(value)} bytes, not shown`;
  // scheme://user:password@host… → scheme://user:***@host…
  return JSON.stringify(value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@'));
}

function valueAt(env: NodeJS.ProcessEnv, path: PropertyKey[]): unknown {
  const key = path[0];
  return typeof key === 'string' ? env[key] : undefined;
}
