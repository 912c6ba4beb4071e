import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import {
  storeNotification,
  storeNotificationWhileDossierOpen,
  type NotificationDraft,
  type StoredRow,
} from '../../activities/notification-store.js';
import { loadConfig } from '../../config/config.js';
import { NOTIFICATION_CHANNEL } from '../../db/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

/**
 * `storeNotification` on real PostgreSQL: one row per idempotency key, even under concurrency,
 * and one NOTIFY per stored row, sent at commit only, with a fallback payload past the size limit;
 * a retired key answers no row (`id: null`), which `deliverNotification` counts as a duplicate.
 */

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
  await db.query("insert into users (id) values ('u1')");
});
after(async () => {
  await db?.drop();
});

const newKey = (label: string): string => `test:${label}:${randomBytes(4).toString('hex')}`;

const draft = (overrides: Partial<NotificationDraft> = {}): NotificationDraft => ({
  idempotencyKey: newKey('draft'),
  userId: 'u1',
  type: 'new_alert',
  kind: 'urgent',
  dossierId: 'd1',
  title: `Dossier urgent : Bilan ${randomBytes(3).toString('hex')}`,
  body: "Le dossier « Bilan » est marqué urgent. Échéance : 28 mars 2027. L'ordre ? Oui.",
  data: { dossierTitle: 'Bilan', dueDate: '2027-03-28', urgent: true },
  scheduledFor: null,
  ...overrides,
});

const rowsWithKey = (key: string) =>
  db.query<{ id: string; body: string }>(
    'select id::text as id, body from notifications where idempotency_key = $1',
    [key],
  );

/** Stores a draft whose key is fresh, so never retired: the answer is a row, with its id. */
async function storeRow(em: EntityManager, notification: NotificationDraft): Promise<StoredRow> {
  const stored = await storeNotification(em, notification);
  assert.ok(!('retired' in stored), `${notification.idempotencyKey}: a fresh key, never retired`);
  return stored;
}

type Payload = Record<string, unknown> & { id: string };

/** A dedicated connection LISTENing on the notifications channel; collects parsed payloads in order. */
interface Listener {
  client: pg.Client;
  received: Payload[];
  /** Waits for the NOTIFY of the notification with this id; returns its payload. */
  next(id: string): Promise<Payload>;
  /** A round trip on the listening connection: delivers any NOTIFY already sent to it. */
  flush(): Promise<void>;
}

async function listen(t: TestContext): Promise<Listener> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.after(() => client.end());
  const received: Payload[] = [];
  client.on('notification', (message) => {
    if (message.channel === NOTIFICATION_CHANNEL) received.push(JSON.parse(message.payload!) as Payload);
  });
  await client.query(`listen ${NOTIFICATION_CHANNEL}`);
  return {
    client,
    received,
    next: (id) =>
      waitFor(`NOTIFY of notification ${id}`, () => received.find((payload) => payload.id === id), {
        timeoutMs: 3000,
        intervalMs: 10,
      }),
    flush: async () => {
      await client.query('select 1');
    },
  };
}

describe('storeNotification', () => {
  it('stores once per idempotency key and returns the same id on a repeat', async () => {
    const notification = draft();
    const first = await storeRow(db.orm.em.fork(), notification);
    assert.equal(first.created, true);
    assert.match(first.id, /^\d+$/);

    const second = await storeRow(db.orm.em.fork(), { ...notification, title: 'changed' });
    assert.deepEqual(second, { id: first.id, created: false });

    const rows = await rowsWithKey(notification.idempotencyKey);
    assert.deepEqual(
      rows.map((row) => row.id),
      [first.id],
    );
    const [stored] = await db.query('select title from notifications where id = $1', [first.id]);
    assert.equal(stored!.title, notification.title, 'the repeat does not overwrite the stored row');
  });

  it('stores exactly one row when 20 calls race with the same key, and notifies once', async (t) => {
    const listener = await listen(t);
    const notification = draft();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => storeRow(db.orm.em.fork(), notification)),
    );
    assert.equal(results.filter((result) => result.created).length, 1);
    const ids = new Set(results.map((result) => result.id));
    assert.equal(ids.size, 1, `one id for every caller, got ${[...ids].join(', ')}`);
    const rows = await rowsWithKey(notification.idempotencyKey);
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

  it('announces a stored notification with its full client payload, and a repeat not at all', async (t) => {
    const listener = await listen(t);
    const notification = draft({ scheduledFor: '2027-03-21T07:00:00.000Z' });
    const stored = await storeRow(db.orm.em.fork(), notification);
    const payload = await listener.next(stored.id);

    const [row] = await db.query<{ created_at: Date }>('select created_at from notifications where id = $1', [
      stored.id,
    ]);
    const { createdAt, ...rest } = payload;
    assert.deepEqual(rest, {
      id: stored.id,
      userId: 'u1',
      type: 'new_alert',
      kind: 'urgent',
      dossierId: 'd1',
      title: notification.title,
      body: notification.body,
      data: notification.data,
      readAt: null,
      archivedAt: null,
    });
    assert.equal(typeof stored.id, 'string');
    assert.equal(typeof createdAt, 'string');
    assert.ok(
      Math.abs(Date.parse(createdAt as string) - row!.created_at.getTime()) <= 1,
      `createdAt ${String(createdAt)} is the row's created_at ${row!.created_at.toISOString()}`,
    );

    const repeat = await storeRow(db.orm.em.fork(), notification);
    assert.deepEqual(repeat, { id: stored.id, created: false });
    // NOTIFYs arrive in commit order: once a later one is in, the repeat's would have been too.
    const later = await storeRow(db.orm.em.fork(), draft());
    await listener.next(later.id);
    assert.deepEqual(
      listener.received.map((p) => p.id),
      [stored.id, later.id],
    );
  });

  it('notifies only when the enclosing transaction commits', async (t) => {
    const listener = await listen(t);
    const notification = draft();
    let storedId = '';
    await db.orm.em.fork().transactional(async (tx) => {
      const stored = await storeRow(tx, notification);
      assert.equal(stored.created, true);
      storedId = stored.id;
      await listener.flush();
      assert.deepEqual(listener.received, [], 'no NOTIFY before commit');
      assert.deepEqual(await rowsWithKey(notification.idempotencyKey), [], 'row invisible before commit');
      // Inside the transaction the row is there: a repeat sees it.
      assert.deepEqual(await storeRow(tx, notification), { id: stored.id, created: false });
    });
    const payload = await listener.next(storedId);
    assert.equal(payload.title, notification.title);
    assert.equal(listener.received.length, 1);
    assert.equal((await rowsWithKey(notification.idempotencyKey)).length, 1);
  });

  it('neither stores nor notifies when the enclosing transaction rolls back', async (t) => {
    const listener = await listen(t);
    const notification = draft();
    let storedId = '';
    await assert.rejects(
      db.orm.em.fork().transactional(async (tx) => {
        storedId = (await storeRow(tx, notification)).id;
        throw new Error('rollback please');
      }),
      /rollback please/,
    );
    assert.match(storedId, /^\d+$/);
    assert.deepEqual(await rowsWithKey(notification.idempotencyKey), []);

    const later = await storeRow(db.orm.em.fork(), draft());
    await listener.next(later.id);
    assert.deepEqual(
      listener.received.map((p) => p.id),
      [later.id],
    );
  });

  it('stores a notification too big for NOTIFY and announces its id only', async (t) => {
    const listener = await listen(t);
    const big = draft({ body: 'x'.repeat(10_000) });
    // 4 000 characters but 8 000 bytes: the limit is on bytes.
    const wide = draft({ body: 'é'.repeat(4000) });
    const storedBig = await storeRow(db.orm.em.fork(), big);
    const storedWide = await storeRow(db.orm.em.fork(), wide);
    assert.equal(storedBig.created && storedWide.created, true);

    assert.deepEqual(await listener.next(storedBig.id), { id: storedBig.id, userId: 'u1', truncated: true });
    assert.deepEqual(await listener.next(storedWide.id), {
      id: storedWide.id,
      userId: 'u1',
      truncated: true,
    });
    assert.equal((await rowsWithKey(big.idempotencyKey))[0]!.body, big.body);
    assert.equal((await rowsWithKey(wide.idempotencyKey))[0]!.body, wide.body);
  });

  it("commits each user's ids in increasing order: a store waits for the user's open one", async (t) => {
    const listener = await listen(t);
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
    assert.deepEqual(await rowsWithKey(notification.idempotencyKey), []);
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
    const stored = await new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
      deliverNotification,
      {
        idempotencyKey: notification.idempotencyKey,
        userId: 'u1',
        type: 'new_alert' as const,
        kind: 'urgent',
      },
    );
    assert.deepEqual(stored, { id: null, created: false, retired: true });
    assert.deepEqual(counted, ['duplicateSkipped']);
  });
});
