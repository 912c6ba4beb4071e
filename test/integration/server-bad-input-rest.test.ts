import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  httpRequest,
  openSocket,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';

/**
 * Bad REST input on a real server (docs/api.md, "Errors"): malformed, oversized and unknown bodies
 * and queries, and dossier input PostgreSQL could not store, each get a 4xx JSON body naming the
 * field, and the server keeps serving everyone else: a bystander socket receives a fresh
 * notification after the cases. The WebSocket half is server-bad-input.test.ts.
 */

let harness: ServerHarness;
let bystander: TestSocket;
before(async () => {
  harness = await startServerHarness();
  bystander = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token('bystander')}`);
  await bystander.waitFor('the unread count', (messages) =>
    messages.some((message) => message.type === 'unread_count'),
  );
});
after(async () => {
  bystander?.ws.close();
  await harness?.close();
});

/** The server still delivers to others: a fresh notification reaches the bystander. */
async function assertServerStillDelivers(): Promise<void> {
  const id = await harness.notify('bystander');
  await bystander.waitFor(`the bystander's notification ${id}`, () => bystander.ids().includes(id));
  assert.equal(bystander.ws.readyState, WebSocket.OPEN);
}

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
