import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  connectSocket,
  openSocket,
  refusedUpgrade,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';

/**
 * Bad input on a real server (docs/api.md, "Errors"): malformed, unknown, binary, oversized and flooding
 * WebSocket frames, a foreign Origin, a bad resume cursor, and bad REST bodies (server-bad-input-rest.test.ts) each get
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
      const { status } = await refusedUpgrade(`${harness.wsUrl}/api/v1/ws/${token}`);
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
