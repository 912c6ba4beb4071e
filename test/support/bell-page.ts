import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { buildWeb } from '../../scripts/build-web.js';
import { startServerHarness, type NotificationFields, type ServerHarness } from './notify-server.js';

/**
 * What the bell page's Chromium tests (test/e2e/web-bell-*.test.ts) share: the page built by
 * esbuild, served by a real server on real PostgreSQL, Debian's Chromium, a record of what the
 * page does with the Notification API and its sockets, and the helpers that drive it.
 */

export const WAIT_MS = 5_000;

/** Set by `setUpBellPage`'s before hook, for the tests of the file that called it. */
export let browser: Browser;
export let harness: ServerHarness;
export let webDir: string;

/** Builds the page, starts its server and Chromium before the file's tests, and stops them after. */
export function setUpBellPage(): void {
  before(async () => {
    webDir = await mkdtemp(join(tmpdir(), 'normx-bell-'));
    await buildWeb({ outDir: webDir });
    harness = await startServerHarness({ webDir });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });
}

/** What the init script records in the page: the Notification API's use and the socket traffic. */
export interface PageRecord {
  constructed: Array<{ title: string; body: string; tag: string }>;
  permissionRequests: number;
  socketUrls: string[];
  /** Types of the frames the page sent. */
  sentTypes: string[];
  /** Ids of the notification frames received, over every socket of the page, in order. */
  receivedIds: string[];
}

/** Wraps `Notification` and `WebSocket` to record what the page does with them. */
const RECORD_PAGE = `(() => {
  const record = { constructed: [], permissionRequests: 0, socketUrls: [], sentTypes: [], receivedIds: [] };
  window.__pageRecord = record;
  const NativeNotification = window.Notification;
  class RecordedNotification extends NativeNotification {
    constructor(title, options = {}) {
      super(title, options);
      record.constructed.push({ title, body: options.body ?? '', tag: options.tag ?? '' });
    }
  }
  RecordedNotification.requestPermission = (...args) => {
    record.permissionRequests += 1;
    return NativeNotification.requestPermission(...args);
  };
  window.Notification = RecordedNotification;
  class RecordedWebSocket extends window.WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      record.socketUrls.push(String(url));
      this.addEventListener('message', (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'notification') record.receivedIds.push(frame.notification.id);
      });
    }
    send(data) {
      record.sentTypes.push(JSON.parse(data).type);
      super.send(data);
    }
  }
  window.WebSocket = RecordedWebSocket;
})();`;

export const recordOf = (page: Page): Promise<PageRecord> =>
  page.evaluate('window.__pageRecord') as Promise<PageRecord>;

export async function newContext(options: { notifications?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    viewport: { width: 1100, height: 680 },
    permissions: options.notifications ? ['notifications'] : [],
  });
  await context.addInitScript(RECORD_PAGE);
  return context;
}

/** Opens the page as `user` and waits for its socket. */
export async function openBell(context: BrowserContext, user: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${harness.url}/#token=${await harness.token(user)}`);
  await waitForState(page, 'open');
  assert.deepEqual(errors, []);
  return page;
}

export const waitForState = (page: Page, state: string, timeout = WAIT_MS): Promise<void> =>
  page.locator(`#connection-status[data-state="${state}"]`).waitFor({ timeout });

export const waitForCount = (page: Page, count: number, timeout = WAIT_MS): Promise<void> =>
  page.locator(`#bell-badge[data-count="${count}"]`).waitFor({ state: 'attached', timeout });

export const item = (page: Page, id: string) => page.locator(`#bell-list li[data-id="${id}"]`);

export const listedIds = (page: Page): Promise<string[]> =>
  page
    .locator('#bell-list li')
    .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-id') ?? ''));

export async function openPanel(page: Page): Promise<void> {
  if ((await page.locator('#bell-button').getAttribute('aria-expanded')) !== 'true')
    await page.locator('#bell-button').click();
  await page.locator('#bell-panel').waitFor({ state: 'visible', timeout: WAIT_MS });
}

export const notifyMany = async (
  user: string,
  entries: Array<[string, NotificationFields]>,
): Promise<string[]> => {
  const ids: string[] = [];
  for (const [title, fields] of entries) ids.push(await harness.notify(user, title, fields));
  return ids;
};
