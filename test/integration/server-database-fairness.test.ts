import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  httpRequest,
  openSocket,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';

/**
 * One user cannot take the database from the others: socket
 * work (opening reads, catch-up pages, marks) shares a few of the pool's connections, one mark
 * per user at a time; a client that stops reading holds none. Real server, database and sockets.
 */

const harnesses: ServerHarness[] = [];
after(async () => {
  for (const harness of harnesses) await harness.close();
});

async function serverWith(env: NodeJS.ProcessEnv = {}): Promise<ServerHarness> {
  const harness = await startServerHarness({ env });
  harnesses.push(harness);
  return harness;
}

/** `rows` notifications for `user`, inserted in one statement (bodies of `bodyBytes`). */
async function history(harness: ServerHarness, user: string, rows: number, bodyBytes = 1): Promise<void> {
  await harness.db.query('insert into users (id) values ($1) on conflict do nothing', [user]);
  await harness.db.query(
    `insert into notifications (idempotency_key, user_id, type, kind, title, body)
       select $1 || '-' || g, $1, 'new_alert', 'urgent', 'T' || g, repeat('x', $3::int)
         from generate_series(1, $2::int) g`,
    [user, rows, bodyBytes],
  );
  await harness.db.query('analyze notifications');
}

/** Milliseconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

/** Generous: an idle server answers in milliseconds; a starved one took 26 to 60 s. */
const FAIR_MS = 2000;

describe('database fairness: one user cannot starve the others', () => {
  it("one user flooding marks within the rate limit leaves another user's reads fast", async () => {
    const harness = await serverWith();
    // Each mark recounts the hog's unread: a slow statement under the user's lock.
    await history(harness, 'hog', 200_000);
    await harness.notify('victim');
    const victimToken = await harness.token('victim');
    const hogToken = await harness.token('hog');
    const hogs: TestSocket[] = [];
    for (let index = 0; index < 20; index += 1)
      hogs.push(await openSocket(`${harness.wsUrl}/api/v1/ws/${hogToken}`));
    // Each socket: its burst, then 10 a second: within its own rate limit.
    const mark = { type: 'mark_read', ids: ['0'] };
    for (const hog of hogs) for (let index = 0; index < 29; index += 1) hog.send(mark);
    const sender = setInterval(() => {
      for (const hog of hogs) hog.send(mark);
    }, 100);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (let round = 0; round < 3; round += 1) {
        let status = 0;
        const restMs = await timed(async () => {
          ({ status } = await httpRequest(`${harness.url}/api/v1/users/me/notifications/unread-count`, {
            token: victimToken,
          }));
        });
        assert.equal(status, 200);
        assert.ok(restMs < FAIR_MS, `victim REST unread-count took ${restMs} ms (round ${round})`);
        let socket: TestSocket | undefined;
        const socketMs = await timed(async () => {
          socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${victimToken}`);
          await socket.waitFor('the unread count', (messages) =>
            messages.find((message) => message.type === 'unread_count'),
          );
        });
        socket?.ws.close();
        assert.ok(socketMs < FAIR_MS, `victim socket's unread_count took ${socketMs} ms (round ${round})`);
      }
    } finally {
      clearInterval(sender);
    }
    const errors = hogs.flatMap((hog) => hog.messages.filter((message) => message.type === 'error'));
    // No pool timeout (it answers `internal`): a mark past the user's queue is refused as busy.
    assert.deepEqual(
      [...new Set(errors.map((error) => error.code))].filter(
        (code) => code !== 'server_busy' && code !== 'rate_limited',
      ),
      [],
    );
    for (const hog of hogs) hog.ws.terminate();
  });

  it('clients that resume over a big history and stop reading do not hold the opening slots', async () => {
    const harness = await serverWith({
      WS_MAX_OPENING_SOCKETS: '2',
      WS_IDLE_TIMEOUT_SECONDS: '120',
      WS_MAX_BUFFERED_BYTES: '65536',
    });
    const port = Number(new URL(harness.url).port);
    const stalled: Socket[] = [];
    try {
      for (const user of ['stall-a', 'stall-b']) {
        await history(harness, user, 20_000, 900);
        const { socket, status } = await rawUpgrade(port, `/api/v1/ws/${await harness.token(user)}?lastId=0`);
        assert.equal(status, 101);
        stalled.push(socket);
      }
      const opened = await waitFor(
        'an upgrade of another user to open',
        async () => {
          const outcome = await attempt(`${harness.wsUrl}/api/v1/ws/${await harness.token('victim')}`);
          if (outcome === 'open') return outcome;
          assert.equal(outcome, '503', 'only server_busy while the readers read');
          return undefined;
        },
        { timeoutMs: 15_000, intervalMs: 500 },
      );
      assert.equal(opened, 'open');
      assert.ok(
        stalled.every((socket) => !socket.destroyed),
        'the stalled clients are still connected (not cut off to make room)',
      );
    } finally {
      for (const socket of stalled) socket.destroy();
    }
  });
});

/** 'open', or the refusal's HTTP status. */
function attempt(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_request, response) => {
      response.socket.destroy();
      resolve(String(response.statusCode));
    });
    ws.once('error', reject);
  });
}

/** An upgrade over raw TCP that then never reads again (its kernel buffers fill up). */
function rawUpgrade(port: number, path: string): Promise<{ socket: Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, status: Number(received.subarray(0, end).toString().split(' ')[1]) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}
