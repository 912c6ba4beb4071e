import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useFakeSocketPage } from '../support/fake-socket-page.js';

/**
 * The client library alone, in Chromium, against a scripted server: a fake WebSocket the test
 * drives frame by frame, to reach the cases a real server makes rare (a socket dropped in the
 * middle of a catch-up, a repeated notification, each close code). The bell tests cover the real
 * server; the marks' queue: web-notify-client-marks.test.ts.
 */

const { run, until, state, socket } = useFakeSocketPage();
describe('the client library', () => {
  it('connects with the token as a subprotocol, never in the URL, and emits each notification once', async () => {
    await run(`start()`);
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); ${socket(0)}.frame({ type: 'unread_count', count: 2 });
      ${socket(0)}.notify(7, 8, 8, 7, 9)`);
    const now = await state();
    assert.deepEqual(now.socketUrls, ['ws://client.test/api/v1/ws']);
    assert.deepEqual(await run(`fake.sockets[0].protocols`), ['normx-notify', 'x.eyJzdWIiOiJ1MSJ9.y']);
    assert.deepEqual(now.emitted, ['7', '8', '9']);
    assert.deepEqual(now.counts, [2, 3, 4, 5]);
    assert.equal(now.lastId, '9');
    assert.equal(now.stored, '9');
    assert.deepEqual(now.states, ['connecting', 'open']);
  });

  it('moves its cursor with each notification of a catch-up, so a dropped one goes on where it stopped', async () => {
    // A `?lastId=` catch-up comes in strictly increasing id order (the server holds live frames
    // until it is over): the cursor moves with each one (moved only at `resumed`, every
    // reconnection would start the same catch-up again).
    await run(`start({ lastId: '100' })`);
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); ${socket(0)}.frame({ type: 'unread_count', count: 3 });
      ${socket(0)}.notify(101, 102)`);
    assert.equal((await state()).lastId, '102');
    // Dropped before its end: the next socket resumes after 102, and a repeat is skipped.
    await run(`${socket(0)}.drop(1006)`);
    await until(`fake.sockets.length === 2`);
    await run(`${socket(1)}.accept(); ${socket(1)}.frame({ type: 'unread_count', count: 4 });
      ${socket(1)}.notify(102, 103, 405);
      ${socket(1)}.frame({ type: 'resumed', lastId: '405', count: 2 });
      ${socket(1)}.notify(406)`);
    const now = await state();
    assert.deepEqual(now.socketUrls, [
      'ws://client.test/api/v1/ws?lastId=100',
      'ws://client.test/api/v1/ws?lastId=102',
    ]);
    assert.deepEqual(now.emitted, ['101', '102', '103', '405', '406']);
    assert.equal(now.lastId, '406');
    assert.equal(now.stored, '406');
    // The catch-up made the count uncertain: a fresh one is asked for once it is over.
    assert.deepEqual(now.sent[1], [{ type: 'mark_read', ids: ['0'] }]);
    assert.deepEqual(now.states, ['connecting', 'open', 'reconnecting', 'open']);
  });

  it('resumes from the id stored for the user when not told where to start', async () => {
    await run(`localStorage.setItem('normx-notify:lastId:u1', '41'); start()`);
    await until(`fake.sockets.length === 1`);
    assert.deepEqual((await state()).socketUrls, ['ws://client.test/api/v1/ws?lastId=41']);
  });

  it('reconnects after 1001, 1006 and 4503 with backoff, asking for a token each time', async () => {
    await run(`start()`);
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); ${socket(0)}.notify(5); ${socket(0)}.drop(1001, 'going away')`);
    await until(`fake.sockets.length === 2`);
    await run(`${socket(1)}.drop(1006)`);
    await until(`fake.sockets.length === 3`);
    await run(`${socket(2)}.accept(); ${socket(2)}.drop(4503, 'too slow')`);
    await until(`fake.sockets.length === 4`);
    const now = await state();
    assert.equal(now.tokenCalls, 4);
    assert.deepEqual(now.socketUrls.slice(1), [
      'ws://client.test/api/v1/ws?lastId=5',
      'ws://client.test/api/v1/ws?lastId=5',
      'ws://client.test/api/v1/ws?lastId=5',
    ]);
    assert.deepEqual(now.errors, []);
    assert.ok(now.states.includes('reconnecting'));
  });

  it('gets a fresh token and reconnects at once after 4401; answers token_expiring with it', async () => {
    await run(`start()`);
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); ${socket(0)}.frame({ type: 'token_expiring', expiresAt: '' })`);
    // The fake hands out the same token each time: nothing new to send.
    await until(`fake.tokenCalls === 2`);
    assert.deepEqual((await state()).sent[0], []);
    await run(`let n = 0; window.client.close(); fake.sockets.length = 0; fake.tokenCalls = 0;
      start({ getToken: () => { fake.tokenCalls += 1; return 'x.' + btoa(JSON.stringify({ sub: 'u1' })) + '.' + (n += 1); } })`);
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); ${socket(0)}.frame({ type: 'token_expiring', expiresAt: '' })`);
    await until(`fake.sockets[0].sent.length === 1`);
    assert.deepEqual((await state()).sent[0], [{ type: 'refresh_token', token: 'x.eyJzdWIiOiJ1MSJ9.2' }]);
    await run(`${socket(0)}.drop(4401, 'The token has expired')`);
    await until(`fake.sockets.length === 2`);
    const now = await state();
    assert.equal(now.tokenCalls, 3);
    assert.deepEqual(await run(`fake.sockets[1].protocols`), ['normx-notify', 'x.eyJzdWIiOiJ1MSJ9.3']);
    assert.deepEqual(
      now.errors.map(({ code, closeCode, fatal }) => ({ code, closeCode, fatal })),
      [{ code: 'unauthorized', closeCode: 4401, fatal: false }],
    );
  });

  for (const [code, name] of [
    [4403, 'forbidden'],
    [4400, 'bad_request'],
    [1009, 'payload_too_large'],
  ] as const) {
    it(`stops and reports after ${code}`, async () => {
      await run(`start()`);
      await until(`fake.sockets.length === 1`);
      await run(`${socket(0)}.accept(); ${socket(0)}.drop(${code}, 'no')`);
      await until(`fake.states.at(-1) === 'closed'`);
      const now = await state();
      assert.deepEqual(now.errors, [{ code: name, message: 'no', closeCode: code, fatal: true }]);
      // Nothing is retried: still one socket after several backoff periods would have passed.
      await run(`new Promise((resolve) => setTimeout(resolve, 200))`);
      assert.equal((await state()).socketUrls.length, 1);
    });
  }

  it('after 4401, waits for a fresher token instead of reconnecting with the expired one, and reports session_expired', async () => {
    const claims = (exp: number) =>
      `'x.' + btoa(JSON.stringify({ sub: 'u1', exp: ${exp} })).replace(/=+$/, '') + '.y'`;
    await run(
      `window.tokenNow = ${claims(1000)}; start({ getToken: () => { fake.tokenCalls += 1; return window.tokenNow; } })`,
    );
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); ${socket(0)}.drop(4401, 'The token has expired')`);
    // getToken gives the same token (no fresher exp): no socket, and it is asked again at growing intervals.
    await until(`fake.tokenCalls >= 4`);
    let now = await state();
    assert.equal(now.socketUrls.length, 1);
    assert.deepEqual(
      now.errors.map(({ code, fatal }) => ({ code, fatal })),
      [
        { code: 'unauthorized', fatal: false },
        { code: 'session_expired', fatal: false },
      ],
    );
    assert.equal(now.states.at(-1), 'reconnecting');
    // A token with a later exp (a different signature of the same exp would not do): connects.
    await run(`window.tokenNow = ${claims(1000)}.replace('.y', '.z')`);
    await run(`new Promise((resolve) => setTimeout(resolve, 300))`);
    assert.equal((await state()).socketUrls.length, 1);
    await run(`window.tokenNow = ${claims(2000)}`);
    await until(`fake.sockets.length === 2`);
    await run(`${socket(1)}.accept()`);
    now = await state();
    assert.equal(now.states.at(-1), 'open');
  });

  it('backs off, not at once, when a fresher token is refused again soon after opening', async () => {
    await run(`let exp = 1000; start({ getToken: () => { fake.tokenCalls += 1; exp += 1;
      return 'x.' + btoa(JSON.stringify({ sub: 'u1', exp })).replace(/=+$/, '') + '.y'; },
      backoff: { initialMs: 100, maxMs: 10000 } })`);
    // Each socket is accepted then closed with 4401 at once, as a server whose clock is ahead would.
    await run(
      `window.closeEach = setInterval(() => { for (const s of fake.sockets) if (s.readyState === 0) { s.accept(); s.drop(4401, 'expired'); } }, 5)`,
    );
    await run(`new Promise((resolve) => setTimeout(resolve, 1500))`);
    await run(`clearInterval(window.closeEach)`);
    // At once after the first (the connection had not failed before), then 50-100, 100-200, 200-400, 400-800 ms…
    const count = (await state()).socketUrls.length;
    assert.ok(count >= 3 && count <= 7, `${count} sockets in 1.5 s`);
  });
});
