import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import {
  freePort,
  httpRequest,
  startServerHarness,
  type NotificationFields,
  type ServerHarness,
} from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';

/**
 * The bell page end to end: the page built by esbuild, served by a real server on real
 * PostgreSQL, driven in Debian's Chromium. Notifications are committed the way the worker does.
 * `BELL_SCREENSHOTS=1` also writes docs/bell-closed.png and docs/bell-open.png.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.BELL_SCREENSHOTS === '1';
const WAIT_MS = 5_000;

let browser: Browser;
let harness: ServerHarness;
let webDir: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh --browser`);
  webDir = await mkdtemp(join(tmpdir(), 'normx-bell-'));
  await buildWeb({ outDir: webDir });
  harness = await startServerHarness({ webDir });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  await harness?.close();
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

/** What the init script records in the page: the Notification API's use and the socket traffic. */
interface PageRecord {
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

const recordOf = (page: Page): Promise<PageRecord> =>
  page.evaluate('window.__pageRecord') as Promise<PageRecord>;

/**
 * Waits until the page has created `count` browser notifications. A function, not a string:
 * Playwright polls a string with eval, which the page's Content-Security-Policy forbids.
 */
const waitForShown = (page: Page, count: number) =>
  page.waitForFunction(
    (expected) =>
      (globalThis as unknown as { __pageRecord: PageRecord }).__pageRecord.constructed.length === expected,
    count,
    { timeout: WAIT_MS },
  );

const notificationsShown = async (page: Page) => {
  const { constructed, permissionRequests } = await recordOf(page);
  return { constructed, permissionRequests };
};

async function newContext(options: { notifications?: boolean } = {}): Promise<BrowserContext> {
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
async function openBell(context: BrowserContext, user: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${harness.url}/#token=${await harness.token(user)}`);
  await waitForState(page, 'open');
  assert.deepEqual(errors, []);
  return page;
}

const waitForState = (page: Page, state: string, timeout = WAIT_MS): Promise<void> =>
  page.locator(`#connection-status[data-state="${state}"]`).waitFor({ timeout });

const waitForCount = (page: Page, count: number, timeout = WAIT_MS): Promise<void> =>
  page.locator(`#bell-badge[data-count="${count}"]`).waitFor({ state: 'attached', timeout });

const item = (page: Page, id: string) => page.locator(`#bell-list li[data-id="${id}"]`);

const listedIds = (page: Page): Promise<string[]> =>
  page
    .locator('#bell-list li')
    .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-id') ?? ''));

async function openPanel(page: Page): Promise<void> {
  if ((await page.locator('#bell-button').getAttribute('aria-expanded')) !== 'true')
    await page.locator('#bell-button').click();
  await page.locator('#bell-panel').waitFor({ state: 'visible', timeout: WAIT_MS });
}

const notifyMany = async (user: string, entries: Array<[string, NotificationFields]>): Promise<string[]> => {
  const ids: string[] = [];
  for (const [title, fields] of entries) ids.push(await harness.notify(user, title, fields));
  return ids;
};

describe('the bell page', () => {
  it('loads, shows the unread count and the list from the server, newest first, in French', async () => {
    const user = 'lea';
    const ids = await notifyMany(user, [
      [
        'Nouveau dossier : Bilan 2026 SARL Dupont',
        { type: 'dossier_update', kind: 'created', body: 'Échéance le 31 mars 2027.' },
      ],
      [
        'Échéance demain : Liasse fiscale Martin & Fils',
        {
          type: 'deadline_reminder',
          kind: 'j-1',
          body: 'Le dossier « Liasse fiscale Martin & Fils » arrive à échéance demain.',
        },
      ],
      [
        'Dossier en retard : TVA T1 Boulangerie Roux',
        {
          type: 'new_alert',
          kind: 'overdue',
          body: 'Le dossier « TVA T1 Boulangerie Roux » a dépassé son échéance.',
        },
      ],
      [
        'Récapitulatif du jour',
        { type: 'daily_report', kind: 'report', body: '1 dossier en retard, 2 à rendre aujourd’hui.' },
      ],
    ]);
    // The oldest is read already; the others were created 3 days, 2 hours and 5 minutes ago.
    await harness.db.query(`update notifications set read_at = now() where id = $1`, [ids[0]]);
    for (const [id, age] of [
      [ids[0], '3 days'],
      [ids[1], '2 hours'],
      [ids[2], '5 minutes'],
    ] as const)
      await harness.db.query(`update notifications set created_at = now() - $2::interval where id = $1`, [
        id,
        age,
      ]);

    const context = await newContext({ notifications: true });
    try {
      const page = await openBell(context, user);
      await waitForCount(page, 3);
      assert.equal(await page.locator('#bell-badge').textContent(), '3');
      assert.equal(
        await page.locator('#bell-button').getAttribute('aria-label'),
        'Notifications, 3 non lues',
      );
      assert.equal(await page.locator('#bell-panel').isHidden(), true);

      if (SCREENSHOTS) await screenshot(page, 'bell-closed.png');
      await openPanel(page);
      assert.equal(await page.locator('#bell-button').getAttribute('aria-expanded'), 'true');
      assert.deepEqual(await listedIds(page), [...ids].reverse());
      assert.equal(await page.locator('#bell-list li.unread').count(), 3);
      assert.equal(await item(page, ids[0]!).getAttribute('class'), 'item type-dossier_update');
      assert.match((await item(page, ids[0]!).locator('time').textContent()) ?? '', /^il y a 3 jours$/);
      assert.match((await item(page, ids[1]!).locator('time').textContent()) ?? '', /^il y a 2 heures$/);
      assert.match((await item(page, ids[2]!).locator('time').textContent()) ?? '', /^il y a 5 minutes$/);
      for (const type of ['dossier_update', 'deadline_reminder', 'new_alert', 'daily_report'])
        assert.equal(await page.locator(`#bell-list li.type-${type} svg.item-icon`).count(), 1, type);
      if (SCREENSHOTS) await screenshot(page, 'bell-open.png');

      // Keyboard: arrows move through the items, Escape closes and gives the focus back.
      await page.locator('#bell-button').focus();
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.evaluate('document.activeElement.closest("li").dataset.id'), ids[3]);
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.evaluate('document.activeElement.closest("li").dataset.id'), ids[2]);
      await page.keyboard.press('Escape');
      await page.locator('#bell-panel').waitFor({ state: 'hidden', timeout: WAIT_MS });
      assert.equal(await page.evaluate('document.activeElement.id'), 'bell-button');
      assert.equal(await page.locator('#bell-button').getAttribute('aria-expanded'), 'false');
      // The token left the address bar (it stays in this tab only), and no URL ever carried it.
      assert.equal(new URL(page.url()).hash, '');
      const { socketUrls } = await recordOf(page);
      assert.deepEqual(socketUrls, [`${harness.wsUrl}/api/v1/ws?lastId=${ids[3]}`]);
    } finally {
      await context.close();
    }
  });

  it('shows a committed notification in the list, and the badge goes up, within 1 s', async () => {
    const user = 'marc';
    await harness.notify(user, 'Déjà là');
    const context = await newContext();
    try {
      const page = await openBell(context, user);
      await waitForCount(page, 1);
      await openPanel(page);
      const committedAt = Date.now();
      const id = await harness.notify(user, 'Échéance aujourd’hui : Bilan Roux', {
        type: 'deadline_reminder',
        kind: 'j-0',
      });
      await Promise.all([item(page, id).waitFor({ timeout: 1_000 }), waitForCount(page, 2, 1_000)]);
      const elapsed = Date.now() - committedAt;
      assert.ok(elapsed < 1_000, `${elapsed} ms`);
      assert.equal((await listedIds(page))[0], id);
      assert.equal(await item(page, id).getAttribute('class'), 'item type-deadline_reminder unread');
      assert.equal(
        await page.locator('#announcer').textContent(),
        'Nouvelle notification : Échéance aujourd’hui : Bilan Roux',
      );
    } finally {
      await context.close();
    }
  });

  it('creates a browser Notification once allowed by a click, never asking on load', async () => {
    const user = 'nina';
    const context = await newContext({ notifications: true });
    try {
      const page = await openBell(context, user);
      await waitForCount(page, 0);
      assert.equal(await page.evaluate('Notification.permission'), 'granted');
      const before = await harness.notify(user, 'Avant le clic');
      await item(page, before).waitFor({ state: 'attached', timeout: WAIT_MS });
      assert.deepEqual(await notificationsShown(page), { constructed: [], permissionRequests: 0 });

      await openPanel(page);
      const toggle = page.locator('#browser-notifications');
      assert.equal(await toggle.textContent(), 'Activer les notifications du navigateur');
      await toggle.click();
      await page.locator('#browser-notifications[aria-pressed="true"]').waitFor({ timeout: WAIT_MS });
      assert.equal((await recordOf(page)).permissionRequests, 1);

      const id = await harness.notify(user, 'Dossier en retard : Paie mars', {
        body: 'En retard depuis hier.',
      });
      await waitForShown(page, 1);
      assert.deepEqual((await recordOf(page)).constructed, [
        { title: 'Dossier en retard : Paie mars', body: 'En retard depuis hier.', tag: `normx-notify-${id}` },
      ]);

      // The choice is remembered across a reload, and asking again is not needed.
      await page.reload();
      await waitForState(page, 'open');
      const next = await harness.notify(user, 'Après rechargement');
      await waitForShown(page, 1);
      assert.deepEqual(await notificationsShown(page), {
        constructed: [
          { title: 'Après rechargement', body: 'Après rechargement body', tag: `normx-notify-${next}` },
        ],
        permissionRequests: 0,
      });
    } finally {
      await context.close();
    }
  });

  it('makes one popup of reminders stored together, in one tab of two, and lists each', async () => {
    const user = 'victor';
    const context = await newContext({ notifications: true });
    try {
      const [first, second] = [await openBell(context, user), await openBell(context, user)];
      for (const tab of [first, second]) await waitForCount(tab, 0);
      await openPanel(first);
      await first.locator('#browser-notifications').click();
      // Turned on in one tab, on in the other: the tab that shows the popups may be either.
      await openPanel(second);
      await second.locator('#browser-notifications[aria-pressed="true"]').waitFor({ timeout: WAIT_MS });

      // The 08:00 herd: three reminders of the day committed at once, each in its own transaction.
      const titles = ['Bilan Arnaud', 'TVA Boulangerie Roux', 'Liasse Martin & Fils'].map(
        (name) => `Échéance aujourd’hui : ${name}`,
      );
      const stored = await Promise.all(
        titles.map(async (title) => ({
          title,
          id: await harness.notify(user, title, { type: 'deadline_reminder', kind: 'j-0' }),
        })),
      );
      stored.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      const ids = stored.map(({ id }) => id);
      for (const tab of [first, second]) {
        await waitForCount(tab, 3);
        assert.deepEqual(await listedIds(tab), [...ids].reverse(), 'one row each');
      }
      // The first tab opened holds the popup lock: it shows one popup for the three.
      await waitForShown(first, 1);
      assert.deepEqual((await recordOf(first)).constructed, [
        {
          title: '3 échéances aujourd’hui',
          body: stored.map(({ title }) => title).join('\n'),
          tag: `normx-notify-${ids[0]}-${ids[2]}`,
        },
      ]);

      // The other tab showed none: once the first is closed, it shows the next popup, and only that one.
      await first.close();
      const next = await harness.notify(user, 'Dossier en retard : Paie avril', {
        type: 'new_alert',
        kind: 'overdue',
        body: 'En retard depuis hier.',
      });
      await waitForShown(second, 1);
      assert.deepEqual((await recordOf(second)).constructed, [
        {
          title: 'Dossier en retard : Paie avril',
          body: 'En retard depuis hier.',
          tag: `normx-notify-${next}`,
        },
      ]);
    } finally {
      await context.close();
    }
  });

  it('marks one and all as read; the count goes down and stays down after a reload', async () => {
    const user = 'omar';
    const ids = await notifyMany(user, [
      ['Premier', {}],
      ['Deuxième', {}],
      ['Troisième', {}],
    ]);
    const context = await newContext();
    try {
      const page = await openBell(context, user);
      await waitForCount(page, 3);
      await openPanel(page);
      await item(page, ids[1]!).locator('.item-button').click();
      await waitForCount(page, 2);
      assert.equal(await item(page, ids[1]!).getAttribute('class'), 'item type-new_alert');

      await page.reload();
      await waitForState(page, 'open');
      await waitForCount(page, 2);
      await openPanel(page);
      assert.deepEqual(
        await page
          .locator('#bell-list li.unread')
          .evaluateAll((elements) => elements.map((e) => e.getAttribute('data-id'))),
        [ids[2], ids[0]],
      );
      const [row] = await harness.db.query<{ unread: string }>(
        `select count(*) filter (where read_at is null) as unread from notifications where user_id = $1`,
        [user],
      );
      assert.equal(row!.unread, '2');

      await page.locator('#mark-all-read').click();
      await waitForCount(page, 0);
      assert.equal(await page.locator('#bell-badge').isHidden(), true);
      assert.equal(await page.locator('#bell-list li.unread').count(), 0);
      await page.reload();
      await waitForState(page, 'open');
      await waitForCount(page, 0);
      assert.equal(await page.locator('#bell-list li.unread').count(), 0);
    } finally {
      await context.close();
    }
  });

  it('shows reconnecting while the server is down, then catches up with no duplicate', async () => {
    const user = 'paul';
    const port = await freePort();
    const restartable = await startServerHarness({ webDir, db: harness.db, port });
    let restarted: ServerHarness | undefined;
    const context = await newContext();
    try {
      const first = await harness.notify(user, 'Avant la coupure');
      const page = await context.newPage();
      await page.goto(`${restartable.url}/#token=${await restartable.token(user)}`);
      await waitForState(page, 'open');
      await waitForCount(page, 1);
      const beforeCut = await harness.notify(user, 'Juste avant la coupure');
      await waitForCount(page, 2);

      await restartable.server.shutdown();
      await waitForState(page, 'reconnecting');
      assert.equal(await page.locator('#connection-text').textContent(), 'Reconnexion…');
      const missed = await notifyMany(user, [
        ['Pendant la coupure 1', {}],
        ['Pendant la coupure 2', {}],
      ]);
      restarted = await startServerHarness({ webDir, db: harness.db, port });
      await waitForState(page, 'open', 20_000);
      for (const id of missed) await item(page, id).waitFor({ state: 'attached', timeout: WAIT_MS });
      await waitForCount(page, 4);
      const live = await restarted.notify(user, 'Après la reprise');
      await item(page, live).waitFor({ state: 'attached', timeout: WAIT_MS });
      await waitForCount(page, 5);
      assert.deepEqual(await listedIds(page), [live, ...[...missed].reverse(), beforeCut, first]);
      // The socket itself got each one once: the reconnection resumed right after the last seen.
      const { socketUrls, receivedIds } = await recordOf(page);
      assert.deepEqual(receivedIds, [beforeCut, ...missed, live]);
      assert.equal(socketUrls[0], `${restartable.wsUrl}/api/v1/ws?lastId=${first}`);
      assert.equal(socketUrls.at(-1), `${restartable.wsUrl}/api/v1/ws?lastId=${beforeCut}`);
      assert.ok(socketUrls.length >= 2, socketUrls.join(' '));
    } finally {
      await context.close();
      await restarted?.server.shutdown();
      await restartable.server.shutdown();
    }
  });

  it('sends a fresh token when warned of expiry; after a 4401 shows the session expired, then reconnects with a fresher one', async () => {
    // Tokens of 6 s; the server warns 3 s before it closes with 4401 (at expiry: no clock tolerance).
    const short = await startServerHarness({
      webDir,
      db: harness.db,
      env: { WS_TOKEN_EXPIRY_WARNING_SECONDS: '3', JWT_CLOCK_TOLERANCE_SECONDS: '0' },
    });
    const context = await newContext();
    const setToken = (page: Page, token: string) =>
      page.evaluate(`sessionStorage.setItem('normx-notify:page-token', ${JSON.stringify(token)})`);
    try {
      // Renewed in time: the page answers token_expiring with refresh_token and stays connected.
      const renewed = await context.newPage();
      const expiring = await short.token('sara', { expiresInSeconds: 6 });
      const expiresAt = JSON.parse(Buffer.from(expiring.split('.')[1]!, 'base64url').toString()).exp * 1000;
      await renewed.goto(`${short.url}/#token=${expiring}`);
      await waitForState(renewed, 'open');
      await setToken(renewed, await short.token('sara'));
      await renewed.waitForFunction(
        () => (globalThis as unknown as { __pageRecord: PageRecord }).__pageRecord.sentTypes.length > 0,
        undefined,
        { timeout: WAIT_MS },
      );
      assert.deepEqual((await recordOf(renewed)).sentTypes, ['refresh_token']);

      // Not renewed: closed with 4401 at expiry; the page says the session expired and does not
      // reconnect with the expired token; back as soon as a fresher token is there.
      const lapsed = await context.newPage();
      await lapsed.goto(`${short.url}/#token=${await short.token('tom', { expiresInSeconds: 6 })}`);
      await waitForState(lapsed, 'open');
      await waitForState(lapsed, 'expired', 10_000);
      await lapsed.locator('#page-error', { hasText: 'session a expiré' }).waitFor({ timeout: WAIT_MS });
      assert.equal((await recordOf(lapsed)).socketUrls.length, 1, 'no reconnection with the expired token');
      await setToken(lapsed, await short.token('tom'));
      await waitForState(lapsed, 'open', 10_000);
      assert.equal(await lapsed.locator('#page-error').isHidden(), true);
      const id = await short.notify('tom', 'Après le nouveau jeton');
      await item(lapsed, id).waitFor({ state: 'attached', timeout: WAIT_MS });
      assert.ok((await recordOf(lapsed)).socketUrls.length >= 2);

      // By now the first token has expired: the renewed page never lost its socket.
      assert.ok(Date.now() > expiresAt, 'the first token has expired');
      const late = await short.notify('sara', 'Après l’expiration du premier jeton');
      await item(renewed, late).waitFor({ state: 'attached', timeout: WAIT_MS });
      assert.equal((await recordOf(renewed)).socketUrls.length, 1);
      assert.equal(await renewed.locator('#connection-status').getAttribute('data-state'), 'open');
    } finally {
      await context.close();
      await short.server.shutdown();
    }
  });

  it('renews its token through the renewal address given with it (#renew=), without reconnecting', async () => {
    const short = await startServerHarness({
      webDir,
      db: harness.db,
      env: { WS_TOKEN_EXPIRY_WARNING_SECONDS: '3', JWT_CLOCK_TOLERANCE_SECONDS: '0' },
    });
    const context = await newContext();
    let renewals = 0;
    // The host application's endpoint (same origin, its session cookie): a fresh token each call,
    // a 6 s one first (the connection's), so that the expiry warning asks it again.
    await context.route(`${short.url}/test-renew-token`, async (route) => {
      renewals += 1;
      const token = await short.token('ugo', { expiresInSeconds: renewals === 1 ? 6 : 3600 });
      await route.fulfill({ contentType: 'application/json', body: JSON.stringify({ token }) });
    });
    try {
      const page = await context.newPage();
      const first = await short.token('ugo', { expiresInSeconds: 6 });
      const expiresAt = JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).exp * 1000;
      await page.goto(`${short.url}/#token=${first}&renew=/test-renew-token`);
      await waitForState(page, 'open');
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { __pageRecord: PageRecord }).__pageRecord.sentTypes.includes(
            'refresh_token',
          ),
        undefined,
        { timeout: WAIT_MS },
      );
      assert.ok(renewals >= 2, `${renewals} renewals`);
      // Past the 6 s tokens' expiry: still the first socket, still live.
      await page.waitForTimeout(Math.max(0, expiresAt + 1500 - Date.now()));
      const id = await short.notify('ugo', 'Après le renouvellement');
      await item(page, id).waitFor({ state: 'attached', timeout: WAIT_MS });
      assert.equal((await recordOf(page)).socketUrls.length, 1);
      assert.equal(await page.locator('#connection-status').getAttribute('data-state'), 'open');
      // The fragment (token and renewal address) left the address bar.
      assert.equal(new URL(page.url()).hash, '');
    } finally {
      await context.close();
      await short.server.shutdown();
    }
  });

  it('updates two tabs of one user, marks included', async () => {
    const user = 'rose';
    const context = await newContext();
    try {
      const tabs = [await openBell(context, user), await openBell(context, user)];
      for (const tab of tabs) await waitForCount(tab, 0);
      const ids = await notifyMany(user, [
        ['Onglets 1', {}],
        ['Onglets 2', {}],
      ]);
      for (const tab of tabs) {
        await waitForCount(tab, 2);
        for (const id of ids) await item(tab, id).waitFor({ state: 'attached', timeout: WAIT_MS });
        assert.deepEqual(await listedIds(tab), [...ids].reverse());
      }
      // Marks made in one tab reach the other.
      await openPanel(tabs[0]!);
      await tabs[0]!.locator('#mark-all-read').click();
      for (const tab of tabs) {
        await waitForCount(tab, 0);
        await tab.locator('#bell-list li.unread').first().waitFor({ state: 'detached', timeout: WAIT_MS });
      }
    } finally {
      await context.close();
    }
  });
});

describe('the bell page: inbox states', () => {
  const archivedIds = (page: Page): Promise<string[]> =>
    page
      .locator('#archive-list li')
      .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-id') ?? ''));
  const newIds = (page: Page): Promise<string[]> =>
    page
      .locator('#bell-list li[data-new="true"]')
      .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-id') ?? ''));
  const waitForArchiveCount = (page: Page, count: number) =>
    page.locator(`#archive-count[data-count="${count}"]`).waitFor({ state: 'attached', timeout: WAIT_MS });
  const waitForUnseen = (page: Page, count: number) =>
    page.locator(`#bell-button[data-unseen="${count}"]`).waitFor({ state: 'attached', timeout: WAIT_MS });

  it('archives from the list: out of the inbox and the badge, into the Archives view, in both tabs; unarchive brings it back', async () => {
    const user = 'suzanne';
    const ids = await notifyMany(user, [
      ['Archive 1', {}],
      ['Archive 2', {}],
      ['Archive 3', {}],
    ]);
    const context = await newContext();
    try {
      const tabs = [await openBell(context, user), await openBell(context, user)];
      for (const tab of tabs) await waitForCount(tab, 3);
      const [first, second] = tabs as [Page, Page];
      await openPanel(first);
      await item(first, ids[1]!).locator('.item-archive').click();
      // The panel stays open; the item leaves the inbox at once, the counts follow from the server.
      assert.equal(await first.locator('#bell-panel').isVisible(), true);
      for (const tab of tabs) {
        await waitForCount(tab, 2);
        await waitForArchiveCount(tab, 1);
        await item(tab, ids[1]!).waitFor({ state: 'detached', timeout: WAIT_MS });
        assert.deepEqual(await listedIds(tab), [ids[2], ids[0]]);
      }
      const [row] = await harness.db.query<{ archived: boolean }>(
        `select archived_at is not null as archived from notifications where id = $1`,
        [ids[1]],
      );
      assert.equal(row?.archived, true);

      // The Archives view, in the other tab: read from the server.
      await openPanel(second);
      await second.locator('#view-archive').click();
      await second.locator(`#archive-list li[data-id="${ids[1]}"]`).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(await archivedIds(second), [ids[1]]);
      assert.equal(await second.locator('#bell-list').isHidden(), true);
      assert.equal(await second.locator('#archive-list li.unread').count(), 1, 'archived, still unread');
      assert.equal(await second.locator('#view-archive').getAttribute('aria-pressed'), 'true');

      // Unarchive from the Archives view: back in the inbox of both tabs, unread again.
      await second.locator(`#archive-list li[data-id="${ids[1]}"] .item-unarchive`).click();
      for (const tab of tabs) {
        await waitForCount(tab, 3);
        await waitForArchiveCount(tab, 0);
        await item(tab, ids[1]!).waitFor({ state: 'attached', timeout: WAIT_MS });
        assert.deepEqual(await listedIds(tab), [...ids].reverse());
      }
      assert.deepEqual(await archivedIds(second), []);
      await second.locator('#view-inbox').click();
      assert.equal(await second.locator('#bell-list').isVisible(), true);
      assert.equal(await item(second, ids[1]!).getAttribute('class'), 'item type-new_alert unread');
      // After a reload, as the server has it.
      await first.reload();
      await waitForState(first, 'open');
      await waitForCount(first, 3);
      await waitForArchiveCount(first, 0);
    } finally {
      await context.close();
    }
  });

  it('marks what came since the user last looked as new; opening the list marks it seen, in every tab', async () => {
    const user = 'thibault';
    const old = await notifyMany(user, [
      ['Vue 1', {}],
      ['Vue 2', {}],
    ]);
    const context = await newContext();
    try {
      const tabs = [await openBell(context, user), await openBell(context, user)];
      const [first, second] = tabs as [Page, Page];
      for (const tab of tabs) await waitForUnseen(tab, 2);
      // Never looked: both are new when the list opens, and then seen.
      await openPanel(first);
      assert.deepEqual(await newIds(first), [...old].reverse());
      assert.equal(await first.locator('#new-count').textContent(), '2 nouvelles');
      for (const tab of tabs) await waitForUnseen(tab, 0);
      const [state] = await harness.db.query<{ last_seen_id: string }>(
        `select last_seen_id::text from notification_inbox_states where user_id = $1`,
        [user],
      );
      assert.equal(state?.last_seen_id, old[1]);
      // Still marked while the panel stays open; not read by being seen.
      assert.deepEqual(await newIds(first), [...old].reverse());
      assert.equal(await first.locator('#bell-list li.unread').count(), 2);
      await first.keyboard.press('Escape');

      // One more arrives: the bells say something is new; opening the list marks that one only.
      const [fresh] = await notifyMany(user, [['Vue 3', {}]]);
      for (const tab of tabs) {
        await waitForUnseen(tab, 1);
        await item(tab, fresh!).waitFor({ state: 'attached', timeout: WAIT_MS });
      }
      await openPanel(second);
      assert.deepEqual(await newIds(second), [fresh]);
      assert.equal(await second.locator('#new-count').textContent(), '1 nouvelle');
      for (const tab of tabs) await waitForUnseen(tab, 0);
      // The first tab saw it seen elsewhere: opening its list now marks nothing new.
      await openPanel(first);
      assert.deepEqual(await newIds(first), []);
      assert.equal(await first.locator('#new-count').isHidden(), true);
    } finally {
      await context.close();
    }
  });
});

describe('the bell page: snooze', () => {
  /** A snooze call as the page made it. */
  interface SnoozeCall {
    method: string;
    path: string;
    authorization: string | null;
    body: { preset?: string; until?: string; eventId?: string };
  }

  it('snoozes a reminder from its Reporter menu: the call with the preset, retried with its event id; the item read and confirmed; a come-back marked', async () => {
    const user = 'yvette';
    const [reminder, notice, refused] = await notifyMany(user, [
      ['Échéance demain : Bilan Roux', { type: 'deadline_reminder', kind: 'j-1', dossierId: 'D-ROUX' }],
      ['Nouveau dossier : Paie Martin', { type: 'dossier_update', kind: 'created', dossierId: 'D-MARTIN' }],
      ['Dossier en retard : TVA Dupont', { type: 'new_alert', kind: 'overdue', dossierId: 'D-DUPONT' }],
    ]);
    // A snoozed reminder come back: a new notification referring to the first.
    const comeback = await harness.notify(user, 'Échéance demain : Bilan Roux', {
      type: 'deadline_reminder',
      kind: 'j-1',
      dossierId: 'D-ROUX',
      data: { snoozedFrom: reminder },
    });
    const context = await newContext();
    // The route's answers are the test's (the dossier's workflow, and the snooze's comeback, are
    // tested with Temporal in test/integration/snooze.test.ts): the first call meets a busy server
    // (the page tries again with the same event id), the next is accepted; TVA Dupont's is refused.
    const calls: SnoozeCall[] = [];
    await context.route(/\/api\/v1\/users\/me\/notifications\/\d+\/snooze$/, async (route) => {
      const request = route.request();
      const path = new URL(request.url()).pathname;
      calls.push({
        method: request.method(),
        path,
        authorization: await request.headerValue('authorization'),
        body: request.postDataJSON() as SnoozeCall['body'],
      });
      const error = (status: number, code: string, message: string) =>
        route.fulfill({
          status,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code, message } }),
        });
      if (path.includes(`/${refused}/`))
        return error(404, 'not_found', `No notification ${refused} of yours`);
      if (calls.length === 1) return error(503, 'server_busy', 'Server busy');
      return route.fulfill({
        status: 202,
        contentType: 'application/json',
        body: JSON.stringify({ workflowId: 'dossier:D-ROUX', eventId: calls.at(-1)!.body.eventId }),
      });
    });
    try {
      const page = await openBell(context, user);
      await waitForCount(page, 4);
      await openPanel(page);
      // A dossier's reminders and alerts can be snoozed; a notice cannot.
      for (const id of [reminder, refused, comeback])
        assert.equal(await item(page, id!).locator('.item-snooze-button').count(), 1, id);
      assert.equal(await item(page, notice!).locator('.item-snooze-button').count(), 0);
      assert.equal(await item(page, comeback).locator('.item-snoozed-label').textContent(), 'reporté');
      assert.equal(await item(page, reminder!).locator('.item-snoozed-label').count(), 0);

      // The menu: its presets, the focus on the first; Escape closes it and leaves the panel open.
      const reminderItem = item(page, reminder!);
      await reminderItem.locator('.item-snooze-button').click();
      const menu = reminderItem.locator('[role="menu"]');
      await menu.waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.deepEqual(await menu.locator('[role="menuitem"]').allTextContents(), [
        'Demain 08:00',
        'Dans 2 heures',
        'Prochain jour ouvré',
      ]);
      assert.equal(await page.evaluate('document.activeElement.dataset.preset'), 'tomorrow');
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.evaluate('document.activeElement.dataset.preset'), 'in-2-hours');
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden', timeout: WAIT_MS });
      assert.equal(await page.locator('#bell-panel').isVisible(), true);
      assert.equal(await reminderItem.locator('.item-snooze-button').getAttribute('aria-expanded'), 'false');

      await reminderItem.locator('.item-snooze-button').click();
      await menu.locator('[data-preset="in-2-hours"]').click();
      await reminderItem
        .locator('.item-snooze-status[data-state="done"]', { hasText: 'Reporté dans 2 heures' })
        .waitFor({ timeout: WAIT_MS });
      assert.equal(calls.length, 2, 'the busy answer was tried again');
      const eventId = calls[0]!.body.eventId;
      assert.match(eventId ?? '', /^bell-snooze-/);
      // The user's token (a JWT), on both tries alike.
      assert.match(calls[0]!.authorization ?? '', /^Bearer ey/);
      for (const call of calls)
        assert.deepEqual(call, {
          method: 'POST',
          path: `/api/v1/users/me/notifications/${reminder}/snooze`,
          authorization: calls[0]!.authorization,
          body: { preset: 'in-2-hours', eventId },
        });
      // Read here, in the count, and on the server.
      await page.locator(`#bell-list li[data-id="${reminder}"]:not(.unread)`).waitFor({ timeout: WAIT_MS });
      await waitForCount(page, 3);
      await waitFor('the snoozed reminder read on the server', async () => {
        const [row] = await harness.db.query<{ read: boolean }>(
          `select read_at is not null as read from notifications where id = $1`,
          [reminder],
        );
        return row?.read;
      });

      // Refused for good: said on the item, not tried again, still unread.
      await item(page, refused!).locator('.item-snooze-button').click();
      await item(page, refused!).locator('[data-preset="next-business-day"]').click();
      await item(page, refused!)
        .locator('.item-snooze-status[data-state="error"]', {
          hasText: `Report impossible : No notification ${refused} of yours`,
        })
        .waitFor({ timeout: WAIT_MS });
      assert.deepEqual(
        calls.slice(2).map(({ path, body }) => ({ path, preset: body.preset })),
        [{ path: `/api/v1/users/me/notifications/${refused}/snooze`, preset: 'next-business-day' }],
      );
      assert.equal(await page.locator(`#bell-list li.unread[data-id="${refused}"]`).count(), 1);
    } finally {
      await context.close();
    }
  });
});

describe('serving the page', () => {
  it('serves index.html and hashed assets with their content type and caching, nothing else', async () => {
    const index = await fetch(`${harness.url}/`);
    const html = await index.text();
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const assets = [...html.matchAll(/"(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    assert.equal(assets.length, 2);
    for (const asset of assets) {
      const response = await fetch(`${harness.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(response.status, 200);
      assert.equal(
        response.headers.get('content-type'),
        asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      );
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(response.headers.get('content-encoding'), 'gzip');
      assert.ok((await response.text()).length > 1000);
    }
    const revalidated = await fetch(`${harness.url}/`, {
      headers: { 'if-none-match': index.headers.get('etag')! },
    });
    assert.equal(revalidated.status, 304);
    for (const path of ['/assets/nope.js', '/assets/../package.json', '/assets/%2e%2e/package.json']) {
      const missing = await httpRequest(`${harness.url}${path}`);
      assert.equal(missing.status, 404, path);
      assert.equal(missing.json.error.code, 'not_found');
    }
  });
});

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = new URL('../../docs/', import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  // Let the pulse animation and fonts settle on a stable frame.
  await page.evaluate('document.fonts.ready');
  await page.screenshot({ path: join(dir, name), animations: 'disabled' });
}
