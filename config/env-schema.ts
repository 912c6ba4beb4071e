import { Duration, IANAZone } from 'luxon';
import { z } from 'zod';
import { MAX_CATCH_UP_WINDOW_MINUTES, MIN_CATCH_UP_WINDOW_MINUTES } from '../domain/daily-report.js';
import {
  DEFAULT_NOTIFICATION_RETENTION,
  isRetentionInRange,
  MAX_NOTIFICATION_RETENTION,
  MIN_NOTIFICATION_RETENTION,
} from '../domain/retention.js';
import { CLOCK_TIME_PATTERN, DEFAULT_DATABASE_POOL_MAX } from '../domain/limits.js';
import { HS256_SECRET_RULE, isLongEnoughHs256Secret } from '../domain/hs256-secret.js';
import { DEFAULT_CRITICAL_DELAY } from '../domain/reminder-plan.js';
import { isAcceptableJwksUrl, JWKS_URL_RULE } from '../domain/jwks-url.js';
import {
  businessCalendarName,
  closedDayList,
  DEFAULT_BUSINESS_CALENDAR,
} from './business-calendar-setting.js';

/**
 * The environment variables of the service and how each value is checked: one zod schema, with
 * the defaults. `config.ts` turns a parsed environment into the typed AppConfig.
 */

const timeZone = z.string().refine((zone) => IANAZone.isValidZone(zone), 'is not a known IANA time zone');
const clockTime = z
  .string()
  .regex(CLOCK_TIME_PATTERN, 'must be a local time HH:MM')
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
/**
 * How long notifications are kept: an ISO 8601 duration of a week to a century, or `off` (kept for
 * ever); unset or empty, the default (a year), as elsewhere.
 */
const retention = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .refine(
      (value) => value === 'off' || isRetentionInRange(value),
      `must be an ISO 8601 duration of at least ${MIN_NOTIFICATION_RETENTION} and at most ${MAX_NOTIFICATION_RETENTION}, such as P1Y or P90D, or off`,
    )
    .default(DEFAULT_NOTIFICATION_RETENTION),
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
/** An optional number: unset or empty (a commented-out line of .env.example) is undefined, never 0. */
const optionalNumber = <T extends z.ZodType<number, unknown>>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
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

export const envSchema = z
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
    OVERDUE_CRITICAL_DELAY: isoDuration.default(DEFAULT_CRITICAL_DELAY),
    BUSINESS_CALENDAR: businessCalendarName.prefault(DEFAULT_BUSINESS_CALENDAR),
    BUSINESS_CLOSED_DAYS: closedDayList.prefault(''),
    REMINDER_AUDIT_LOOKBACK: auditDuration.default('PT26H'),
    REMINDER_AUDIT_GRACE: auditDuration.default('PT15M'),
    NOTIFICATION_RETENTION: retention,
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
    // Connection caps; 0 turns one off.
    WS_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(0).default(20),
    WS_UPGRADES_PER_SECOND_PER_ADDRESS: z.coerce.number().min(0).default(20),
    WS_UPGRADE_BURST_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
    // 4,000: a reconnect storm of 10,000 tabs catches up in 17 s; 1,000 refused so many that the
    // clients' backoff took 34.5 s, at the same peak memory (docs/bench/connections-opening-4000.md,
    // connections-opening-1000.md; connections.md at the default). Each one waiting is an open socket (about 7 KB: 28 MB at 4,000; a socket
    // closed while it waits gives its slot back), and the database permits still bound the work
    // running.
    WS_MAX_OPENING_SOCKETS: z.coerce.number().int().min(0).default(4000),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    // The worker's internal port: /healthz and /metrics, like SERVER_INTERNAL_*.
    WORKER_INTERNAL_HOST: z.string().default('0.0.0.0'),
    WORKER_INTERNAL_PORT: listenPort,
    // Deprecated name of WORKER_INTERNAL_PORT, still read (docs/operations.md).
    WORKER_HEALTH_PORT: listenPort,
    WORKER_METRICS_BIND: bindAddressOrOff.default('127.0.0.1:9464'),
    // Empty means unset (the SDK's default, sized from the heap), as for every optional number.
    WORKER_MAX_CACHED_WORKFLOWS: optionalNumber(z.coerce.number().int().min(0)),
    WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
    WORKER_MAX_ACTIVITY_TASKS: z.coerce.number().int().min(1).default(100),
    WORKER_MAX_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).default(100),
    WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).default(10),
    WORKER_ACTIVITY_POLLERS: z.coerce.number().int().min(1).default(10),
    WORKER_STICKY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
    // Threads running workflow code; the SDK's default is 1 (one reused V8 context). A herd larger
    // than one thread carries saturates it (docs/performance.md, "Worker settings").
    WORKER_WORKFLOW_THREADS: optionalNumber(z.coerce.number().int().min(1).max(16)),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(DEFAULT_DATABASE_POOL_MAX),
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
    const { WORKER_INTERNAL_PORT: port, WORKER_HEALTH_PORT: deprecated } = env;
    if (port !== undefined && deprecated !== undefined && port !== deprecated) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_HEALTH_PORT'],
        message:
          'is the deprecated name of WORKER_INTERNAL_PORT, which sets another port: keep WORKER_INTERNAL_PORT only',
      });
    }
  });

/** Every environment variable the service reads (`.env.example` lists each with its default). */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);
