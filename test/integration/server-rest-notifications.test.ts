import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { wireNotification } from '../../server/protocol/messages.js';
import {
  httpRequest,
  type ReplyJson,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';
import { socketFor, type Notification } from '../support/server-rest.js';

/**
 * The REST API of a real server, without Temporal: a user's own notifications (keyset pages,
 * unread filter and count, mark read, read-all, another user's ids left alone), and the unread
 * count a socket gets after marks made over WebSocket.
 */

let harness: ServerHarness;

before(async () => {
  harness = await startServerHarness();
});
after(async () => {
  await harness?.close();
});

interface Page {
  items: Notification[];
  nextCursor: string | null;
}

const unreadCounts = (socket: TestSocket): number[] =>
  socket.messages
    .filter((message) => message.type === 'unread_count')
    .map((message) => message.count as number);

describe('user routes', () => {
  let token: string;
  let ids: string[]; // alice's, oldest first
  let bobId: string;
  const api = <T = ReplyJson>(path: string, options: Parameters<typeof httpRequest>[1] = {}) =>
    httpRequest<T>(`${harness.url}/api/v1/users/me/notifications${path}`, { token, ...options });

  before(async () => {
    token = await harness.token('alice');
    ids = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push(await harness.notify('alice', `Alice ${index}`));
      if (index === 2) bobId = await harness.notify('bob');
    }
  });

  it('lists my notifications newest first, in keyset pages of 2, 2, 1 without overlap', async () => {
    const pages: Page[] = [];
    let cursor: string | null | undefined;
    do {
      const reply = await api<Page>(`?limit=2${cursor ? `&before=${cursor}` : ''}`);
      assert.equal(reply.status, 200);
      const page = reply.json;
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 10);

    assert.deepEqual(
      pages.map((page) => page.items.length),
      [2, 2, 1],
    );
    assert.equal(pages[2]!.nextCursor, null);
    assert.equal(pages[0]!.nextCursor, pages[0]!.items[1]!.id);
    const listed = pages.flatMap((page) => page.items.map((item) => item.id));
    assert.deepEqual(listed, [...ids].reverse(), 'newest first, every one once');
    assert.ok(!listed.includes(bobId));
    for (const item of pages.flatMap((page) => page.items)) {
      wireNotification.parse(item); // the documented wire format
      assert.equal(item.userId, 'alice');
      assert.equal(item.readAt, null);
    }
    const all = (await api<Page>('')).json;
    assert.deepEqual(
      all.items.map((item) => item.id),
      [...ids].reverse(),
    );
    assert.equal(all.nextCursor, null);
  });

  it("marks read by ids, ignoring another user's id; filters unread; counts unread", async () => {
    assert.deepEqual((await api('/unread-count')).json, { count: 5 });
    const marked = await api('/read', { body: { ids: [ids[1], ids[3], bobId] } });
    assert.equal(marked.status, 200);
    assert.deepEqual(marked.json, { updated: 2, unreadCount: 3 });
    const again = await api('/read', { body: { ids: [ids[1]] } });
    assert.deepEqual(again.json, { updated: 0, unreadCount: 3 }, 'marking twice changes nothing');

    const [bobRow] = await harness.db.query<{ read_at: Date | null }>(
      'select read_at from notifications where id = $1',
      [bobId],
    );
    assert.equal(bobRow!.read_at, null, "bob's notification is not marked");
    const bob = await httpRequest(`${harness.url}/api/v1/users/bob/notifications/unread-count`, {
      token: await harness.token('bob'),
    });
    assert.deepEqual(bob.json, { count: 1 });

    assert.deepEqual((await api('/unread-count')).json, { count: 3 });
    const unread = (await api<Page>('?unread=true')).json;
    assert.deepEqual(
      unread.items.map((item) => item.id),
      [ids[4], ids[2], ids[0]],
    );
    const unreadPage = (await api<Page>('?unread=true&limit=2')).json;
    assert.deepEqual(
      unreadPage.items.map((item) => item.id),
      [ids[4], ids[2]],
    );
    const rest = (await api<Page>(`?unread=true&before=${unreadPage.nextCursor}`)).json;
    assert.deepEqual(
      rest.items.map((item) => item.id),
      [ids[0]],
    );
    const everything = (await api<Page>('?unread=false')).json;
    assert.equal(everything.items.length, 5);
    for (const item of everything.items) {
      assert.equal(item.readAt !== null, item.id === ids[1] || item.id === ids[3], item.id);
    }
  });

  it('read-all marks the rest', async () => {
    const reply = await api('/read-all', { method: 'POST' });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { updated: 3, unreadCount: 0 });
    assert.deepEqual((await api('/unread-count')).json, { count: 0 });
    assert.deepEqual((await api('?unread=true')).json, { items: [], nextCursor: null });
    const bob = await httpRequest(`${harness.url}/api/v1/users/bob/notifications/unread-count`, {
      token: await harness.token('bob'),
    });
    assert.deepEqual(bob.json, { count: 1 }, "read-all leaves bob's alone");
  });

  it('a socket gets its unread_count after mark_read and mark_all_read over WebSocket', async () => {
    const carolIds = [
      await harness.notify('carol'),
      await harness.notify('carol'),
      await harness.notify('carol'),
    ];
    const socket = await socketFor(harness, 'carol');
    assert.deepEqual(unreadCounts(socket), [3]);

    socket.send({ type: 'mark_read', ids: [carolIds[0]] });
    await socket.waitFor('the count after mark_read', () => unreadCounts(socket).length === 2);
    assert.deepEqual(unreadCounts(socket), [3, 2]);
    const carolToken = await harness.token('carol');
    const count = await httpRequest(`${harness.url}/api/v1/users/me/notifications/unread-count`, {
      token: carolToken,
    });
    assert.deepEqual(count.json, { count: 2 });

    socket.send({ type: 'mark_all_read' });
    await socket.waitFor('the count after mark_all_read', () => unreadCounts(socket).length === 3);
    assert.deepEqual(unreadCounts(socket), [3, 2, 0]);
    const after = await httpRequest(`${harness.url}/api/v1/users/me/notifications/unread-count`, {
      token: carolToken,
    });
    assert.deepEqual(after.json, { count: 0 });
    assert.ok(!socket.messages.some((message) => message.type === 'error'));
    socket.ws.close();
  });
});
