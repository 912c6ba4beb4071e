import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import WebSocket from 'ws';
import {
  openSocket,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';

/**
 * Caps on what one user or one address can make the server do: sockets per
 * user, upgrades per second per address, sessions reading the database at once. Each refusal is
 * an HTTP status with the catalog's JSON error, before the upgrade, on a real server and database.
 */

const harnesses: ServerHarness[] = [];
after(async () => {
  for (const harness of harnesses) await harness.close();
});

async function serverWith(env: NodeJS.ProcessEnv): Promise<ServerHarness> {
  const harness = await startServerHarness({ env });
  harnesses.push(harness);
  return harness;
}

interface Refusal {
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
}

/** An upgrade attempt: `open` (the socket, to close) or the refusal's status, Retry-After and error code. */
function attempt(url: string): Promise<{ open: WebSocket } | { refused: Refusal }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve({ open: ws }));
    ws.once('unexpected-response', (_request, response) => {
      const socket = response.socket;
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        socket.destroy();
        const body = text ? (JSON.parse(text) as { error?: { code?: string } }) : undefined;
        resolve({
          refused: {
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'],
            code: body?.error?.code,
          },
        });
      });
    });
    ws.once('error', reject);
  });
}

const socketUrl = async (harness: ServerHarness, user: string): Promise<string> =>
  `${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`;

const unreadCountOf = (socket: TestSocket) =>
  socket.waitFor('the unread count', (messages) =>
    messages.find((message) => message.type === 'unread_count'),
  );

describe('connection limits', () => {
  it('refuses a user past WS_MAX_SOCKETS_PER_USER with 429 too_many_sockets; others still connect', async () => {
    const harness = await serverWith({ WS_MAX_SOCKETS_PER_USER: '3' });
    const url = await socketUrl(harness, 'uma');
    const sockets = [await openSocket(url), await openSocket(url), await openSocket(url)];
    for (const socket of sockets) await unreadCountOf(socket);
    const fourth = await attempt(url);
    assert.ok('refused' in fourth, 'the fourth socket of one user is refused');
    assert.deepEqual(fourth.refused, {
      status: 429,
      retryAfter: fourth.refused.retryAfter,
      code: 'too_many_sockets',
    });
    assert.match(fourth.refused.retryAfter ?? '', /^\d+$/);
    // Another user is not affected.
    const other = await openSocket(await socketUrl(harness, 'victor'));
    await unreadCountOf(other);
    // A closed socket frees its place.
    sockets[0]!.ws.close();
    await sockets[0]!.closed;
    const again = await waitFor('a place for uma again', async () => {
      const next = await attempt(url);
      return 'open' in next ? next.open : undefined;
    });
    again.close();
    for (const socket of [...sockets.slice(1), other]) socket.ws.close();
  });

  it('refuses a burst of upgrades from one address past the rate with 429 too_many_upgrades, then recovers', async () => {
    const harness = await serverWith({
      WS_UPGRADES_PER_SECOND_PER_ADDRESS: '2',
      WS_UPGRADE_BURST_PER_ADDRESS: '4',
    });
    const urls = await Promise.all(
      Array.from({ length: 10 }, (_, index) => socketUrl(harness, `burst-${index}`)),
    );
    const results = await Promise.all(urls.map((url) => attempt(url)));
    const opened = results.filter((result) => 'open' in result);
    const refused = results.flatMap((result) => ('refused' in result ? [result.refused] : []));
    // The burst, plus at most one token refilled while the burst was answered.
    assert.ok(opened.length >= 4 && opened.length <= 5, `${opened.length} of 10 upgrades accepted`);
    for (const refusal of refused) {
      assert.equal(refusal.status, 429);
      assert.equal(refusal.code, 'too_many_upgrades');
      assert.match(refusal.retryAfter ?? '', /^[1-9]\d*$/);
    }
    for (const result of opened) if ('open' in result) result.open.close();
    // Tokens refill at 2 per second: an upgrade is accepted again within the window.
    const started = Date.now();
    const recovered = await waitFor(
      'an upgrade accepted after the window',
      async () => {
        const next = await attempt(urls[0]!);
        return 'open' in next ? next.open : undefined;
      },
      { timeoutMs: 3000, intervalMs: 100 },
    );
    recovered.close();
    assert.ok(Date.now() - started < 3000);
  });

  it('refuses upgrades with 503 server_busy while WS_MAX_OPENING_SOCKETS sessions wait on the database', async () => {
    const harness = await serverWith({ WS_MAX_OPENING_SOCKETS: '1' });
    // Holds the notifications table: a session's first read (the unread count) waits on it.
    const locker = new pg.Client({ connectionString: harness.db.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table notifications in access exclusive mode');
    let first: TestSocket | undefined;
    try {
      first = await openSocket(await socketUrl(harness, 'wendy'));
      const second = await attempt(await socketUrl(harness, 'xavier'));
      assert.ok('refused' in second, 'a second session is refused while the first waits on the database');
      assert.equal(second.refused.status, 503);
      assert.equal(second.refused.code, 'server_busy');
      assert.match(second.refused.retryAfter ?? '', /^[1-9]\d*$/);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    await unreadCountOf(first);
    const later = await openSocket(await socketUrl(harness, 'xavier'));
    await unreadCountOf(later);
    first.ws.close();
    later.ws.close();
  });

  it('a socket closed while its opening read waits for a permit gives the slot back: one user cannot hold the cap by opening and closing', async () => {
    // The test database's pool of 10 gives 5 permits: the first 5 opening reads run, blocked on
    // the lock; the next 3 wait for a permit.
    const harness = await serverWith({ WS_MAX_OPENING_SOCKETS: '8' });
    const locker = new pg.Client({ connectionString: harness.db.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table notifications in access exclusive mode');
    const opened: TestSocket[] = [];
    let other: TestSocket | undefined;
    try {
      for (let index = 0; index < 8; index += 1)
        opened.push(await openSocket(await socketUrl(harness, 'mallory')));
      const refused = await attempt(await socketUrl(harness, 'xavier'));
      assert.ok('refused' in refused, 'the cap is reached while eight opening reads run or wait');
      // Mallory closes the three whose reads wait: their work is dropped, not run later.
      for (const socket of opened.slice(5)) {
        socket.ws.close();
        await socket.closed;
      }
      other = await waitFor(
        'an upgrade of another user accepted',
        async () => {
          const next = await attempt(await socketUrl(harness, 'xavier'));
          return 'open' in next ? next.open : undefined;
        },
        { timeoutMs: 3000, intervalMs: 50 },
      ).then((ws) => ({ ws }) as TestSocket);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    for (const socket of opened.slice(0, 5)) {
      await unreadCountOf(socket);
      socket.ws.close();
    }
    other!.ws.close();
  });
});
