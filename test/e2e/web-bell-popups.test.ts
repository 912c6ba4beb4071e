import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  harness,
  item,
  listedIds,
  newContext,
  openBell,
  openPanel,
  recordOf,
  setUpBellPage,
  waitForCount,
  waitForState,
  WAIT_MS,
  type PageRecord,
} from '../support/bell-page.js';

/**
 * The bell page's browser notifications end to end, in Debian's Chromium against a real server on
 * real PostgreSQL (test/support/bell-page.ts): a Notification created once allowed by a click,
 * never asked for on load, the choice kept across a reload; reminders stored together making one
 * popup in one tab of two, and the next tab showing them once the first is closed.
 */

setUpBellPage();

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

describe('the bell page', () => {
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
});
