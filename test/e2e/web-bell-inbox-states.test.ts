import assert from 'node:assert/strict';
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
  setUpBellPage,
  waitForCount,
  waitForState,
  WAIT_MS,
} from '../support/bell-page.js';
import { waitFor } from '../support/wait.js';

/**
 * The bell page's inbox states and snooze end to end, in Debian's Chromium against a real server
 * on real PostgreSQL (test/support/bell-page.ts): archive and unarchive from the list and the
 * Archives view in two tabs; the new marker on what came since the user last looked and the seen
 * mark in every tab; snoozing a reminder from its Reporter menu (the call, its retry with one event
 * id, the item read and confirmed, a refusal shown, the marker of a snoozed reminder come back).
 */

setUpBellPage();

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
