import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { httpRequest, refusedUpgrade, type TestSocket } from '../support/notify-server.js';
import {
  gotUnreadCount,
  harness,
  hsToken,
  myNotifications,
  now,
  pathSocket,
  setUpAuthServer,
  type ErrorBody,
} from '../support/server-auth.js';

/**
 * Authorization on the real server (docs/api.md, docs/security.md; test/support/server-auth.ts):
 * scopes and subjects are enforced (the service token, a user token on the dossier routes,
 * another user's notifications); rejected tokens are counted by reason in the metrics; a socket
 * whose token expires is warned, then closed with 4401, unless it sent a fresh token for the same
 * user.
 */

setUpAuthServer();

describe('scopes and subjects', () => {
  it('the service token may not open a socket (403), nor read user notifications (403)', async () => {
    const service = await harness.token('normx-backend', { service: true });
    for (const attempt of [
      await refusedUpgrade(`${harness.wsUrl}/api/v1/ws/${service}`),
      await refusedUpgrade(`${harness.wsUrl}/api/v1/ws`, ['normx-notify', service]),
    ]) {
      assert.equal(attempt.status, 403);
      assert.equal((attempt.body as ErrorBody).error.code, 'forbidden');
    }
    for (const path of ['me', 'normx-backend', 'alice']) {
      const rest = await httpRequest(`${harness.url}/api/v1/users/${path}/notifications`, { token: service });
      assert.equal(rest.status, 403, path);
      assert.equal(rest.json.error.code, 'forbidden');
    }
    const count = await httpRequest(`${harness.url}/api/v1/users/me/notifications/unread-count`, {
      token: service,
    });
    assert.equal(count.status, 403);
  });

  it('a user token may not call the dossier routes (403)', async () => {
    const token = await harness.token('alice');
    const calls = [
      httpRequest(`${harness.url}/api/v1/dossiers`, {
        token,
        body: { id: 'D-1', title: 'Bilan', ownerId: 'alice', dueDate: '2030-01-10' },
      }),
      httpRequest(`${harness.url}/api/v1/dossiers/D-1`, {
        method: 'PUT',
        token,
        body: { title: 'Bilan', ownerId: 'alice', dueDate: '2030-01-10' },
      }),
      httpRequest(`${harness.url}/api/v1/dossiers/D-1/complete`, { method: 'POST', token }),
      httpRequest(`${harness.url}/api/v1/dossiers/D-1/reschedule`, {
        token,
        body: { dueDate: '2030-01-20' },
      }),
      httpRequest(`${harness.url}/api/v1/dossiers/D-1/plan`, { token }),
    ];
    for (const reply of await Promise.all(calls)) {
      assert.equal(reply.status, 403);
      assert.equal(reply.json.error.code, 'forbidden');
    }
    const anonymous = await httpRequest(`${harness.url}/api/v1/dossiers/D-1/plan`);
    assert.equal(anonymous.status, 401);
  });

  it("a user reads and marks only their own notifications: alice may not read or mark bob's", async () => {
    const aliceId = await harness.notify('alice');
    const bobId = await harness.notify('bob');
    const alice = await harness.token('alice');

    const theirs = await httpRequest(`${harness.url}/api/v1/users/bob/notifications`, { token: alice });
    assert.equal(theirs.status, 403);
    assert.equal(theirs.json.error.code, 'forbidden');
    for (const path of ['notifications/unread-count', 'notifications/read', 'notifications/read-all']) {
      const method = path === 'notifications/unread-count' ? 'GET' : 'POST';
      const reply = await httpRequest(`${harness.url}/api/v1/users/bob/${path}`, {
        method,
        token: alice,
        ...(path === 'notifications/read' && { body: { ids: [bobId] } }),
      });
      assert.equal(reply.status, 403, path);
      assert.equal(reply.json.error.code, 'forbidden');
    }
    const [bobRow] = await harness.db.query<{ read_at: Date | null }>(
      'select read_at from notifications where id = $1',
      [bobId],
    );
    assert.equal(bobRow!.read_at, null, "bob's notification is still unread");

    for (const path of ['me', 'alice']) {
      const mine = await httpRequest(`${harness.url}/api/v1/users/${path}/notifications`, { token: alice });
      assert.equal(mine.status, 200, path);
      const ids = mine.json.items.map((item) => item.id);
      assert.ok(ids.includes(aliceId), path);
      assert.ok(!ids.includes(bobId), path);
      for (const item of mine.json.items) assert.equal(item.userId, 'alice');
    }
  });
});

describe('metrics', () => {
  const expiredCount = async (): Promise<number> => {
    const metrics = await httpRequest(`${harness.internalUrl}/metrics`);
    assert.equal(metrics.status, 200);
    const match = /^normx_notify_auth_failures_total\{reason="expired"\} (\d+)$/m.exec(metrics.text);
    return match ? Number(match[1]) : 0;
  };

  it('counts rejected tokens by reason', async () => {
    const before = await expiredCount();
    const expired = await hsToken({ exp: now() - 120 });
    assert.equal((await myNotifications(expired)).status, 401);
    assert.equal((await refusedUpgrade(`${harness.wsUrl}/api/v1/ws/${expired}`)).status, 401);
    const after = await expiredCount();
    assert.ok(after >= 1);
    assert.equal(after - before, 2);
    const text = (await httpRequest(`${harness.internalUrl}/metrics`)).text;
    assert.match(text, /^normx_notify_auth_failures_total\{reason="expired"\} [1-9]\d*$/m);
    assert.ok(!text.includes(expired), 'no token in the metrics');
  });
});

describe('a token that expires while the socket is open', { concurrency: true }, () => {
  // The harness warns 1 s before expiry; tokens here expire in 3 s (whole seconds: 2-3 s).
  const shortToken = (subject: string) => harness.token(subject, { expiresInSeconds: 3 });
  const expiryOf = (token: string): number =>
    (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
  const warning = (socket: TestSocket) =>
    socket.waitFor(
      'token_expiring',
      (messages) => messages.find((message) => message.type === 'token_expiring'),
      4000,
    );

  it('is warned with token_expiring, then closed with 4401', async () => {
    const token = await shortToken('erin');
    const expiresAt = expiryOf(token);
    const socket = await pathSocket(token);
    const warned = await warning(socket);
    assert.equal(warned.expiresAt, new Date(expiresAt).toISOString());
    assert.ok(Date.now() <= expiresAt - 500, 'the warning comes about 1 s ahead');
    assert.equal(socket.ws.readyState, WebSocket.OPEN);
    const closed = await socket.closed;
    assert.ok(Date.now() >= expiresAt - 50, 'not closed before the token expired');
    assert.equal(closed.code, 4401);
    assert.equal(closed.reason, 'The token has expired');
    const types = socket.messages.map((message) => message.type);
    assert.ok(types.indexOf('token_expiring') >= 0);
  });

  it('stays open past the first expiry after refresh_token with a fresh token of the same user', async () => {
    const token = await shortToken('frank');
    const expiresAt = expiryOf(token);
    const socket = await pathSocket(token);
    await warning(socket);
    socket.send({ type: 'refresh_token', token: await harness.token('frank') });
    // Wait until well past the first token's expiry: the socket must still be open.
    let closedEarly: { code: number } | undefined;
    void socket.closed.then((closed) => (closedEarly = closed));
    await new Promise((resolve) => setTimeout(resolve, expiresAt + 700 - Date.now()));
    assert.equal(closedEarly, undefined);
    assert.equal(socket.ws.readyState, WebSocket.OPEN);
    const id = await harness.notify('frank');
    await socket.waitFor('a live notification after the refresh', () => socket.ids().includes(id));
    assert.ok(!socket.messages.some((message) => message.type === 'error'));
    socket.ws.close();
  });

  it("refuses a refresh with another user's token (forbidden) and keeps the socket, still bound to the first token", async () => {
    const token = await shortToken('gina');
    const expiresAt = expiryOf(token);
    const socket = await pathSocket(token);
    await gotUnreadCount(socket);
    socket.send({ type: 'refresh_token', token: await harness.token('mallory') });
    const refused = await socket.waitFor('the forbidden error', (messages) =>
      messages.find((message) => message.type === 'error'),
    );
    assert.equal(refused.code, 'forbidden');
    assert.equal(socket.ws.readyState, WebSocket.OPEN);
    // Still gina's stream, not mallory's.
    const malloryId = await harness.notify('mallory');
    const ginaId = await harness.notify('gina');
    await socket.waitFor("gina's notification", () => socket.ids().includes(ginaId));
    assert.ok(!socket.ids().includes(malloryId));
    // A bad refresh is an error frame too, and does not close the socket.
    socket.send({ type: 'refresh_token', token: 'not-a-jwt' });
    await socket.waitFor('the unauthorized error', (messages) =>
      messages.some((message) => message.type === 'error' && message.code === 'unauthorized'),
    );
    // The first token still governs: the socket closes when it expires.
    const closed = await socket.closed;
    assert.equal(closed.code, 4401);
    assert.ok(Date.now() >= expiresAt - 50);
  });
});
