import { Duration, IANAZone } from 'luxon';
import { z } from 'zod';
import { MAX_CATCH_UP_WINDOW_MINUTES, MIN_CATCH_UP_WINDOW_MINUTES } from '../domain/daily-report.js';
import { HS256_SECRET_RULE, hs256SecretBytes, isLongEnoughHs256Secret } from '../domain/hs256-secret.js';
import { isAcceptableJwksUrl, JWKS_URL_RULE } from '../domain/jwks-url.js';
import { AUDIT_PERIOD_MS } from '../domain/reminder-audit.js';
import type { ReminderPolicy } from '../domain/reminder-plan.js';

/**
 * Every setting of the service, read once from environment variables at start-up.
 * A bad value stops the process with a message naming the variable (see `loadConfig`).
 */

const timeZone = z.string().refine((zone) => IANAZone.isValidZone(zone), 'is not a known IANA time zone');
const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM')
  .transform((value) => {
    const [hour, minute] = value.split(':').map(Number) as [number, number];
    return { hour, minute };
  });
const isoDuration = z.string().refine((value) => {
  const duration = Duration.fromISO(value);
  return duration.isValid && duration.toMillis() > 0;
}, 'must be a positive ISO 8601 duration such as P3D or PT30M');
/** An ISO 8601 duration from `minMinutes` to `maxMinutes`. */
const durationWithin = (minMinutes: number, maxMinutes: number, message: string) =>
  z.string().refine((value) => {
    const duration = Duration.fromISO(value);
    const minutes = duration.isValid ? duration.as('minutes') : NaN;
    return minutes >= minMinutes && minutes <= maxMinutes;
  }, message);
/** The daily report's catch-up window: at least one 15-minute run, short enough not to reach the next day's. */
const catchUpWindow = durationWithin(
  MIN_CATCH_UP_WINDOW_MINUTES,
  MAX_CATCH_UP_WINDOW_MINUTES,
  `must be an ISO 8601 duration from PT${MIN_CATCH_UP_WINDOW_MINUTES}M to PT${MAX_CATCH_UP_WINDOW_MINUTES / 60}H`,
);
/** The reminder audit's durations: from a second (tests) to 31 days. */
const auditDuration = durationWithin(
  1 / 60,
  31 * 24 * 60,
  'must be an ISO 8601 duration from PT1S to P31D, such as PT26H or PT15M',
);
const offsetList = z
  .string()
  .regex(/^\d{1,3}(,\d{1,3})*$/, 'must be a comma-separated list of whole days, such as 7,1,0')
  .transform((value) => [...new Set(value.split(',').map(Number))].sort((a, b) => b - a));
const optionalUrl = z
  .string()
  .optional()
  .transform((value) => (value ? value : undefined));
const port = z.coerce.number().int().min(1).max(65535);
/** `host:port` with a port 1-65535 (IPv6 hosts in brackets), or `off`. */
const bindAddressOrOff = z.string().refine((value) => {
  if (value === 'off') return true;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}, 'must be host:port with a port from 1 to 65535, such as 127.0.0.1:9464, or off');
/** A port to listen on; 0 picks any free port; empty means the default. */
const listenPortMessage = 'must be a port number from 0 (any free port) to 65535';
const listenPort = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.coerce
    .number({ error: listenPortMessage })
    .int(listenPortMessage)
    .min(0, listenPortMessage)
    .max(65535, listenPortMessage)
    .optional(),
);

const envSchema = z
  .object({
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    DATABASE_URL: optionalUrl.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    PGLITE_DATA_DIR: z.string().default('.data/pglite'),
    PGLITE_PORT: port.default(5499),
    TEMPORAL_ADDRESS: optionalUrl,
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('normx-notify'),
    TEMPORAL_DEV_DB_FILE: z.string().default('.data/temporal.sqlite'),
    TEMPORAL_DEV_SQLITE_PRAGMAS: z
      .string()
      .default('journal_mode=wal,synchronous=normal')
      .transform((value) =>
        value
          .split(',')
          .map((pragma) => pragma.trim())
          .filter(Boolean),
      )
      .refine(
        (pragmas) => pragmas.every((pragma) => /^[a-z_]+=[A-Za-z0-9_-]+$/.test(pragma)),
        'must be name=value pragmas separated by commas',
      ),
    TEMPORAL_DEV_PORT: port.default(7233),
    TEMPORAL_UI_PORT: port.default(8233),
    SCHEDULE_TIMEZONE: timeZone.default('Europe/Paris'),
    DAILY_REPORT_TIME: clockTime.prefault('18:00'),
    DAILY_REPORT_CATCHUP_WINDOW: catchUpWindow.default('PT2H'),
    REMINDER_TIME: clockTime.prefault('08:00'),
    REMINDER_OFFSETS_DAYS: offsetList.prefault('7,1,0'),
    OVERDUE_CRITICAL_DELAY: isoDuration.default('P3D'),
    REMINDER_AUDIT_LOOKBACK: auditDuration.default('PT26H'),
    REMINDER_AUDIT_GRACE: auditDuration.default('PT15M'),
    DEFAULT_TIMEZONE: timeZone.default('Europe/Paris'),
    DEFAULT_LOCALE: z.enum(['fr', 'en']).default('fr'),
    SERVER_HOST: z.string().default('0.0.0.0'),
    SERVER_PORT: port.default(8000),
    // The internal port: /healthz and /metrics only (never behind the public proxy).
    SERVER_INTERNAL_HOST: z.string().default('0.0.0.0'),
    SERVER_INTERNAL_PORT: listenPort,
    JWT_HS256_SECRET: optionalUrl.pipe(
      z.string().refine(isLongEnoughHs256Secret, HS256_SECRET_RULE).optional(),
    ),
    JWT_JWKS_URL: optionalUrl.pipe(
      z
        .url({ protocol: /^https?$/, error: JWKS_URL_RULE })
        .refine((value) => isAcceptableJwksUrl(new URL(value)), JWKS_URL_RULE)
        .optional(),
    ),
    JWT_ISSUER: optionalUrl,
    JWT_AUDIENCE: optionalUrl,
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    JWT_SERVICE_SCOPE: z.string().min(1).default('notify:service'),
    WS_ALLOWED_ORIGINS: z
      .string()
      .default('*')
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
    WS_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(256).max(1_048_576).default(16_384),
    WS_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(8).max(960).default(60),
    WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(4096).default(1_048_576),
    WS_RATE_LIMIT_PER_SECOND: z.coerce.number().min(1).default(10),
    WS_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(30),
    WS_TOKEN_EXPIRY_WARNING_SECONDS: z.coerce.number().int().min(1).default(60),
    // Connection caps (issue 11, defect 4); 0 turns one off.
    WS_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(0).default(20),
    WS_UPGRADES_PER_SECOND_PER_ADDRESS: z.coerce.number().min(0).default(20),
    WS_UPGRADE_BURST_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
    WS_MAX_OPENING_SOCKETS: z.coerce.number().int().min(0).default(100),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    WORKER_HEALTH_PORT: listenPort,
    WORKER_METRICS_BIND: bindAddressOrOff.default('127.0.0.1:9464'),
    // At least one: with no cache the SDK's core (1.24) evicts a run while its local activities
    // run, and its workflow task is never answered (docs/performance.md, "Local activities").
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(1).optional(),
    WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
    WORKER_MAX_ACTIVITY_TASKS: z.coerce.number().int().min(1).default(100),
    WORKER_MAX_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).default(100),
    WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).default(10),
    WORKER_ACTIVITY_POLLERS: z.coerce.number().int().min(1).default(10),
    WORKER_STICKY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
    // Threads running workflow code; the SDK's default is 1 (one reused V8 context). A herd larger
    // than one thread carries saturates it (docs/performance.md, "Worker settings").
    WORKER_WORKFLOW_THREADS: z.coerce.number().int().min(1).max(16).optional(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
    // 0 turns it off; below a second, ordinary reads under load would fail.
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .refine((ms) => ms === 0 || (ms >= 1000 && ms <= 3_600_000), 'must be 0 (off) or 1000 to 3600000')
      .default(30_000),
  })
  .superRefine((env, ctx) => {
    if (env.JWT_HS256_SECRET && env.JWT_JWKS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_JWKS_URL'],
        message: 'set JWT_HS256_SECRET or JWT_JWKS_URL, not both',
      });
    }
  });

/** Every environment variable the service reads (`.env.example` lists each with its default). */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);

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
  /** The hourly reminder audit (domain/reminder-audit.ts). */
  reminderAudit: {
    /** How far back it looks for reminders owed (ISO duration). */
    lookback: string;
    /** How long a reminder is given to arrive before it counts as missed (ISO duration). */
    grace: string;
  };
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
  worker: {
    /** GET /healthz and GET /metrics of a worker process (0: any free port). */
    healthPort: number;
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
    reminderAudit: { lookback: e.REMINDER_AUDIT_LOOKBACK, grace: e.REMINDER_AUDIT_GRACE },
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
    worker: {
      healthPort: e.WORKER_HEALTH_PORT ?? 8001,
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
