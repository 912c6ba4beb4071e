import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  connectSocket,
  httpRequest,
  openSocket,
  refusedUpgrade,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';

/**
 * Bad input on a real server (docs/api.md, "Errors"): malformed, unknown, binary, oversized and flooding
 * WebSocket frames, a foreign Origin, a bad resume cursor, and bad REST bodies and queries each get
 * a clear error (an error frame, a close code and reason, or a 4xx JSON body naming the field),
 * and the server keeps serving everyone else: a bystander socket receives a fresh notification
 * after every case.
 */

const ALLOWED_ORIGIN = 'https://app.normx.fr';

let harness: ServerHarness;
let bystander: TestSocket;
before(async () => {
  harness = await startServerHarness({ env: { WS_ALLOWED_ORIGINS: ALLOWED_ORIGIN } });
  bystander = await socketFor('bystander');
});
after(async () => {
  bystander?.ws.close();
  await harness?.close();
});

async function socketFor(user: string, query = ''): Promise<TestSocket> {
  const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}${query}`);
  await socket.waitFor('the unread count', (messages) =>
    messages.some((message) => message.type === 'unread_count'),
  );
  return socket;
}

/** The server still delivers to others: a fresh notification reaches the bystander. */
async function assertServerStillDelivers(): Promise<void> {
  const id = await harness.notify('bystander');
  await bystander.waitFor(`the bystander's notification ${id}`, () => bystander.ids().includes(id));
  assert.equal(bystander.ws.readyState, WebSocket.OPEN);
}

/** The socket is open and still gets its user's notifications. */
async function assertStillServed(socket: TestSocket, user: string): Promise<void> {
  assert.equal(socket.ws.readyState, WebSocket.OPEN);
  const id = await harness.notify(user);
  await socket.waitFor(`${user}'s notification ${id}`, () => socket.ids().includes(id));
}

/** Sends a frame and returns the error frame it causes. */
async function errorFor(
  socket: TestSocket,
  frame: string | Buffer,
): Promise<{ code: string; message: string }> {
  const before = socket.messages.filter((message) => message.type === 'error').length;
  if (typeof frame === 'string') socket.ws.send(frame);
  else socket.ws.send(frame, { binary: true });
  return socket.waitFor('an error frame', (messages) => {
    const errors = messages.filter((message) => message.type === 'error');
    return errors.length > before && (errors[before] as unknown as { code: string; message: string });
  });
}

describe('bad WebSocket upgrades', () => {
  it('a token in the path that does not decode (`%`, `%FF`): 400 naming it, and the server still serves', async () => {
    for (const token of ['%', '%FF', '%ED%A0%80']) {
      const wsUrl = `${harness.wsUrl}/api/v1/ws/${token}`;
      const status = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(wsUrl);
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('open', () => reject(new Error(`${token}: the upgrade was accepted`)));
        socket.on('error', reject);
      });
      assert.equal(status, 400, token);
    }
    await assertServerStillDelivers();
  });
});

describe('bad WebSocket frames', () => {
  let socket: TestSocket;
  before(async () => {
    socket = await socketFor('alice');
  });
  after(() => socket?.ws.close());

  it('invalid JSON: error bad_request, and the socket stays open', async () => {
    const error = await errorFor(socket, '{"type": "mark_all_read"');
    assert.equal(error.code, 'bad_request');
    assert.match(error.message, /JSON/);
    await assertStillServed(socket, 'alice');
    await assertServerStillDelivers();
  });

  it('an unknown type: validation_failed naming `type`', async () => {
    const error = await errorFor(socket, JSON.stringify({ type: 'delete_everything' }));
    assert.equal(error.code, 'validation_failed');
    assert.match(error.message, /^type: /);
    await assertStillServed(socket, 'alice');
    await assertServerStillDelivers();
  });

  it('a bad id in mark_read: validation_failed naming `ids.0`, and nothing is marked', async () => {
    const id = await harness.notify('alice');
    await socket.waitFor('the notification', () => socket.ids().includes(id));
    const error = await errorFor(socket, JSON.stringify({ type: 'mark_read', ids: ['x'] }));
    assert.equal(error.code, 'validation_failed');
    assert.match(error.message, /^ids\.0: /);
    const second = await errorFor(
      socket,
      JSON.stringify({ type: 'mark_read', ids: [id, '1; drop table notifications'] }),
    );
    assert.match(second.message, /^ids\.1: /);
    const [row] = await harness.db.query<{ read_at: Date | null }>(
      'select read_at from notifications where id = $1',
      [id],
    );
    assert.equal(row!.read_at, null, 'a rejected message marks nothing');
    await assertStillServed(socket, 'alice');
    await assertServerStillDelivers();
  });

  it('an unknown field, or a missing one: validation_failed naming it', async () => {
    const unknown = await errorFor(socket, JSON.stringify({ type: 'mark_all_read', everything: true }));
    assert.equal(unknown.code, 'validation_failed');
    assert.match(unknown.message, /^everything: /);
    const missing = await errorFor(socket, JSON.stringify({ type: 'resume' }));
    assert.equal(missing.code, 'validation_failed');
    assert.match(missing.message, /^lastId: /);
    const notAnObject = await errorFor(socket, '42');
    assert.equal(notAnObject.code, 'validation_failed');
    await assertStillServed(socket, 'alice');
  });

  it('ids above the bigint maximum in resume and mark_read: validation_failed naming the field', async () => {
    const resume = await errorFor(socket, JSON.stringify({ type: 'resume', lastId: '9999999999999999999' }));
    assert.equal(resume.code, 'validation_failed');
    assert.match(resume.message, /^lastId: /);
    const mark = await errorFor(socket, JSON.stringify({ type: 'mark_read', ids: ['9223372036854775808'] }));
    assert.equal(mark.code, 'validation_failed');
    assert.match(mark.message, /^ids\.0: /);
    await assertStillServed(socket, 'alice');
  });

  it('a binary frame: error bad_request, and the socket stays open', async () => {
    const error = await errorFor(socket, Buffer.from(JSON.stringify({ type: 'mark_all_read' })));
    assert.equal(error.code, 'bad_request');
    await assertStillServed(socket, 'alice');
    await assertServerStillDelivers();
  });
});

describe('oversized frames and floods', () => {
  it('a frame over WS_MAX_PAYLOAD_BYTES (16 KiB) closes the socket with 1009 and a reason', async () => {
    const socket = await socketFor('bob');
    const otherTab = await socketFor('bob');
    socket.send(JSON.stringify({ type: 'mark_read', ids: ['1'], padding: 'x'.repeat(16 * 1024) }));
    const closed = await socket.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /16384 bytes/);
    // Just under the limit is only a validation error.
    const small = await errorFor(
      otherTab,
      JSON.stringify({ type: 'mark_all_read', padding: 'x'.repeat(16_000) }),
    );
    assert.equal(small.code, 'validation_failed');
    await assertStillServed(otherTab, 'bob');
    otherTab.ws.close();
    await assertServerStillDelivers();
  });

  it('a frame over the limit up to the transport bound (64 KiB, 200 KB, 256 KiB) gets 1009 and its reason, not a bare TCP close', async () => {
    for (const size of [64 * 1024, 200_000, 256 * 1024]) {
      const socket = await socketFor('bob');
      socket.ws.send(Buffer.alloc(size, 'x').toString());
      const closed = await socket.closed;
      assert.deepEqual(
        closed,
        { code: 1009, reason: 'Messages are limited to 16384 bytes' },
        `${size} bytes`,
      );
    }
    await assertServerStillDelivers();
  });

  it('a frame past the transport bound (max(4 x WS_MAX_PAYLOAD_BYTES, 256 KiB)) drops the connection (1006): no socket holds more', async () => {
    for (const size of [256 * 1024 + 1, 1024 * 1024, 8 * 1024 * 1024]) {
      const socket = await socketFor('bob');
      socket.ws.send(Buffer.alloc(size, 'x').toString());
      const closed = await socket.closed;
      assert.equal(closed.code, 1006, `${size} bytes`);
    }
    await assertServerStillDelivers();
  });

  it('a flood: rate_limited error frames, then close with 4429; the other tab of the user is unaffected', async () => {
    const flooder = await socketFor('carol');
    const otherTab = await socketFor('carol');
    const frame = JSON.stringify({ type: 'mark_all_read' });
    for (let index = 0; index < 500; index += 1) flooder.ws.send(frame);
    const closed = await flooder.closed;
    assert.equal(closed.code, 4429);
    assert.equal(closed.reason, 'Too many messages');
    const limited = flooder.messages.filter(
      (message) => message.type === 'error' && message.code === 'rate_limited',
    );
    assert.ok(limited.length >= 1, 'rate_limited error frames before the close');
    assert.ok(
      !flooder.messages.some((message) => message.type === 'error' && message.code !== 'rate_limited'),
    );
    await assertStillServed(otherTab, 'carol');
    otherTab.ws.close();
    await assertServerStillDelivers();
  });
});

describe('refused upgrades', () => {
  const url = async (user: string) => `${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`;

  it('an Origin outside WS_ALLOWED_ORIGINS: 403 origin_not_allowed; the allowed one opens', async () => {
    const refused = await refusedUpgrade(await url('dave'), undefined, { origin: 'https://evil.example' });
    assert.equal(refused.status, 403);
    const { error } = refused.body as { error: { code: string; message: string } };
    assert.equal(error.code, 'origin_not_allowed');
    assert.match(error.message, /evil\.example/);

    const allowed = await connectSocket(await url('dave'), undefined, { origin: ALLOWED_ORIGIN });
    await allowed.waitFor('the unread count', (messages) =>
      messages.some((message) => message.type === 'unread_count'),
    );
    await assertStillServed(allowed, 'dave');
    allowed.ws.close();
    await assertServerStillDelivers();
  });

  it('?lastId=abc: 400 validation_failed naming lastId; a numeric lastId resumes', async () => {
    // Above the bigint maximum (9223372036854775807) is refused too, not a 500.
    for (const lastId of ['abc', '-1', '1.5', '9'.repeat(20), '9'.repeat(19), '9223372036854775808']) {
      const refused = await refusedUpgrade(`${await url('erin')}?lastId=${lastId}`);
      assert.equal(refused.status, 400, lastId);
      const { error } = refused.body as { error: { code: string; message: string } };
      assert.equal(error.code, 'validation_failed');
      assert.match(error.message, /^lastId: /);
    }
    const first = await harness.notify('erin');
    const resumed = await socketFor('erin', '?lastId=0');
    await resumed.waitFor('the resumed frame', (messages) =>
      messages.some((message) => message.type === 'resumed'),
    );
    assert.deepEqual(resumed.ids(), [first]);
    resumed.ws.close();
    await assertServerStillDelivers();
  });
});

const issueFields = (json: { error: { issues?: Array<{ field: string }> } }) =>
  (json.error.issues ?? []).map((issue) => issue.field);

describe('bad REST input', () => {
  let token: string;
  let mine: string;
  const readUrl = () => `${harness.url}/api/v1/users/me/notifications/read`;
  before(async () => {
    token = await harness.token('frank');
    mine = await harness.notify('frank');
  });

  it('POST read with ids not an array: 400 naming `ids`', async () => {
    const reply = await httpRequest(readUrl(), { token, body: { ids: 'x' } });
    assert.equal(reply.status, 400);
    assert.match(reply.contentType, /application\/json/);
    assert.equal(reply.json.error.code, 'validation_failed');
    assert.deepEqual(issueFields(reply.json), ['ids']);
  });

  it('a body that is not JSON: 400 bad_request', async () => {
    const reply = await httpRequest(readUrl(), { token, body: '{"ids": [' });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error.code, 'bad_request');
  });

  it('a body over 64 KiB: 413 payload_too_large', async () => {
    const body = JSON.stringify({ ids: [mine], padding: 'x'.repeat(64 * 1024) });
    const reply = await httpRequest(readUrl(), { token, body });
    assert.equal(reply.status, 413);
    assert.equal(reply.json.error.code, 'payload_too_large');
  });

  it('an unknown field: 400 naming it', async () => {
    const reply = await httpRequest(readUrl(), { token, body: { ids: ['1'], foo: 1 } });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error.code, 'validation_failed');
    assert.deepEqual(issueFields(reply.json), ['foo']);
  });

  it('bad list queries: 400 naming query.limit, query.before, query.unread, query.foo', async () => {
    const cases: Array<[string, string]> = [
      ['limit=0', 'query.limit'],
      ['limit=201', 'query.limit'],
      ['limit=ten', 'query.limit'],
      ['before=abc', 'query.before'],
      // Above the bigint maximum: a 400, not a 500.
      ['before=9999999999999999999', 'query.before'],
      ['before=9223372036854775808', 'query.before'],
      ['unread=yes', 'query.unread'],
      ['foo=1', 'query.foo'],
    ];
    for (const [query, field] of cases) {
      const reply = await httpRequest(`${harness.url}/api/v1/users/me/notifications?${query}`, { token });
      assert.equal(reply.status, 400, query);
      assert.equal(reply.json.error.code, 'validation_failed', query);
      assert.deepEqual(issueFields(reply.json), [field], query);
    }
  });

  it('ids above the bigint maximum in POST read: 400 naming ids.0, and the largest id is fine', async () => {
    for (const id of ['9999999999999999999', '9223372036854775808']) {
      const reply = await httpRequest(readUrl(), { token, body: { ids: [id] } });
      assert.equal(reply.status, 400, id);
      assert.equal(reply.json.error.code, 'validation_failed');
      assert.deepEqual(issueFields(reply.json), ['ids.0']);
    }
    const largest = await httpRequest(readUrl(), { token, body: { ids: ['9223372036854775807'] } });
    assert.equal(largest.status, 200);
    assert.deepEqual(largest.json, { updated: 0, unreadCount: 1 });
    const page = await httpRequest(
      `${harness.url}/api/v1/users/me/notifications?before=9223372036854775807`,
      {
        token,
      },
    );
    assert.equal(page.status, 200);
    assert.deepEqual(
      page.json.items.map((item) => item.id),
      [mine],
    );
  });

  it('POST read-all validates its body: unknown fields are a 400 naming them, and nothing is marked', async () => {
    const readAllUrl = `${harness.url}/api/v1/users/me/notifications/read-all`;
    for (const [body, fields] of [
      [{ foo: 1, ids: 'nonsense' }, ['foo', 'ids']],
      [{ ids: [mine] }, ['ids']],
    ] as const) {
      const reply = await httpRequest(readAllUrl, { token, body });
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.json.error.code, 'validation_failed');
      assert.deepEqual(issueFields(reply.json), fields);
    }
    for (const body of ['[]', '"all"', '1']) {
      const reply = await httpRequest(readAllUrl, { token, body });
      assert.equal(reply.status, 400, body);
      assert.equal(reply.json.error.code, 'validation_failed');
    }
    const [row] = await harness.db.query<{ readAt: Date | null }>(
      'select read_at as "readAt" from notifications where id = $1',
      [mine],
    );
    assert.equal(row?.readAt, null, 'still unread');
  });

  it('an unknown route or method: 404 JSON', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nope'],
      ['GET', '/api/v2/users/me/notifications'],
      ['DELETE', '/api/v1/users/me/notifications'],
    ] as const) {
      const reply = await httpRequest(`${harness.url}${path}`, { method, token });
      assert.equal(reply.status, 404, `${method} ${path}`);
      assert.match(reply.contentType, /application\/json/);
      assert.equal(reply.json.error.code, 'not_found');
    }
  });

  it('lost no data: the notification is still there and unread, and the server still delivers', async () => {
    const list = await httpRequest(`${harness.url}/api/v1/users/me/notifications`, { token });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.items.map((item) => [item.id, item.readAt]),
      [[mine, null]],
    );
    const marked = await httpRequest(readUrl(), { token, body: { ids: [mine] } });
    assert.deepEqual(marked.json, { updated: 1, unreadCount: 0 });
    await assertServerStillDelivers();
  });
});

describe('dossier input PostgreSQL could not store (service token)', () => {
  // Refused before Temporal is called: this server's Temporal client points nowhere, so an input
  // that got through would hang on the connection and fail the test by its timeout, not pass.
  let service: string;
  before(async () => {
    service = await harness.token('normx-backend', { service: true });
  });
  const valid = { id: 'D-1', title: 'Bilan', ownerId: 'u-17', dueDate: '2027-03-31' };
  const { dueDate: _dueDate, ...noDeadline } = valid;
  const long = 'a'.repeat(129);
  const send = (method: string, path: string, body: unknown) =>
    httpRequest(`${harness.url}/api/v1/dossiers${path}`, { method, token: service, body });

  /** [method, path, body, the one field named]. */
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', '', { ...valid, title: 'Bilan\u0000' }, 'title'],
    ['POST', '', { ...valid, title: 'Bilan \uD800' }, 'title'],
    ['POST', '', { ...valid, owner: { name: 'Léa\u0000' } }, 'owner.name'],
    ['POST', '', { ...valid, id: 'D\u0000' }, 'id'],
    ['POST', '', { ...valid, id: long }, 'id'],
    ['POST', '', { ...valid, ownerId: 'u\u0000' }, 'ownerId'],
    ['POST', '', { ...valid, ownerId: long }, 'ownerId'],
    ['POST', '', { ...valid, eventId: 'evt\u0000' }, 'eventId'],
    ['POST', '', { ...valid, eventId: long }, 'eventId'],
    ['POST', '', { ...valid, dueDate: '0000-01-01' }, 'dueDate'],
    ['POST', '', { ...valid, dueDate: '9999-12-31' }, 'dueDate'],
    ['POST', '', { ...noDeadline, dueAt: '0000-01-01T00:00:00Z' }, 'dueAt'],
    ['POST', '', { ...noDeadline, dueAt: '+010000-01-01T00:00:00Z' }, 'dueAt'],
    ['PUT', '/D-1', { ...noDeadline, id: undefined, title: 'x\u0000', dueDate: '2027-03-31' }, 'title'],
    ['PUT', '/D-1', { title: 'x', ownerId: 'u-17', dueDate: '9999-12-31' }, 'dueDate'],
    ['PUT', '/D-1', { title: 'x', ownerId: 'u-17', dueDate: '2027-03-31', eventId: long }, 'eventId'],
    ['PUT', `/${long}`, { title: 'x', ownerId: 'u-17', dueDate: '2027-03-31' }, 'id'],
    ['PUT', '/D%00', { title: 'x', ownerId: 'u-17', dueDate: '2027-03-31' }, 'id'],
    ['POST', '/D-1/reschedule', { dueDate: '0000-01-01' }, 'dueDate'],
    ['POST', '/D-1/reschedule', { dueAt: '0000-01-01T00:00:00Z' }, 'dueAt'],
    ['POST', '/D-1/assign', { ownerId: 'u\u0000' }, 'ownerId'],
    ['POST', '/D-1/assign', { ownerId: 'u-2', owner: { name: '\u0000' } }, 'owner.name'],
    ['POST', '/D-1/assign', { ownerId: 'u-2', eventId: 'e\u0000' }, 'eventId'],
    ['POST', '/D-1/urgent', { urgent: true, eventId: 'e\uDC00' }, 'eventId'],
    ['POST', '/D-1/urgent', { urgent: true, eventId: long }, 'eventId'],
    ['POST', '/D-1/complete', { eventId: 'e\u0000' }, 'eventId'],
    ['POST', '/D-1/cancel', { eventId: long }, 'eventId'],
    ['POST', '/D%00/reopen', undefined, 'id'],
    ['GET', `/${long}/plan`, undefined, 'id'],
  ];

  for (const [method, path, body, field] of cases) {
    it(
      `${method} /api/v1/dossiers${path.slice(0, 24)} ${JSON.stringify(body)?.slice(0, 60) ?? ''}: 400 naming ${field}`,
      { timeout: 10_000 },
      async () => {
        const reply = await send(method, path, body);
        assert.equal(reply.status, 400, reply.text);
        assert.equal(reply.json.error.code, 'validation_failed');
        assert.deepEqual(issueFields(reply.json), [field]);
      },
    );
  }

  it(
    'a path that is not UTF-8 once decoded (a lone surrogate, a bad escape): 400, and the server still serves',
    { timeout: 10_000 },
    async () => {
      for (const path of ['/D%ED%A0%80/complete', '/D%E0%A4%A/complete', '/%/plan']) {
        const reply = await send(path.endsWith('plan') ? 'GET' : 'POST', path, undefined);
        assert.equal(reply.status, 400, `${path}: ${reply.text}`);
        assert.match(reply.contentType, /application\/json/);
        assert.equal(reply.json.error.code, 'bad_request', path);
      }
      await assertServerStillDelivers();
    },
  );
});
