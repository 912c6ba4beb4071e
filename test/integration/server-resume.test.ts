import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSocket, startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';

/** Resume and catch-up: no gap, no duplicate, across reconnects and LISTEN outages. */

let harness: ServerHarness;
before(async () => {
  harness = await startServerHarness();
});
after(async () => {
  await harness?.close();
});

const idsOf = async (userId: string, afterId: string): Promise<string[]> =>
  (
    await harness.db.query<{ id: string }>(
      'select id::text from notifications where user_id = $1 and id > $2 order by notifications.id',
      [userId, afterId],
    )
  ).map((row) => row.id);

describe('resume', () => {
  it('sends the 100 notifications missed while disconnected, in order, then the live stream', async () => {
    const user = 'resume-1';
    const first = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`);
    const seen = await harness.notify(user);
    await first.waitFor('the first notification', () => first.ids().includes(seen));
    first.ws.close();
    await first.closed;

    const missed: string[] = [];
    for (let index = 0; index < 100; index += 1) missed.push(await harness.notify(user));
    const again = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}?lastId=${seen}`);
    const resumed = await again.waitFor('the end of the catch-up', (messages) =>
      messages.find((m) => m.type === 'resumed'),
    );
    assert.equal(resumed.count, 100);
    assert.deepEqual(again.ids(), missed);
    const live = await harness.notify(user);
    await again.waitFor('the live one', () => again.ids().includes(live));
    assert.deepEqual(again.ids(), [...missed, live]);
    again.ws.close();
  });

  for (const via of ['url', 'message'] as const) {
    it(`has no gap and no duplicate when notifications keep committing during the catch-up (resume by ${via})`, async () => {
      const user = `resume-${via}`;
      const lastSeen = await harness.notify(user);
      for (let index = 0; index < 300; index += 1) await harness.notify(user);
      let writing = true;
      const writer = (async () => {
        while (writing) await harness.notify(user);
      })();
      const token = await harness.token(user);
      try {
        // The token in Sec-WebSocket-Protocol; the cursor in the URL, or in a `resume` message.
        const socket = await openSocket(
          `${harness.wsUrl}/api/v1/ws${via === 'url' ? `?lastId=${lastSeen}` : ''}`,
          ['normx-notify', token],
        );
        if (via === 'message') socket.send({ type: 'resume', lastId: lastSeen });
        await socket.waitFor('the end of the catch-up', (messages) =>
          messages.some((m) => m.type === 'resumed'),
        );
        await waitFor('more live notifications', () => socket.ids().length > 330);
        writing = false;
        await writer;
        const expected = await idsOf(user, lastSeen);
        await socket.waitFor('every committed notification', () => socket.ids().length >= expected.length);
        if (via === 'url') {
          assert.deepEqual(socket.ids(), expected); // in order
        } else {
          // Live frames sent between the upgrade and the `resume` message come first: no gap, no duplicate.
          assert.equal(new Set(socket.ids()).size, socket.ids().length);
          assert.deepEqual(
            [...socket.ids()].sort((a, b) => Number(a) - Number(b)),
            expected,
          );
        }
        socket.ws.close();
      } finally {
        writing = false;
        await writer;
      }
    });
  }
});

describe('resume message', () => {
  it('repeats none of the frames the socket got live before it, however many (1,200 here)', async () => {
    const user = 'resume-late';
    const lastSeen = await harness.notify(user);
    const missed: string[] = [];
    for (let index = 0; index < 4; index += 1) missed.push(await harness.notify(user));
    const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`);
    await socket.waitFor('the unread count', (messages) => messages.some((m) => m.type === 'unread_count'));
    const live: string[] = [];
    for (let index = 0; index < 1200; index += 1) live.push(await harness.notify(user));
    await socket.waitFor('every live notification', () => socket.ids().length >= live.length);

    socket.send({ type: 'resume', lastId: lastSeen });
    const resumed = await socket.waitFor('the end of the catch-up', (messages) =>
      messages.find((m) => m.type === 'resumed'),
    );
    assert.equal(resumed.count, missed.length);
    assert.deepEqual(socket.ids(), [...live, ...missed]);
    socket.ws.close();
  });
});

describe('a cursor the server cannot honour: cursor_reset, then live notifications', () => {
  for (const via of ['url', 'message'] as const) {
    it(`lastId above the user's newest id (by ${via}): cursor_reset with the newest id, then live notifications`, async () => {
      const user = `stale-cursor-${via}`;
      // Seen live by another tab first: its NOTIFY has reached the hub before the socket under
      // test opens, so that socket can only get it by a catch-up, which the stale cursor skips.
      const observer = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`);
      await observer.waitFor('the unread count', (messages) =>
        messages.some((m) => m.type === 'unread_count'),
      );
      const newest = await harness.notify(user);
      await observer.waitFor('the notification live', () => observer.ids().includes(newest));
      observer.ws.close();
      const stale = (BigInt(newest) + 1_000_000n).toString();
      const socket = await openSocket(
        `${harness.wsUrl}/api/v1/ws/${await harness.token(user)}${via === 'url' ? `?lastId=${stale}` : ''}`,
      );
      if (via === 'message') {
        await socket.waitFor('the unread count', (messages) =>
          messages.some((m) => m.type === 'unread_count'),
        );
        socket.send({ type: 'resume', lastId: stale });
      }
      const resumed = await socket.waitFor('the end of the catch-up', (messages) =>
        messages.find((m) => m.type === 'resumed'),
      );
      assert.deepEqual(
        socket.messages.find((m) => m.type === 'cursor_reset'),
        { type: 'cursor_reset', lastId: newest },
      );
      assert.deepEqual(resumed, { type: 'resumed', lastId: newest, count: 0 });
      const live = await harness.notify(user);
      await socket.waitFor('the live notification', () => socket.ids().includes(live));
      assert.deepEqual(socket.ids(), [live]);
      socket.ws.close();
    });
  }

  it('a user with no notification yet: cursor_reset with lastId null', async () => {
    const user = 'stale-cursor-empty';
    const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}?lastId=5`);
    await socket.waitFor('the end of the catch-up', (messages) => messages.some((m) => m.type === 'resumed'));
    assert.deepEqual(
      socket.messages.find((m) => m.type === 'cursor_reset'),
      { type: 'cursor_reset', lastId: null },
    );
    const live = await harness.notify(user);
    await socket.waitFor('the live notification', () => socket.ids().includes(live));
    socket.ws.close();
  });
});

describe('token expiry: the clock tolerance and the warning before the close', () => {
  it("a token past exp but within the verifier's clock tolerance is not closed at once", async () => {
    const user = 'late-token';
    // exp 5 s ago; the verifier accepts it for JWT_CLOCK_TOLERANCE_SECONDS (30) more.
    const token = await harness.token(user, { expiresInSeconds: -5 });
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${token}`);
    // A notification's round trip (commit, NOTIFY, push) later, the socket is still served.
    const live = await harness.notify(user);
    await socket.waitFor('a live notification', () => socket.ids().includes(live));
    assert.ok(!socket.messages.some((m) => m.type === 'error'));
    assert.equal(socket.ws.readyState, socket.ws.OPEN);
    // 25 s left, under the 60-s warning: warned at half of it, not at once.
    const warning = await socket.waitFor(
      'the expiry warning',
      (messages) => messages.find((m) => m.type === 'token_expiring'),
      20_000,
    );
    assert.equal(warning.expiresAt, new Date((exp.exp + 30) * 1000).toISOString());
    assert.equal(socket.ws.readyState, socket.ws.OPEN);
    socket.ws.close();
  });
});

describe('LISTEN connection lost', () => {
  it('loses nothing when the LISTEN backend is terminated while notifications commit', async () => {
    const user = 'listen-kill';
    const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`);
    await socket.waitFor('the unread count', (messages) => messages.some((m) => m.type === 'unread_count'));
    const start = await harness.notify(user);
    await socket.waitFor('the first', () => socket.ids().includes(start));

    const listenBackends = () =>
      harness.db.query<{ pid: number }>(
        `select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`,
      );
    let writing = true;
    const writer = (async () => {
      while (writing) await harness.notify(user);
    })();
    try {
      for (let kill = 0; kill < 3; kill += 1) {
        const [backend] = await waitFor('the LISTEN connection', async () => {
          const backends = await listenBackends();
          return backends.length === 1 && backends;
        });
        // A mark-read whose count NOTIFY is lost (this UPDATE sends none): the catch-up after
        // the reconnection must send a fresh count.
        await harness.db.query(
          'update notifications set read_at = now() where id = (select min(id) from notifications where user_id = $1 and read_at is null)',
          [user],
        );
        await harness.db.query('select pg_terminate_backend($1)', [backend!.pid]);
        await waitFor('a new LISTEN connection', async () => {
          const backends = await listenBackends();
          return backends.length === 1 && backends[0]!.pid !== backend!.pid;
        });
        const [latest] = await harness.db.query<{ id: string }>(
          'select max(id)::text as id from notifications where user_id = $1',
          [user],
        );
        await socket.waitFor('notifications after the reconnection', () => socket.ids().includes(latest!.id));
      }
    } finally {
      writing = false;
      await writer;
    }
    const expected = [start, ...(await idsOf(user, start))];
    await socket.waitFor('every committed notification', () => socket.ids().length >= expected.length);
    assert.deepEqual(socket.ids(), expected);
    // The count a client keeps (the last count, plus each notification after it) is the database's.
    const [{ unread }] = (await harness.db.query<{ unread: number }>(
      'select count(*)::int as unread from notifications where user_id = $1 and read_at is null',
      [user],
    )) as [{ unread: number }];
    const lastCount = socket.messages.findLastIndex((m) => m.type === 'unread_count');
    const kept =
      (socket.messages[lastCount]!.count as number) +
      socket.messages.slice(lastCount + 1).filter((m) => m.type === 'notification').length;
    assert.equal(kept, unread);
    socket.ws.close();
  });
});
