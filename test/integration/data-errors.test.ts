import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { dataErrorOf } from '../../activities/data-errors.js';
import type { NotificationRequest } from '../../activities/dossier-activities.js';
import { createActivities } from '../../activities/index.js';
import { loadConfig } from '../../config/config.js';
import { entities } from '../../db/entities.js';
import { openOrm } from '../../db/orm.js';
import { INVALID_DATA_FAILURE } from '../../domain/failures.js';
import type { DossierSnapshot } from '../../workflows/dossier-messages.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Data the database refuses, when it reaches an activity despite the API's limits (an old
 * workflow's history, a row written elsewhere), fails the activity non-retryably with the
 * INVALID_DATA_FAILURE type, logged once: the workflow records the event as rejected instead of
 * retrying it for ever. Outages stay retryable. Activities run directly against real PostgreSQL,
 * inside the SDK's mock activity context.
 */

let db: TestDatabase;
const build = (orm: TestDatabase['orm']) =>
  createActivities({
    orm,
    temporal: { client: {} as never, taskQueue: 'unused' },
    config: loadConfig({}),
  });
let activities: ReturnType<typeof createActivities>;

before(async () => {
  db = await createTestDatabase();
  activities = build(db.orm);
  await db.query("insert into users (id) values ('u1')");
});
after(async () => {
  await db?.drop();
});

interface LogEntry {
  level: LogLevel;
  message: string;
  meta: LogMetadata | undefined;
}

/** Runs an activity in a mock activity context; returns its outcome and what it logged. */
async function run<A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<{ error: unknown; logs: LogEntry[] }> {
  const logs: LogEntry[] = [];
  const logger = new DefaultLogger('DEBUG', (entry) =>
    logs.push({ level: entry.level, message: entry.message, meta: entry.meta }),
  );
  const env = new MockActivityEnvironment(undefined, { logger });
  const error = await env.run<[A], R, typeof fn>(fn, arg).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  return { error, logs };
}

const dossier = (overrides: Partial<DossierSnapshot> = {}): DossierSnapshot =>
  ({
    id: `D-${randomBytes(3).toString('hex')}`,
    title: 'Bilan 2026 SARL Dupont',
    ownerId: 'u1',
    dueDate: '2027-03-31',
    urgent: false,
    status: 'open',
    ...overrides,
  }) as DossierSnapshot;

const request = (overrides: Partial<NotificationRequest> = {}): NotificationRequest => ({
  idempotencyKey: `test:${randomBytes(6).toString('hex')}`,
  userId: 'u1',
  type: 'new_alert',
  kind: 'urgent',
  dossier: dossier(),
  ...overrides,
});

/** The activity failed non-retryably with INVALID_DATA_FAILURE, naming the SQLSTATE, and logged it once. */
function assertRefused(outcome: { error: unknown; logs: LogEntry[] }, sqlStates: string[]): void {
  const { error, logs } = outcome;
  assert.ok(error instanceof ApplicationFailure, `an ApplicationFailure, not ${String(error)}`);
  assert.equal(error.type, INVALID_DATA_FAILURE);
  assert.equal(error.nonRetryable, true);
  const details = error.details?.[0] as { sqlState?: string } | undefined;
  assert.ok(sqlStates.includes(details?.sqlState ?? ''), `SQLSTATE ${details?.sqlState}`);
  assert.match(error.message, new RegExp(details!.sqlState!));
  const logged = logs.filter((entry) => entry.meta?.err !== undefined);
  assert.equal(logged.length, 1, `logged once: ${JSON.stringify(logs.map((entry) => entry.message))}`);
  const err = logged[0]!.meta!.err as Error;
  assert.ok(err instanceof Error && typeof err.stack === 'string', 'the original error, with its stack');
}

describe('data the database refuses: non-retryable INVALID_DATA_FAILURE', () => {
  it('deliverNotification of a dossier whose title contains U+0000', async () => {
    const outcome = await run(
      activities.deliverNotification,
      request({ dossier: dossier({ title: 'Bilan\u0000' }) }),
    );
    // MikroORM inlines values into the statement: a NUL cuts PostgreSQL's message (08P01,
    // severity ERROR, the connection goes on); a bound parameter would give 22021.
    assertRefused(outcome, ['08P01', '22021', '22P05']);
  });

  it('deliverNotification of a title with a lone surrogate (refused by jsonb)', async () => {
    const outcome = await run(
      activities.deliverNotification,
      request({ dossier: dossier({ title: 'Bilan \uD800' }) }),
    );
    assertRefused(outcome, ['22P02', '22P05']);
  });

  it('deliverNotification planned for year 0 (22008), with a key longer than the column (22001)', async () => {
    assertRefused(
      await run(activities.deliverNotification, request({ scheduledFor: '0000-01-01T00:00:00.000Z' })),
      ['22008'],
    );
    assertRefused(await run(activities.deliverNotification, request({ idempotencyKey: 'k'.repeat(5000) })), [
      '22001',
    ]);
  });

  it('deliverNotification to a user the database cannot hold (a 200-character id: 22001)', async () => {
    assertRefused(await run(activities.deliverNotification, request({ userId: 'u'.repeat(200) })), ['22001']);
  });

  it('saveDossier of a dossier due in year 0 (22008), and nothing of it is stored', async () => {
    const bad = dossier({
      dueDate: undefined,
      dueAt: '0000-01-01T00:00:00.000Z',
    } as Partial<DossierSnapshot>);
    assertRefused(await run(activities.saveDossier, { dossier: bad }), ['22008']);
    const rows = await db.query('select id from dossiers where id = $1', [bad.id]);
    assert.deepEqual(rows, []);
  });

  it('good data still goes through the wrapper unchanged', async () => {
    const { error, logs } = await run(activities.deliverNotification, request());
    assert.equal(error, undefined);
    assert.ok(logs.some((entry) => entry.message === 'Notification stored and announced'));
  });
});

describe('outages stay retryable', () => {
  it('a closed ORM: the error is rethrown as is, not non-retryable', async () => {
    const orm = await openOrm(db.url);
    await orm.close(true);
    const { error, logs } = await run(build(orm).deliverNotification, request());
    assert.ok(error instanceof Error, String(error));
    assert.ok(!(error instanceof ApplicationFailure && error.nonRetryable), String(error));
    assert.equal(logs.filter((entry) => entry.meta?.err !== undefined).length, 0);
  });

  it('an unreachable database: the error is rethrown as is, not non-retryable', async () => {
    const url = new URL(db.url);
    url.port = '1'; // nothing listens there
    // openOrm would fail on connecting: a worker started while the database was up sees this later.
    const orm = await MikroORM.init({
      clientUrl: url.toString(),
      entities,
      connect: false,
      allowGlobalContext: false,
    });
    try {
      const started = Date.now();
      const { error, logs } = await run(build(orm).deliverNotification, request());
      assert.ok(error instanceof Error, String(error));
      assert.ok(!(error instanceof ApplicationFailure), String(error));
      assert.equal(logs.filter((entry) => entry.meta?.err !== undefined).length, 0);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await orm.close(true);
    }
  });
});

describe('dataErrorOf: which errors are deterministic data errors', () => {
  const pgError = (code: string, severity = 'ERROR') =>
    Object.assign(new Error(`pg ${code}`), { code, severity });
  /** [what, error, its SQLSTATE when it is a data error, else undefined]. */
  const cases: Array<[string, unknown, string | undefined]> = [
    ['22021 NUL byte', pgError('22021'), '22021'],
    ['22P05 untranslatable character', pgError('22P05'), '22P05'],
    ['22008 datetime out of range', pgError('22008'), '22008'],
    ['22001 string too long', pgError('22001'), '22001'],
    ['23502 not null', pgError('23502'), '23502'],
    ['23503 foreign key', pgError('23503'), '23503'],
    ['23514 check', pgError('23514'), '23514'],
    ['54000 program limit (index row too large)', pgError('54000'), '54000'],
    ['08P01 at severity ERROR: a malformed statement (NUL)', pgError('08P01'), '08P01'],
    ['a data error as the cause of another', new Error('wrapped', { cause: pgError('22003') }), '22003'],
    ['23505 unique violation (a race: retry)', pgError('23505'), undefined],
    ['08P01 at severity FATAL: the connection is gone', pgError('08P01', 'FATAL'), undefined],
    ['08006 connection failure', pgError('08006'), undefined],
    ['57P01 admin shutdown', pgError('57P01', 'FATAL'), undefined],
    ['40001 serialization failure', pgError('40001'), undefined],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), undefined],
    ['EPIPE', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), undefined],
    ['a timeout', new Error('Knex: Timeout acquiring a connection'), undefined],
    ['not an error', 'boom', undefined],
  ];
  for (const [what, error, sqlState] of cases) {
    it(`${what}: ${sqlState ? 'a data error' : 'not a data error'}`, () => {
      assert.equal(dataErrorOf(error)?.sqlState, sqlState);
    });
  }
});
