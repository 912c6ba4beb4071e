import { after, before, beforeEach } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';

/**
 * The client library alone, in Chromium, against a scripted server (test/e2e/web-notify-client*.test.ts):
 * a fake WebSocket the test drives frame by frame. `useFakeSocketPage()` registers the hooks (a
 * browser per file, a fresh page per test) and returns what the tests call.
 */

const ORIGIN = 'http://client.test';
const WAIT_MS = 5_000;

/** Test double of the browser's WebSocket, plus the client under test and what it emitted. */
export const HARNESS = `
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

export interface FakeState {
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

export function useFakeSocketPage() {
  let browser: Browser;
  let library: string;
  let page: Page;
  before(async () => {
    const bundled = await build({
      entryPoints: [new URL('../../web/client/notify-client.ts', import.meta.url).pathname],
      bundle: true,
      format: 'iife',
      globalName: 'NotifyClientLibrary',
      write: false,
      logLevel: 'warning',
    });
    library = bundled.outputFiles[0]!.text;
    browser = await launchChromium();
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
  return { run, until, state, socket, page: () => page };
}
