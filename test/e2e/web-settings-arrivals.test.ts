import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WAIT_MS, listedIds, openPanel, waitForCount, waitForState } from '../support/bell-page.js';
import {
  allowPopups,
  archivedIds,
  newContext,
  openBell,
  popupsOf,
  store,
  uniqueUser,
  useSettingsStack,
  waitForArchiveCount,
  waitForPopups,
} from '../support/settings-page.js';

/**
 * What the preferences make of a live notification in the bell, in Chromium with a real server
 * (test/support/settings-page.ts): one stored archived (a kind kept out of the bell) goes to the
 * Archives view only, one stored with `data.popup: false` is listed without a popup.
 */

useSettingsStack();

describe('the bell page: notifications shaped by the preferences', () => {
  it('puts a notification stored archived in the Archives view only: not in the inbox, not in the badge, no popup', async () => {
    const user = uniqueUser('elise');
    const context = await newContext({ notifications: true });
    try {
      const { page, errors } = await openBell(context, user);
      await waitForCount(page, 0);
      await waitForArchiveCount(page, 0);
      await allowPopups(page);

      // Out of the bell (`archived`: what the activity stores for a kind the user keeps out of
      // it). Its data is left without `popup: false`: its being archived alone must keep it quiet.
      const archived = await store(user, 'Échéance dans 7 jours : Bilan Arnaud', {
        kind: 'j-7',
        archived: true,
      });
      // Then a normal one, within the popup's grouping window: had the archived one joined the
      // batch, the popup would be a group of two.
      const normal = await store(user, 'Échéance demain : TVA Roux', { kind: 'j-1' });
      await page
        .locator(`#bell-list li[data-id="${normal}"]`)
        .waitFor({ state: 'attached', timeout: WAIT_MS });
      await waitForPopups(page, 1);
      assert.deepEqual(await popupsOf(page), [
        {
          title: 'Échéance demain : TVA Roux',
          body: 'Échéance demain : TVA Roux (corps)',
          tag: `normx-notify-${normal}`,
        },
      ]);
      await waitForArchiveCount(page, 1);
      await waitForCount(page, 1);
      assert.equal(await page.locator('#bell-badge').textContent(), '1');
      assert.equal(await page.locator('#bell-button').getAttribute('data-unseen'), '1');
      assert.deepEqual(await listedIds(page), [normal]);
      assert.equal(await page.locator('#archive-count').textContent(), '(1)');
      assert.equal(
        await page.locator('#announcer').textContent(),
        'Nouvelle notification : Échéance demain : TVA Roux',
      );

      // The Archives view has it, unread.
      await openPanel(page);
      await page.locator('#view-archive').click();
      await page.locator(`#archive-list li[data-id="${archived}"]`).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(await archivedIds(page), [archived]);
      assert.equal(await page.locator(`#archive-list li[data-id="${archived}"].unread`).count(), 1);

      // With the Archives view loaded, another comes archived: listed there live, still no popup.
      const second = await store(user, 'Nouveau dossier : Paie Martin', {
        type: 'dossier_update',
        kind: 'created',
        archived: true,
      });
      const next = await store(user, 'Dossier en retard : Liasse Dupont', {
        type: 'new_alert',
        kind: 'overdue',
      });
      await page.locator(`#archive-list li[data-id="${second}"]`).waitFor({ timeout: WAIT_MS });
      await page.locator(`#bell-list li[data-id="${next}"]`).waitFor({ state: 'attached', timeout: WAIT_MS });
      await waitForPopups(page, 2);
      assert.deepEqual((await popupsOf(page))[1], {
        title: 'Dossier en retard : Liasse Dupont',
        body: 'Dossier en retard : Liasse Dupont (corps)',
        tag: `normx-notify-${next}`,
      });
      assert.deepEqual(await archivedIds(page), [second, archived]);
      assert.deepEqual(await listedIds(page), [next, normal]);
      await waitForArchiveCount(page, 2);
      await waitForCount(page, 2);

      // The counts the page kept live are the server's.
      await page.reload();
      await waitForState(page, 'open');
      await waitForCount(page, 2);
      await waitForArchiveCount(page, 2);
      assert.deepEqual(await listedIds(page), [next, normal]);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('lists a notification stored with data.popup false as unread in the inbox, without a popup, while the one next to it pops up', async () => {
    const user = uniqueUser('fabien');
    const context = await newContext({ notifications: true });
    try {
      const { page, errors } = await openBell(context, user);
      await waitForCount(page, 0);
      await allowPopups(page);

      // As the activity stores a reminder in the user's quiet hours, then one outside them.
      const silenced = await store(user, 'Échéance demain : Bilan Roux', {
        kind: 'j-1',
        data: { popup: false, silencedBy: 'quiet_hours' },
      });
      const normal = await store(user, 'Échéance demain : Paie Martin', { kind: 'j-1' });
      await waitForPopups(page, 1);
      assert.deepEqual(await popupsOf(page), [
        {
          title: 'Échéance demain : Paie Martin',
          body: 'Échéance demain : Paie Martin (corps)',
          tag: `normx-notify-${normal}`,
        },
      ]);
      await waitForCount(page, 2);
      assert.deepEqual(await listedIds(page), [normal, silenced]);
      assert.equal(await page.locator(`#bell-list li[data-id="${silenced}"].unread`).count(), 1);
      await waitForArchiveCount(page, 0);

      // Silenced by a preference, alone: still listed and counted, no popup (the next one shows).
      const quiet = await store(user, 'Dossier en retard : TVA Dupont', {
        type: 'new_alert',
        kind: 'overdue',
        data: { popup: false, silencedBy: 'preference' },
      });
      await waitForCount(page, 3);
      // Groupable as it is: had the silenced one joined the batch, this popup would name both.
      const after = await store(user, 'Dossier en retard : Liasse Arnaud', {
        type: 'new_alert',
        kind: 'overdue',
      });
      await waitForPopups(page, 2);
      assert.deepEqual(
        (await popupsOf(page)).map(({ tag }) => tag),
        [`normx-notify-${normal}`, `normx-notify-${after}`],
      );
      await waitForCount(page, 4);
      assert.deepEqual(await listedIds(page), [after, quiet, normal, silenced]);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
