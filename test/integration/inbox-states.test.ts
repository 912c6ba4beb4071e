import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import { inboxMarkResult, notificationPage } from '../../server/http/api-schemas.js';
import {
  base,
  call,
  countsOf,
  lastCounts,
  listIds,
  notifyMany,
  rowState,
  useInboxServer,
} from '../support/inbox-states.js';
import { httpRequest, openSocket } from '../support/notify-server.js';

/**
 * Inbox states over REST on a real server and PostgreSQL: archive and unarchive, the seen mark,
 * the inbox and archive lists, the counts per state, their answers to ids of another user,
 * unknown ids and repeats, the bounds of their input, and marks racing on the same rows. On the
 * socket: inbox-states-socket.test.ts. docs/api.md and docs/protocol.md, "Inbox states".
 */

const server = useInboxServer();
describe('inbox states over REST', () => {
  it('archive: out of the inbox and the unread count, into the archive; unarchive brings it back unread', async () => {
    const [a, b, c] = (await notifyMany('ana', 3)) as [string, string, string];
    assert.deepEqual(await countsOf('ana'), {
      unread: 3,
      unseen: 3,
      archived: 0,
      lastSeenId: '0',
      seenAt: null,
    });

    const archived = await call('ana', '/archive', { ids: [b] });
    assert.equal(archived.status, 200, archived.text);
    assert.deepEqual(inboxMarkResult.parse(archived.json), {
      updated: 1,
      counts: { unread: 2, unseen: 2, archived: 1, lastSeenId: '0' },
    });
    assert.deepEqual(await listIds('ana'), [c, a], 'the inbox, newest first, without the archived one');
    assert.deepEqual(await listIds('ana', 'state=inbox'), [c, a]);
    assert.deepEqual(await listIds('ana', 'state=archived'), [b]);
    const [archivedItem] = notificationPage.parse((await call('ana', '?state=archived')).json).items;
    assert.match(archivedItem!.archivedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(archivedItem!.readAt, null, 'archiving does not read it');
    const unreadCount = await call('ana', '/unread-count');
    assert.deepEqual(unreadCount.json, { count: 2 }, 'the unread count leaves archived ones out');

    const unarchived = await call('ana', '/unarchive', { ids: [b] });
    assert.deepEqual(inboxMarkResult.parse(unarchived.json), {
      updated: 1,
      counts: { unread: 3, unseen: 3, archived: 0, lastSeenId: '0' },
    });
    assert.deepEqual(await listIds('ana'), [c, b, a]);
    assert.deepEqual(await listIds('ana', 'state=archived'), []);
    assert.equal((await rowState(b))?.archived, false);
  });

  it('repeats, unknown ids and ids of another user: defined answers, nothing of the other user touched', async () => {
    const [mine] = (await notifyMany('bea', 1)) as [string];
    const [theirs] = (await notifyMany('carl', 1)) as [string];
    const first = inboxMarkResult.parse((await call('bea', '/archive', { ids: [mine] })).json);
    assert.equal(first.updated, 1);
    const again = inboxMarkResult.parse((await call('bea', '/archive', { ids: [mine] })).json);
    assert.deepEqual(again, { ...first, updated: 0 }, 'archiving twice: nothing more changes, same counts');
    const unknown = await call('bea', '/archive', { ids: ['9223372036854775807', '0'] });
    assert.equal(unknown.status, 200, unknown.text);
    assert.equal(inboxMarkResult.parse(unknown.json).updated, 0);
    // Carl's id is answered as an unknown one would be: nothing says it exists.
    const foreign = await call('bea', '/archive', { ids: [theirs] });
    assert.deepEqual(inboxMarkResult.parse(foreign.json), inboxMarkResult.parse(unknown.json));
    assert.deepEqual(await rowState(theirs), { user_id: 'carl', read: false, archived: false });
    const foreignUnarchive = await call('bea', '/unarchive', { ids: [theirs] });
    assert.equal(inboxMarkResult.parse(foreignUnarchive.json).updated, 0);
    const foreignRead = await call('bea', '/read', { ids: [theirs] });
    assert.equal(foreignRead.json.updated, 0);
    assert.deepEqual(await rowState(theirs), { user_id: 'carl', read: false, archived: false });
    assert.deepEqual(await countsOf('carl'), {
      unread: 1,
      unseen: 1,
      archived: 0,
      lastSeenId: '0',
      seenAt: null,
    });
    // Unarchiving what is not archived: nothing changes.
    const [inInbox] = (await notifyMany('bea', 1)) as [string];
    const notArchived = inboxMarkResult.parse((await call('bea', '/unarchive', { ids: [inInbox] })).json);
    assert.equal(notArchived.updated, 0);
    assert.equal((await rowState(inInbox))?.archived, false);
    // Another user's routes: 403 whatever the body.
    const otherPath = await httpRequest(`${server().url}${base('carl')}/archive`, {
      token: await server().token('bea'),
      body: { ids: [theirs] },
    });
    assert.equal(otherPath.status, 403, otherPath.text);
  });

  it('seen: up to the newest id at or below the one given, never down, never past what exists', async () => {
    const [a, b, c] = (await notifyMany('dan', 3)) as [string, string, string];
    const seen = inboxMarkResult.parse((await call('dan', '/seen', { lastId: b })).json);
    assert.deepEqual(seen, { updated: 1, counts: { unread: 3, unseen: 1, archived: 0, lastSeenId: b } });
    const counts = await countsOf('dan');
    assert.equal(counts.lastSeenId, b);
    assert.match(counts.seenAt ?? '', /Z$/);
    const back = inboxMarkResult.parse((await call('dan', '/seen', { lastId: a })).json);
    assert.deepEqual(back, { updated: 0, counts: seen.counts }, 'an older id moves nothing');
    // An id beyond the newest: everything there is now is seen, not what comes later.
    const future = inboxMarkResult.parse(
      (await call('dan', '/seen', { lastId: '9223372036854775807' })).json,
    );
    assert.deepEqual(future.counts, { unread: 3, unseen: 0, archived: 0, lastSeenId: c });
    const [d] = (await notifyMany('dan', 1)) as [string];
    assert.deepEqual(await countsOf('dan').then(({ unseen, lastSeenId }) => ({ unseen, lastSeenId })), {
      unseen: 1,
      lastSeenId: c,
    });
    // Archived notifications are not "new": archiving the unseen one takes it out of unseen.
    const archived = inboxMarkResult.parse((await call('dan', '/archive', { ids: [d] })).json);
    assert.deepEqual(archived.counts, { unread: 3, unseen: 0, archived: 1, lastSeenId: c });
    // Seen reads nothing: the unread count stays.
    assert.equal((await countsOf('dan')).unread, 3);
  });

  it('read-all marks the inbox only: an archived unread one comes back unread', async () => {
    const [a, b] = (await notifyMany('eva', 2)) as [string, string];
    await call('eva', '/archive', { ids: [a] });
    const readAll = await call('eva', '/read-all', {});
    assert.deepEqual(readAll.json, { updated: 1, unreadCount: 0 });
    assert.deepEqual(await rowState(a), { user_id: 'eva', read: false, archived: true });
    assert.equal((await rowState(b))?.read, true);
    const back = inboxMarkResult.parse((await call('eva', '/unarchive', { ids: [a] })).json);
    assert.equal(back.counts.unread, 1);
  });

  it('the archive pages with `before` like the inbox, and `unread=true` filters it', async () => {
    const ids = await notifyMany('finn', 5);
    await call('finn', '/archive', { ids });
    await call('finn', '/read', { ids: [ids[3]!] });
    const first = notificationPage.parse((await call('finn', '?state=archived&limit=2')).json);
    assert.deepEqual(
      first.items.map((item) => item.id),
      [ids[4], ids[3]],
    );
    const second = notificationPage.parse(
      (await call('finn', `?state=archived&limit=2&before=${first.nextCursor}`)).json,
    );
    assert.deepEqual(
      second.items.map((item) => item.id),
      [ids[2], ids[1]],
    );
    const last = notificationPage.parse(
      (await call('finn', `?state=archived&limit=2&before=${second.nextCursor}`)).json,
    );
    assert.deepEqual(
      last.items.map((item) => item.id),
      [ids[0]],
    );
    assert.equal(last.nextCursor, null);
    assert.deepEqual(await listIds('finn', 'state=archived&unread=true'), [ids[4], ids[2], ids[1], ids[0]]);
    assert.deepEqual(await listIds('finn'), []);
  });

  it('refuses bad input with validation_failed naming the field, the batch bounded like mark-read', async () => {
    const cases: Array<{ path: string; body?: unknown; field: string }> = [
      { path: '/archive', body: { ids: [] }, field: 'ids' },
      {
        path: '/archive',
        body: { ids: Array.from({ length: MARK_READ_MAX_IDS + 1 }, (_, index) => String(index + 1)) },
        field: 'ids',
      },
      { path: '/unarchive', body: { ids: ['12a'] }, field: 'ids.0' },
      { path: '/unarchive', body: { ids: ['9223372036854775808'] }, field: 'ids.0' },
      { path: '/archive', body: { ids: ['1'], all: true }, field: 'all' },
      { path: '/seen', body: {}, field: 'lastId' },
      { path: '/seen', body: { lastId: -1 }, field: 'lastId' },
      { path: '?state=trash', field: 'query.state' },
    ];
    for (const { path, body, field } of cases) {
      const reply = await call('gus', path, body);
      assert.equal(reply.status, 400, `${path} ${JSON.stringify(body)?.slice(0, 60)}: ${reply.text}`);
      assert.equal(reply.json.error.code, 'validation_failed');
      assert.deepEqual(
        reply.json.error.issues?.map((issue) => issue.field),
        [field],
        `${path}: ${reply.text.slice(0, 300)}`,
      );
    }
    const full = await call('gus', '/archive', {
      ids: Array.from({ length: MARK_READ_MAX_IDS }, (_, index) => String(index + 1)),
    });
    assert.equal(full.status, 200, `${MARK_READ_MAX_IDS} ids are accepted: ${full.text}`);
  });

  it('mark-read and archive racing on the same rows: applied one after the other, counts as the rows say', async () => {
    const ids = await notifyMany('hana', 40);
    const tab = await openSocket(`${server().wsUrl}/api/v1/ws/${await server().token('hana')}`);
    try {
      await tab.waitFor('the opening counts', () => (lastCounts(tab)?.unread === 40 ? true : undefined));
      const halves = [ids.slice(0, 25), ids.slice(15)];
      const replies = await Promise.all([
        call('hana', '/read', { ids: halves[0] }),
        call('hana', '/archive', { ids: halves[1] }),
        call('hana', '/read', { ids: halves[1] }),
        call('hana', '/archive', { ids: halves[0] }),
        call('hana', '/unarchive', { ids: ids.slice(30) }),
        call('hana', '/seen', { lastId: ids[20] }),
      ]);
      for (const reply of replies) assert.equal(reply.status, 200, reply.text);
      const [rows] = await server().db.query<{ unread: string; archived: string; all: string }>(
        `select count(*) filter (where read_at is null and archived_at is null) as unread,
                count(*) filter (where archived_at is not null) as archived, count(*) as all
           from notifications where user_id = 'hana'`,
      );
      assert.equal(rows?.all, '40');
      assert.equal(rows?.unread, '0', 'every row was read by one of the marks');
      const counts = await countsOf('hana');
      assert.equal(counts.archived, Number(rows?.archived));
      assert.equal(counts.unread, 0);
      assert.equal(counts.lastSeenId, ids[20]);
      // The tab's counts end as the database has them: no stale count came after a newer one.
      const { seenAt: _seenAt, ...expected } = counts;
      await tab.waitFor('the final counts on the tab', () =>
        JSON.stringify(lastCounts(tab)) === JSON.stringify(expected) ? true : undefined,
      );
      // Their dates increase frame after frame (`version`, the user's order of marks).
      const versions = tab.messages
        .filter((message) => message.type === 'unread_count')
        .map((message) => BigInt(message.version as string));
      assert.ok(versions.length >= 2, `frames: ${versions.join(', ')}`);
      for (let index = 1; index < versions.length; index += 1)
        assert.ok(versions[index]! >= versions[index - 1]!, `versions in order: ${versions.join(', ')}`);
    } finally {
      tab.ws.close();
    }
  });
});
