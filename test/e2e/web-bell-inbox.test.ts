import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  harness,
  item,
  listedIds,
  newContext,
  notifyMany,
  openBell,
  openPanel,
  recordOf,
  setUpBellPage,
  waitForCount,
  waitForState,
  WAIT_MS,
} from '../support/bell-page.js';
import { httpRequest } from '../support/notify-server.js';

/**
 * The bell page's inbox end to end, in Debian's Chromium against a real server on real PostgreSQL
 * (test/support/bell-page.ts): the count and the list, newest first, in French, the keyboard; a
 * committed notification shown within 1 s; marks read; two tabs of one user; the page and its
 * assets as served. `BELL_SCREENSHOTS=1` also writes docs/bell-closed.png and docs/bell-open.png.
 */

const SCREENSHOTS = process.env.BELL_SCREENSHOTS === '1';

setUpBellPage();

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
