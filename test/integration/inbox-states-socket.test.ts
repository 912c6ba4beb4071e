import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import { openSocket } from '../support/notify-server.js';
import { call, lastCounts, notifyMany, useInboxServer } from '../support/inbox-states.js';

/**
 * Inbox states on the socket, on a real server and PostgreSQL: a mark on one tab (or over REST)
 * sends the new counts to every tab of the user and to nobody else's; bad marks are refused with
 * an error frame naming the field and the ref, the socket staying open.
 */

const server = useInboxServer();
describe('inbox states on the socket', () => {
  it("a mark on one tab (or REST) sends the new counts to every tab of the user, and to nobody else's", async () => {
    const [a, b] = (await notifyMany('ines', 2)) as [string, string];
    const token = await server().token('ines');
    const tabs = [
      await openSocket(`${server().wsUrl}/api/v1/ws/${token}`),
      await openSocket(`${server().wsUrl}/api/v1/ws/${token}`),
    ];
    const stranger = await openSocket(`${server().wsUrl}/api/v1/ws/${await server().token('jon')}`);
    try {
      for (const tab of tabs)
        await tab.waitFor('the opening counts', () => (lastCounts(tab)?.unread === 2 ? true : undefined));
      assert.deepEqual(lastCounts(tabs[0]!), { unread: 2, unseen: 2, archived: 0, lastSeenId: '0' });

      tabs[0]!.send({ type: 'archive', ids: [a], ref: 'r-1' });
      await tabs[0]!.waitFor('marked r-1', (messages) =>
        messages.some((message) => message.type === 'marked' && message.ref === 'r-1'),
      );
      for (const tab of tabs)
        await tab.waitFor('the counts after archive', () =>
          lastCounts(tab)?.archived === 1 ? true : undefined,
        );
      assert.deepEqual(lastCounts(tabs[1]!), { unread: 1, unseen: 1, archived: 1, lastSeenId: '0' });

      tabs[1]!.send({ type: 'mark_seen', lastId: b, ref: 'r-2' });
      for (const tab of tabs)
        await tab.waitFor('the counts after seen', () =>
          lastCounts(tab)?.lastSeenId === b ? true : undefined,
        );
      assert.deepEqual(lastCounts(tabs[0]!), { unread: 1, unseen: 0, archived: 1, lastSeenId: b });

      await call('ines', '/unarchive', { ids: [a] });
      for (const tab of tabs)
        await tab.waitFor('the counts after a REST unarchive', () =>
          lastCounts(tab)?.archived === 0 ? true : undefined,
        );
      // Unarchived: unread again, and not "new" (it is below the seen mark).
      assert.deepEqual(lastCounts(tabs[1]!), { unread: 2, unseen: 0, archived: 0, lastSeenId: b });

      tabs[0]!.send({ type: 'unarchive', ids: [b], ref: 'r-3' });
      await tabs[0]!.waitFor('marked r-3', (messages) =>
        messages.some((message) => message.type === 'marked' && message.ref === 'r-3'),
      );
      assert.equal(
        stranger.messages.filter((message) => message.type === 'unread_count').length,
        1,
        "another user's tab got its opening count only",
      );
    } finally {
      for (const socket of [...tabs, stranger]) socket.ws.close();
    }
  });

  it('refuses bad marks with an error frame naming the field and the ref; the socket stays open', async () => {
    const tab = await openSocket(`${server().wsUrl}/api/v1/ws/${await server().token('kim')}`);
    try {
      tab.send({ type: 'archive', ids: ['x'], ref: 'bad-1' });
      tab.send({ type: 'mark_seen', ref: 'bad-2' });
      tab.send({
        type: 'unarchive',
        ids: Array.from({ length: MARK_READ_MAX_IDS + 1 }, () => '1'),
        ref: 'bad-3',
      });
      const errors = await tab.waitFor('three errors', (messages) => {
        const found = messages.filter((message) => message.type === 'error');
        return found.length === 3 ? found : undefined;
      });
      assert.deepEqual(
        errors.map((error) => [error.ref, error.code, String(error.message).split(':')[0]]),
        [
          ['bad-1', 'validation_failed', 'ids.0'],
          ['bad-2', 'validation_failed', 'lastId'],
          ['bad-3', 'validation_failed', 'ids'],
        ],
      );
      const [id] = (await notifyMany('kim', 1)) as [string];
      await tab.waitFor('a notification after the refusals', () => tab.ids().includes(id));
      const notification = tab.messages.find((message) => message.type === 'notification')?.notification as
        { archivedAt: unknown } | undefined;
      assert.equal(notification?.archivedAt, null, 'a live notification carries archivedAt: null');
    } finally {
      tab.ws.close();
    }
  });
});
