import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import {
  storeNotification,
  storeNotificationWhileDossierOpen,
  type NotificationDraft,
} from '../../activities/notification-store.js';
import { loadConfig } from '../../config/config.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { draft, listen, rowsWithKey, storeRow } from '../support/notification-store-kit.js';
import { waitFor } from '../support/wait.js';
import { inActivity } from '../support/activity-context.js';

/**
 * `storeNotification` on real PostgreSQL: one row per idempotency key, even when 20 calls race,
 * increasing ids committed in order per user; a retired key answers no row (`id: null`), which
 * `deliverNotification` counts as a duplicate. Its NOTIFY: notification-store-notify.test.ts.
 */
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
  await db.query("insert into users (id) values ('u1')");
});
after(async () => {
  await db?.drop();
});

describe('storeNotification', () => {
  it('stores once per idempotency key and returns the same id on a repeat', async () => {
    const notification = draft();
    const first = await storeRow(db.orm.em.fork(), notification);
    assert.equal(first.created, true);
    assert.match(first.id, /^\d+$/);

    const second = await storeRow(db.orm.em.fork(), { ...notification, title: 'changed' });
    assert.deepEqual(second, { id: first.id, created: false });

    const rows = await rowsWithKey(db, notification.idempotencyKey);
    assert.deepEqual(
      rows.map((row) => row.id),
      [first.id],
    );
    const [stored] = await db.query('select title from notifications where id = $1', [first.id]);
    assert.equal(stored!.title, notification.title, 'the repeat does not overwrite the stored row');
  });

  it('stores exactly one row when 20 calls race with the same key, and notifies once', async (t) => {
    const listener = await listen(db, t);
    const notification = draft();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => storeRow(db.orm.em.fork(), notification)),
    );
    assert.equal(results.filter((result) => result.created).length, 1);
    const ids = new Set(results.map((result) => result.id));
    assert.equal(ids.size, 1, `one id for every caller, got ${[...ids].join(', ')}`);
    const rows = await rowsWithKey(db, notification.idempotencyKey);
    assert.deepEqual(
      rows.map((row) => row.id),
      [...ids],
    );

    const sentinel = await storeRow(db.orm.em.fork(), draft());
    await listener.next(sentinel.id);
    assert.deepEqual(
      listener.received.map((payload) => payload.id),
      [results[0]!.id, sentinel.id],
    );
  });

  it("commits each user's ids in increasing order: a store waits for the user's open one", async (t) => {
    const listener = await listen(db, t);
    await db.query("insert into users (id) values ('u2') on conflict do nothing");
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let firstId = '';
    const first = db.orm.em.fork().transactional(async (tx) => {
      firstId = (await storeRow(tx, draft())).id;
      await released; // the transaction stays open, its id drawn
    });
    t.after(async () => {
      release(); // also when an assertion failed: an open transaction would hold the database
      await first;
    });
    await waitFor('the first store', () => firstId !== '');
    const second = storeRow(db.orm.em.fork(), draft());
    // Another user is not held up.
    const otherUser = await storeRow(db.orm.em.fork(), draft({ userId: 'u2' }));
    await listener.next(otherUser.id);
    await waitFor(
      'the second store waiting for the user lock',
      async () => {
        const rows = await db.query(
          // This database's sessions only: other suites may share the server.
          "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'",
        );
        return rows.length === 1;
      },
      { timeoutMs: 3000 },
    );
    release();
    await first;
    const { id: secondId } = await second;
    assert.ok(BigInt(secondId) > BigInt(firstId), `${secondId} > ${firstId}`);
    await listener.next(secondId);
    assert.deepEqual(
      listener.received.map((payload) => payload.id),
      [otherUser.id, firstId, secondId],
    );
  });

  it('hands out increasing ids, as strings', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await storeRow(db.orm.em.fork(), draft())).id);
    for (const id of ids) assert.equal(typeof id, 'string');
    for (let i = 1; i < ids.length; i += 1) {
      assert.ok(BigInt(ids[i]!) > BigInt(ids[i - 1]!), `${ids[i]} > ${ids[i - 1]}`);
    }
  });
});

describe('a retired key (its row removed by the retention)', () => {
  /** A draft whose key the retention retired: no row under it, and none may be stored again. */
  const retiredDraft = async (): Promise<NotificationDraft> => {
    const notification = draft();
    await db.query('insert into retired_notification_keys (idempotency_key) values ($1)', [
      notification.idempotencyKey,
    ]);
    return notification;
  };

  it('answers no row, id null, as a closed dossier does, told apart by `retired`', async () => {
    const notification = await retiredDraft();
    assert.deepEqual(await storeNotification(db.orm.em.fork(), notification), {
      id: null,
      created: false,
      retired: true,
    });
    assert.deepEqual(
      await storeNotificationWhileDossierOpen(db.orm.em.fork(), notification, {
        id: 'd1',
        dueDate: '2027-03-28',
        dueAt: null,
      }),
      { id: null, created: false, retired: true },
    );
    assert.deepEqual(await rowsWithKey(db, notification.idempotencyKey), []);
  });

  it('is counted by deliverNotification as a skipped duplicate, not as a closed dossier', async () => {
    const notification = await retiredDraft();
    const counted: string[] = [];
    const { deliverNotification } = createDossierActivities({
      orm: db.orm,
      temporal: { client: undefined as never, taskQueue: 'store' },
      config: loadConfig({}),
      metrics: {
        stored: () => counted.push('stored'),
        duplicateSkipped: () => counted.push('duplicateSkipped'),
        reminderMissed: () => counted.push('reminderMissed'),
        auditFinding: () => counted.push('auditFinding'),
      },
    });
    const stored = await inActivity(deliverNotification, {
      idempotencyKey: notification.idempotencyKey,
      userId: 'u1',
      type: 'new_alert' as const,
      kind: 'urgent',
    });
    assert.deepEqual(stored, { id: null, created: false, retired: true });
    assert.deepEqual(counted, ['duplicateSkipped']);
  });
});
