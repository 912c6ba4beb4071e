import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { draft, listen, rowsWithKey, storeRow } from '../support/notification-store-kit.js';

/**
 * The NOTIFY of `storeNotification` on real PostgreSQL: one per stored row with its full client
 * payload, none for a repeat, sent at commit only (none after a rollback), and a fallback payload
 * (the id) past the size limit.
 */
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
  await db.query("insert into users (id) values ('u1')");
});
after(async () => {
  await db?.drop();
});

describe('storeNotification announces', () => {
  it('announces a stored notification with its full client payload, and a repeat not at all', async (t) => {
    const listener = await listen(db, t);
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
    const listener = await listen(db, t);
    const notification = draft();
    let storedId = '';
    await db.orm.em.fork().transactional(async (tx) => {
      const stored = await storeRow(tx, notification);
      assert.equal(stored.created, true);
      storedId = stored.id;
      await listener.flush();
      assert.deepEqual(listener.received, [], 'no NOTIFY before commit');
      assert.deepEqual(await rowsWithKey(db, notification.idempotencyKey), [], 'row invisible before commit');
      // Inside the transaction the row is there: a repeat sees it.
      assert.deepEqual(await storeRow(tx, notification), { id: stored.id, created: false });
    });
    const payload = await listener.next(storedId);
    assert.equal(payload.title, notification.title);
    assert.equal(listener.received.length, 1);
    assert.equal((await rowsWithKey(db, notification.idempotencyKey)).length, 1);
  });

  it('neither stores nor notifies when the enclosing transaction rolls back', async (t) => {
    const listener = await listen(db, t);
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
    assert.deepEqual(await rowsWithKey(db, notification.idempotencyKey), []);

    const later = await storeRow(db.orm.em.fork(), draft());
    await listener.next(later.id);
    assert.deepEqual(
      listener.received.map((p) => p.id),
      [later.id],
    );
  });

  it('stores a notification too big for NOTIFY and announces its id only', async (t) => {
    const listener = await listen(db, t);
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
    assert.equal((await rowsWithKey(db, big.idempotencyKey))[0]!.body, big.body);
    assert.equal((await rowsWithKey(db, wide.idempotencyKey))[0]!.body, wide.body);
  });
});
