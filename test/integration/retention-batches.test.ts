import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import {
  NO_RETENTION_PROGRESS,
  resumeRetention,
  retentionCutoff,
  type RetentionProgress,
} from '../../domain/retention.js';
import {
  ago,
  DAY,
  db,
  insertDossier,
  insertNotification,
  keys,
  now,
  retention,
  run,
  setUpRetentionDatabase,
} from '../support/retention.js';

/**
 * The notification retention's activity against real PostgreSQL, in the SDK's mock activity
 * context (it heartbeats; test/support/retention.ts): what it removes and keeps, in batches, how
 * a retry resumes from its last heartbeat, the progress it resumes from and its cutoff, its time
 * budget, rows it must not wait for, and the retention setting (off, shorter).
 */

setUpRetentionDatabase();

describe('notification retention (real PostgreSQL)', () => {
  it('removes what is older than the retention in batches, read or not, and keeps the reminders of open dossiers', async () => {
    await insertDossier('d-open', {});
    await insertDossier('d-done', { status: 'done' });
    // Eight old rows it removes: updates and daily reports, read or unread, and the reminders of
    // a closed dossier and of one no longer in the table.
    for (let i = 0; i < 4; i += 1) {
      await insertNotification({ key: `old-update-${i}`, createdAt: ago(400 * DAY + i), read: i % 2 === 0 });
    }
    await insertNotification({
      key: 'old-report',
      type: 'daily_report',
      kind: 'report',
      createdAt: ago(500 * DAY),
      userId: 'max',
    });
    await insertNotification({
      key: 'old-done-reminder',
      type: 'deadline_reminder',
      kind: 'j-1',
      dossierId: 'd-done',
      createdAt: ago(380 * DAY),
      read: false,
    });
    await insertNotification({
      key: 'old-gone-alert',
      type: 'new_alert',
      kind: 'overdue',
      dossierId: 'd-gone',
      createdAt: ago(370 * DAY),
    });
    await insertNotification({ key: 'old-open-update', dossierId: 'd-open', createdAt: ago(366 * DAY) });
    // Old and kept: the reminder and the alert of a dossier still open.
    await insertNotification({
      key: 'old-open-reminder',
      type: 'deadline_reminder',
      kind: 'j-0',
      dossierId: 'd-open',
      createdAt: ago(390 * DAY),
      read: false,
    });
    await insertNotification({
      key: 'old-open-alert',
      type: 'new_alert',
      kind: 'overdue',
      dossierId: 'd-open',
      createdAt: ago(389 * DAY),
    });
    // Recent (under a year): kept, read or not.
    await insertNotification({ key: 'recent-unread', createdAt: ago(364 * DAY), read: false });
    await insertNotification({ key: 'recent-read', createdAt: ago(DAY), userId: 'max' });

    const { removeOldNotifications, removedByState } = retention({}, { batchSize: 3 });
    const { result, heartbeats } = await run(removeOldNotifications, now());
    // 10 rows older than a year, looked at 3 by 3: four batches (the last one short).
    assert.deepEqual(result, { removed: 8, unread: 3, kept: 2, skipped: 0, batches: 4, complete: true });
    assert.deepEqual(await keys(), ['old-open-alert', 'old-open-reminder', 'recent-read', 'recent-unread']);
    assert.deepEqual(removedByState, { read: 5, unread: 3 });
    // A heartbeat after each batch, its position going forward, its counts adding up.
    assert.equal(heartbeats.length, 4);
    assert.deepEqual(
      heartbeats.map((beat) => [beat.batches, beat.removed + beat.kept]),
      [
        [1, 3],
        [2, 6],
        [3, 9],
        [4, 10],
      ],
    );
    const positions = heartbeats.map(
      (beat) => `${beat.after!.createdAt} ${beat.after!.id.padStart(20, '0')}`,
    );
    assert.deepEqual([...positions].sort(), positions);
    assert.equal(new Set(positions).size, 4, 'the position moves at every batch');
    assert.match(heartbeats[0]!.after!.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // A second run finds nothing more to remove (the kept rows are looked at again, and kept).
    const second = await run(removeOldNotifications, now());
    assert.deepEqual(second.result, {
      removed: 0,
      unread: 0,
      kept: 2,
      skipped: 0,
      batches: 1,
      complete: true,
    });
    assert.equal((await keys()).length, 4);
  });

  it('a retried attempt goes on from its last heartbeat, counts included', async () => {
    const ids = [];
    for (let i = 0; i < 6; i += 1)
      ids.push(await insertNotification({ key: `old-${i}`, createdAt: ago(400 * DAY - i) }));
    const { removeOldNotifications } = retention({}, { batchSize: 2 });
    // The first attempt got through the first two rows, then its worker was lost; the rows it
    // looked at are still there (say, they were being written at that moment).
    const [first] = await db.query<{ created_at: string }>(
      `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at
         from notifications where id = $1`,
      [ids[1]],
    );
    const details: RetentionProgress = {
      after: { createdAt: first!.created_at, id: ids[1]! },
      removed: 2,
      unread: 0,
      kept: 0,
      skipped: 0,
      batches: 1,
    };
    const { result, heartbeats } = await run(removeOldNotifications, now(), details);
    // Two full batches, then an empty one (a full batch may not be the last), after the first.
    assert.deepEqual(result, { removed: 6, unread: 0, kept: 0, skipped: 0, batches: 4, complete: true });
    assert.deepEqual(
      await keys(),
      ['old-0', 'old-1'],
      'the rows before the position are not looked at again',
    );
    assert.equal(heartbeats[0]!.batches, 2);
  });

  it('resumes only from a progress it can read; the cutoff is the run instant minus the retention', () => {
    const progress = {
      after: { createdAt: '2025-01-02T03:04:05.123456Z', id: '42' },
      removed: 3,
      unread: 1,
      kept: 0,
      skipped: 0,
      batches: 2,
    };
    assert.deepEqual(resumeRetention(progress), progress);
    for (const garbage of [
      undefined,
      'after',
      { ...progress, removed: -1 },
      { ...progress, batches: 1.5 },
      { ...progress, after: { createdAt: 'yesterday', id: '42' } },
      { ...progress, after: { createdAt: progress.after.createdAt, id: '42; drop table notifications' } },
      { ...progress, kept: undefined },
    ]) {
      assert.deepEqual(resumeRetention(garbage), NO_RETENTION_PROGRESS, JSON.stringify(garbage));
    }
    // Years are 365 days, months 30, whatever the calendar (2024 is a leap year).
    assert.equal(retentionCutoff('2024-03-01T03:15:00.000Z', 'P1Y'), '2023-03-02T03:15:00.000Z');
    assert.equal(retentionCutoff('2025-03-01T03:15:00.000Z', 'P1M'), '2025-01-30T03:15:00.000Z');
  });

  it('stops at its time budget, after a batch; the next run goes on', async () => {
    for (let i = 0; i < 5; i += 1)
      await insertNotification({ key: `old-${i}`, createdAt: ago(400 * DAY - i) });
    const { removeOldNotifications } = retention({}, { batchSize: 2, runBudgetMs: 60_000 });
    // A run whose instant is two minutes past: its budget is spent; one batch, then it stops.
    const late = await run(removeOldNotifications, ago(120_000));
    assert.deepEqual(late.result, {
      removed: 2,
      unread: 0,
      kept: 0,
      skipped: 0,
      batches: 1,
      complete: false,
    });
    assert.equal((await keys()).length, 3);
    const next = await run(removeOldNotifications, now());
    assert.deepEqual(next.result, { removed: 3, unread: 0, kept: 0, skipped: 0, batches: 2, complete: true });
    assert.deepEqual(await keys(), []);
  });

  it('never waits for a row being written: it is left for the next run', async () => {
    const busy = await insertNotification({ key: 'old-busy', createdAt: ago(400 * DAY), read: true });
    await insertNotification({ key: 'old-idle', createdAt: ago(401 * DAY) });
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    await writer.query('begin');
    await writer.query('select id from notifications where id = $1 for update', [busy]);
    // The writer lets go after 3 s: a run that waited for it would take that long, and remove both.
    const released = new Promise((resolve) => setTimeout(resolve, 3_000))
      .then(() => writer.query('commit'))
      .finally(() => writer.end());
    const { removeOldNotifications } = retention();
    const started = Date.now();
    const { result } = await run(removeOldNotifications, now());
    const tookMs = Date.now() - started;
    const left = await keys();
    await released;
    assert.ok(tookMs < 2_500, `not waiting for the locked row (took ${tookMs} ms)`);
    assert.deepEqual(result, { removed: 1, unread: 0, kept: 0, skipped: 1, batches: 1, complete: true });
    assert.deepEqual(left, ['old-busy']);
    assert.equal((await run(removeOldNotifications, now())).result.removed, 1);
    assert.deepEqual(await keys(), []);
  });

  it('NOTIFICATION_RETENTION=off removes nothing; a shorter retention removes more', async () => {
    await insertNotification({ key: 'old', createdAt: ago(400 * DAY) });
    await insertNotification({ key: 'month-old', createdAt: ago(31 * DAY) });
    const off = retention({ NOTIFICATION_RETENTION: 'off' });
    assert.deepEqual((await run(off.removeOldNotifications, now())).result, {
      removed: 0,
      unread: 0,
      kept: 0,
      skipped: 0,
      batches: 0,
      complete: true,
    });
    assert.equal((await keys()).length, 2);
    const month = retention({ NOTIFICATION_RETENTION: 'P30D' });
    assert.equal((await run(month.removeOldNotifications, now())).result.removed, 2);
  });
});
