import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * The client library alone, in Chromium, against a scripted server: a fake WebSocket the test
 * drives frame by frame, to reach the cases a real server makes rare (a socket dropped in the
 * middle of a catch-up, a repeated notification, each close code). The bell tests cover the real server.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ORIGIN = 'http://client.test';
const WAIT_MS = 5_000;

/** Test double of the browser's WebSocket, plus the client under test and what it emitted. */
const HARNESS = `
window.fake = { sockets: [], tokenCalls: 0, emitted: [], states: [], errors: [], counts: [], reads: [] };
class FakeWebSocket {
  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
  constructor(url, protocols) {
    this.url = url; this.protocols = protocols; this.readyState = 0; this.sent = [];
    fake.sockets.push(this);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close() { this.readyState = 3; }
  accept() { this.readyState = 1; this.onopen?.({}); }
  frame(message) { this.onmessage?.({ data: JSON.stringify(message) }); }
  notify(...ids) { for (const id of ids) this.frame({ type: 'notification', notification: note(id) }); }
  drop(code, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
}
const note = (id) => ({ id: String(id), userId: 'u1', type: 'new_alert', kind: 'urgent', dossierId: null,
  title: 'n' + id, body: '', data: {}, createdAt: new Date().toISOString(), readAt: null });
// A JWT-shaped token whose payload names the user (the client reads sub for its storage key).
const tokenFor = (sub) => 'x.' + btoa(JSON.stringify({ sub })).replace(/=+$/, '') + '.y';
window.start = (options = {}) => {
  const client = NotifyClientLibrary.createNotifyClient({
    url: '${ORIGIN}',
    getToken: () => { fake.tokenCalls += 1; return tokenFor('u1'); },
    WebSocket: FakeWebSocket,
    backoff: { initialMs: 20, maxMs: 80 },
    ...options,
  });
  client.notifications$.subscribe((n) => fake.emitted.push(n.id));
  client.connectionState$.subscribe((s) => fake.states.push(s));
  client.errors$.subscribe((e) => fake.errors.push(e));
  client.unreadCount$.subscribe((c) => fake.counts.push(c));
  client.reads$.subscribe((r) => fake.reads.push(r));
  window.client = client;
};
`;

interface FakeState {
  socketUrls: string[];
  sent: unknown[][];
  tokenCalls: number;
  emitted: string[];
  states: string[];
  errors: Array<{ code: string; closeCode?: number; fatal: boolean }>;
  counts: number[];
  lastId: string | undefined;
  stored: string | null;
}

let browser: Browser;
let library: string;
let page: Page;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh --browser`);
  const bundled = await build({
    entryPoints: [new URL('../../web/client/notify-client.ts', import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    globalName: 'NotifyClientLibrary',
    write: false,
    logLevel: 'warning',
  });
  library = bundled.outputFiles[0]!.text;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
});

after(async () => {
  await browser?.close();
});

beforeEach(async () => {
  await page?.context().close();
  const context = await browser.newContext();
  page = await context.newPage();
  // A real origin (localStorage, BroadcastChannel) whose only page is empty.
  await page.route(`${ORIGIN}/**`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>client</title>' }),
  );
  await page.goto(`${ORIGIN}/`);
  await page.addScriptTag({ content: library });
  await page.addScriptTag({ content: HARNESS });
});

const run = (script: string): Promise<unknown> => page.evaluate(script);
const until = (condition: string): Promise<unknown> =>
  page.waitForFunction(condition, undefined, { timeout: WAIT_MS });
const state = (): Promise<FakeState> =>
  page.evaluate(`({
    socketUrls: fake.sockets.map((s) => s.url),
    sent: fake.sockets.map((s) => s.sent),
    tokenCalls: fake.tokenCalls,
    emitted: fake.emitted,
    states: fake.states,
    errors: fake.errors,
    counts: fake.counts,
    lastId: client.lastId,
    stored: localStorage.getItem('normx-notify:lastId:u1'),
  })`) as Promise<FakeState>;
const socket = (index: number) => `fake.sockets[${index}]`;

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

  it('queues marks while disconnected and sends them once the socket is back, as one message', async () => {
    await run(`start()`);
    await until(`fake.sockets.length === 1`);
    await run(
      `window.client.markRead(['3', 'nope']); window.client.markRead(['4']); window.client.markRead(['3'])`,
    );
    await run(`${socket(0)}.accept()`);
    assert.deepEqual((await state()).sent[0], [{ type: 'mark_read', ids: ['3', '4'], ref: '1' }]);
    // A mark of everything covers the ids marked before it.
    await run(
      `window.client.markRead(['5']); window.client.markAllRead(); ${socket(0)}.frame({ type: 'marked', ref: '1' })`,
    );
    assert.deepEqual((await state()).sent[0], [
      { type: 'mark_read', ids: ['3', '4'], ref: '1' },
      { type: 'mark_all_read', ref: '2' },
    ]);
    assert.deepEqual(await run(`fake.reads`), [
      { ids: ['3'] },
      { ids: ['4'] },
      { ids: ['3'] },
      { ids: ['5'] },
      { all: true },
    ]);
  });

  it('keeps each mark until acknowledged: one batch at a time, sent again when refused or lost with the socket', async () => {
    await run(`start()`);
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); window.client.markRead(['1']); window.client.markRead(['2'])`);
    // One batch in flight: the second mark waits for the first's answer.
    assert.deepEqual((await state()).sent[0], [{ type: 'mark_read', ids: ['1'], ref: '1' }]);
    // Refused over the rate limit (the server names no ref then): sent again after a delay, with the one waiting.
    await run(
      `${socket(0)}.frame({ type: 'error', code: 'rate_limited', message: 'Too many messages: slow down' })`,
    );
    await until(`fake.sockets[0].sent.length === 2`);
    assert.deepEqual((await state()).sent[0]![1], { type: 'mark_read', ids: ['2', '1'], ref: '2' });
    // Lost with the socket before its answer: sent on the next one.
    await run(`${socket(0)}.drop(1006)`);
    await until(`fake.sockets.length === 2`);
    await run(`${socket(1)}.accept()`);
    assert.deepEqual((await state()).sent[1], [{ type: 'mark_read', ids: ['2', '1'], ref: '3' }]);
    // Refused for good (its ref named): reported with the ids, not retried.
    await run(
      `${socket(1)}.frame({ type: 'error', code: 'validation_failed', message: 'ids: bad', ref: '3' })`,
    );
    const now = await state();
    assert.equal(now.sent[1]!.length, 1);
    assert.deepEqual(
      now.errors.map(({ code, fatal }) => ({ code, fatal })),
      [
        { code: 'rate_limited', fatal: false },
        { code: 'validation_failed', fatal: false },
        { code: 'mark_failed', fatal: false },
      ],
    );
    assert.match(JSON.stringify(now.errors.at(-1)), /2, 1/);
  });

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
