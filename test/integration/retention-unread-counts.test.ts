import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { storeNotification } from '../../activities/notification-store.js';
import { UNREAD_CHANNEL } from '../../db/orm.js';
import {
  ago,
  DAY,
  db,
  insertNotification,
  keys,
  now,
  retention,
  run,
  setUpRetentionDatabase,
} from '../support/retention.js';
import { waitFor } from '../support/wait.js';

/**
 * The notification retention's activity against real PostgreSQL (test/support/retention.ts): what
 * it tells the user's tabs (their new unread count, under the user's lock, dated by the newest row
 * removed; one count per user for a backlog, not one per batch), and never waiting for a user's
 * lock held by a notification being stored.
 */

setUpRetentionDatabase();
/** The unread count of a counts NOTIFY, its user and its newest id (the other fields: inbox-states.test.ts). */
const unreadOf = (payload: string): { userId: string; unread: number; latestId: string } => {
  const { userId, unread, latestId } = JSON.parse(payload) as {
    userId: string;
    unread: number;
    latestId: string;
  };
  return { userId, unread, latestId };
};

describe('notification retention (real PostgreSQL)', () => {
  it("tells the user's tabs their new unread count, under the user's lock, dated by the newest removed; never waits for a held user lock", async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const counts: Array<{ userId: string; unread: number; latestId: string }> = [];
    listener.on('notification', (message) => {
      if (message.channel === UNREAD_CHANNEL) counts.push(unreadOf(message.payload!));
    });
    await listener.query(`listen ${UNREAD_CHANNEL}`);
    try {
      const oldUnread = await insertNotification({
        key: 'lea-old-unread',
        createdAt: ago(400 * DAY),
        read: false,
      });
      await insertNotification({ key: 'lea-old-unread-2', createdAt: ago(399 * DAY), read: false });
      const newest = await insertNotification({ key: 'lea-recent-unread', createdAt: ago(DAY), read: false });
      // Max loses only read rows he has seen, and all of them: no count for Max (none has changed).
      const maxOld = await insertNotification({
        key: 'max-old-read',
        userId: 'max',
        createdAt: ago(400 * DAY),
      });
      await db.query(
        `insert into notification_inbox_states (user_id, last_seen_id) values ('max', $1)
         on conflict (user_id) do update set last_seen_id = excluded.last_seen_id`,
        [maxOld],
      );
      // A notification of Léa's being stored (its transaction holds her lock): the batch does not
      // wait for it (it would hold the locks of every other user of the batch meanwhile), it
      // leaves her rows for the next run and removes the others'.
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      let meanwhile: string;
      const { removeOldNotifications } = retention();
      try {
        await holder.query('begin');
        await holder.query(`select lock_user_notifications('lea')`);
        const started = Date.now();
        const held = await run(removeOldNotifications, now());
        assert.ok(Date.now() - started < 2_000, 'not waiting for a user lock');
        assert.deepEqual(held.result, {
          removed: 1,
          unread: 0,
          kept: 0,
          skipped: 2,
          batches: 1,
          complete: true,
        });
        assert.deepEqual(await keys(), ['lea-old-unread', 'lea-old-unread-2', 'lea-recent-unread']);
        // Max, whom the held lock does not concern, gets a notification meanwhile, at once.
        const stored = await storeNotification(db.orm.em.fork(), {
          idempotencyKey: 'max-new',
          userId: 'max',
          type: 'dossier_update',
          kind: 'updated',
          dossierId: null,
          title: 't',
          body: 'b',
          data: {},
          scheduledFor: null,
        });
        assert.equal(stored.created, true);
        [{ id: meanwhile }] = (
          await holder.query<{ id: string }>(
            `insert into notifications (idempotency_key, user_id, type, kind, title, body)
             values ('lea-meanwhile', 'lea', 'dossier_update', 'updated', 't', 'b') returning id::text as id`,
          )
        ).rows as [{ id: string }];
        await holder.query('commit');
      } finally {
        await holder.end();
      }
      assert.deepEqual(counts, [], 'no count for rows not removed');
      // The next run removes them; its count includes the notification stored meanwhile.
      const { result } = await run(removeOldNotifications, now());
      assert.equal(result.removed, 2);
      await waitFor('the unread count', () => counts.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(counts, [{ userId: 'lea', unread: 2, latestId: meanwhile }]);
      assert.ok(BigInt(meanwhile) > BigInt(newest) && BigInt(newest) > BigInt(oldUnread));

      // A user left with nothing: the count is dated by the newest row removed.
      counts.length = 0;
      await db.query(`delete from notifications where user_id = 'lea'`);
      const only = await insertNotification({
        key: 'lea-only-old-unread',
        createdAt: ago(400 * DAY),
        read: false,
      });
      await run(removeOldNotifications, now());
      await waitFor('the unread count', () => counts.length > 0);
      assert.deepEqual(counts, [{ userId: 'lea', unread: 0, latestId: only }]);

      // Her newest row removed was read (and her tab's count dated by it, as her mark dated it):
      // the count is dated by it, not by the newest unread one, or the hub would drop it as older.
      counts.length = 0;
      await insertNotification({ key: 'lea-older-unread', createdAt: ago(420 * DAY), read: false });
      const newestRead = await insertNotification({ key: 'lea-newest-read', createdAt: ago(400 * DAY) });
      await run(removeOldNotifications, now());
      await waitFor('the unread count', () => counts.length > 0);
      assert.deepEqual(counts, [{ userId: 'lea', unread: 0, latestId: newestRead }]);
    } finally {
      await listener.end();
    }
  });

  it('a backlog: one unread count per user, not one per batch', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const counts: Array<{ userId: string; unread: number; latestId: string }> = [];
    listener.on('notification', (message) => {
      if (message.channel === UNREAD_CHANNEL) counts.push(unreadOf(message.payload!));
    });
    await listener.query(`listen ${UNREAD_CHANNEL}`);
    try {
      // Léa's and Max's old unread rows interleaved: each of the five batches removes some of both.
      let newest = { lea: '', max: '' };
      for (let i = 0; i < 10; i += 1) {
        const userId = i % 2 === 0 ? 'lea' : 'max';
        const id = await insertNotification({
          key: `old-${i}`,
          userId,
          createdAt: ago(400 * DAY - i),
          read: false,
        });
        newest = { ...newest, [userId]: id };
      }
      const recent = await insertNotification({ key: 'lea-recent', createdAt: ago(DAY), read: false });
      const { result } = await run(retention({}, { batchSize: 2 }).removeOldNotifications, now());
      assert.equal(result.removed, 10);
      assert.equal(result.batches, 6);
      await waitFor('the unread counts', () => counts.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(
        [...counts].sort((a, b) => a.userId.localeCompare(b.userId)),
        [
          { userId: 'lea', unread: 1, latestId: recent },
          { userId: 'max', unread: 0, latestId: newest.max },
        ],
      );
    } finally {
      await listener.end();
    }
  });
});
