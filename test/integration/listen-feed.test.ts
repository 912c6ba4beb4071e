import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { FeedControl, killListener } from '../support/feed-control.js';
import {
  httpRequest,
  openSocket,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';

/**
 * The LISTEN feed's gaps, each ordered step by step through the feed's
 * hooks: a second drop during a catch-up, an oversized payload whose read fails, and unread
 * counts announced while a catch-up has not read its own yet.
 */

async function withHarness(control: FeedControl, test: (harness: ServerHarness) => Promise<void>) {
  const harness = await startServerHarness({ feed: { type: 'listen', hooks: control.hooks } });
  try {
    await test(harness);
  } finally {
    for (const point of ['catch-up 1', 'catch-up 2', 'catch-up 3', 'payload', 'reconnect'])
      control.release(point);
    await harness.close();
  }
}

async function openTab(harness: ServerHarness, user: string): Promise<TestSocket> {
  const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`);
  await socket.waitFor('the unread count', (messages) => messages.some((m) => m.type === 'unread_count'));
  return socket;
}

describe('LISTEN feed gaps', () => {
  it('delivers every notification once, in order, when the connection drops again during the catch-up', async () => {
    const control = new FeedControl();
    await withHarness(control, async (harness) => {
      const user = 'double-drop';
      const socket = await openTab(harness, user);

      // First drop: the catch-up after the reconnection waits before its first read.
      control.hold('catch-up 1');
      assert.equal(await killListener(harness.db), 1);
      await control.reached('catch-up 1');
      // Second drop, during that catch-up; the connection stays down for now.
      control.hold('reconnect');
      assert.equal(await killListener(harness.db), 1);
      await control.reached('reconnect');
      const [one, two] = [await harness.notify(user), await harness.notify(user)];
      // The first catch-up goes on: it reads both from the table.
      control.hold('catch-up 2');
      control.release('catch-up 1');
      await socket.waitFor('1 and 2 from the first catch-up', () => socket.ids().includes(two));
      // 3 commits with no LISTEN connection at all; then the connection comes back, and 4
      // arrives live while the second catch-up has not read yet.
      const three = await harness.notify(user);
      control.release('reconnect');
      await control.reached('catch-up 2');
      const four = await harness.notify(user);
      await control.reached(`received ${four}`);
      control.release('catch-up 2');

      await socket.waitFor('the live one', () => socket.ids().includes(four));
      assert.deepEqual(socket.ids(), [one, two, three, four]);
      socket.ws.close();
    });
  });

  it('delivers an oversized notification whose read fails, before the ones after it', async () => {
    const control = new FeedControl();
    await withHarness(control, async (harness) => {
      const user = 'truncated-read';
      const socket = await openTab(harness, user);

      control.hold('payload');
      const big = await harness.notify(user, 'Big', { body: 'x'.repeat(9000) });
      await control.reached('payload');
      const small = await harness.notify(user);
      await control.reached(`received ${small}`);
      // The read of the oversized row fails for real: its backend is terminated while it waits
      // for a lock the test holds on the table.
      const locker = new pg.Client({ connectionString: harness.db.url });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query('lock table notifications in access exclusive mode');
        control.release('payload');
        const [reader] = await waitFor('the blocked read of the oversized row', async () => {
          const rows = await harness.db.query<{ pid: number }>(
            `select pid from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock' and query ilike '%where n.id = %'`,
          );
          return rows.length === 1 && rows;
        });
        await harness.db.query('select pg_terminate_backend($1, 5000)', [reader!.pid]);
        await locker.query('rollback');
      } finally {
        await locker.end();
      }

      await socket.waitFor('the one after it', () => socket.ids().includes(small));
      assert.deepEqual(socket.ids(), [big, small]);
      socket.ws.close();
    });
  });

  it("publishes no count older than the catch-up's after it", async () => {
    // A read-all (count 0) then a new notification (count 1) commit after LISTEN is back but
    // before the catch-up reads its summary: both payloads are held, and were released after the
    // catch-up's fresher count, so the tab ended on 0 while the database had 1 unread.
    const control = new FeedControl();
    await withHarness(control, async (harness) => {
      const user = 'stale-count';
      const token = await harness.token(user);
      await harness.notify(user);
      await harness.notify(user);
      const socket = await openTab(harness, user);

      control.hold('catch-up 1');
      assert.equal(await killListener(harness.db), 1);
      await control.reached('catch-up 1');
      const readAll = await httpRequest(`${harness.url}/api/v1/users/me/notifications/read-all`, {
        method: 'POST',
        token,
      });
      assert.equal(readAll.status, 200, readAll.text);
      await control.reached('received unread');
      const third = await harness.notify(user);
      await control.reached(`received ${third}`);
      control.release('catch-up 1');

      // A later notification, live: whatever the catch-up and the held payloads sent is before it.
      await socket.waitFor('the third', () => socket.ids().includes(third));
      const fourth = await harness.notify(user);
      await socket.waitFor('the fourth', () => socket.ids().includes(fourth));
      const frames = socket.messages
        .slice(1)
        .map((message) =>
          message.type === 'notification'
            ? `notification ${(message.notification as { id: string }).id}`
            : `${String(message.type)} ${String(message.count)}`,
        );
      const beforeFourth = frames.slice(0, frames.indexOf(`notification ${fourth}`));
      const counts = beforeFourth.filter((entry) => entry.startsWith('unread_count'));
      // One unread (the third) when the fourth committed: the last count before it must say so.
      assert.equal(counts.at(-1), 'unread_count 1', `frames: ${frames.join(', ')}`);
      assert.deepEqual(socket.ids(), [third, fourth]);
      socket.ws.close();
    });
  });
});
