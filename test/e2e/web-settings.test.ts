import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WAIT_MS, waitForState } from '../support/bell-page.js';
import { httpRequest } from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import { userProfileWorkflowId } from '../../workflows/user-profile-messages.js';
import {
  checkbox,
  engine,
  formOf,
  harness,
  newContext,
  openBell,
  openSettings,
  preferencesOf,
  preferencesWith,
  uniqueUser,
  useSettingsStack,
} from '../support/settings-page.js';

/**
 * The bell's settings ("Réglages", issue 14) end to end in Chromium, with a real server, worker and
 * Temporal's test server (test/support/settings-page.ts): the server's kinds listed, overdue_critical
 * locked on; a save kept after a reload, the hour reaching the profile workflow; a refused save.
 * What the preferences make of a live notification: web-settings-arrivals.test.ts.
 */

useSettingsStack();

describe('the bell page: settings (Réglages)', () => {
  it('lists the server’s kinds, overdue_critical locked on; saves kinds, quiet hours and the reminder hour; a reload shows them', async () => {
    const user = uniqueUser('camille');
    const context = await newContext();
    try {
      const { page, errors } = await openBell(context, user);
      await openSettings(page);

      // As the server lists them: the service's j-N, then the named kinds; all on, nothing set.
      const server = await preferencesOf(user);
      assert.deepEqual(server, preferencesWith({}, { quietHours: null, reminderTime: null }));
      assert.deepEqual(await formOf(page), {
        kinds: server.kinds,
        reminderTime: '08:00',
        quietOn: false,
        quietFrom: '20:00',
        quietTo: '08:00',
        quietEditable: false,
      });
      assert.deepEqual(
        await page.locator('#settings-kinds tr[data-kind] th').allTextContents(),
        ['J-7', 'J-1', 'Jour J', 'En retard', 'Retard critique', 'Urgent', 'Récapitulatif de 18 h'].concat(
          ['Dossier créé', 'Dossier modifié', 'Échéance déplacée', 'Dossier attribué'],
          ['Dossier terminé', 'Dossier rouvert'],
        ),
      );
      // A critically late dossier always reaches its owner: both boxes checked, neither clickable.
      for (const field of ['bell', 'popup'] as const) {
        assert.equal(await checkbox(page, 'overdue_critical', field).isChecked(), true, field);
        assert.equal(await checkbox(page, 'overdue_critical', field).isDisabled(), true, field);
      }

      // J-7 without popup; "Dossier créé" out of the bell (which takes its popup away too).
      await checkbox(page, 'j-7', 'popup').uncheck();
      await checkbox(page, 'created', 'bell').uncheck();
      assert.equal(await checkbox(page, 'created', 'popup').isChecked(), false);
      await page.locator('#settings-quiet-on').check();
      assert.equal(await page.locator('#settings-quiet-from').isEnabled(), true);
      await page.locator('#settings-quiet-from').fill('21:00');
      await page.locator('#settings-quiet-to').fill('07:30');
      await page.locator('#settings-reminder-time').fill('07:30');

      // Saved with a double-click, as many users do: one PUT, one change of the hour (each one
      // re-plans every open dossier, and the server allows 3 in 10 minutes).
      const puts: unknown[] = [];
      page.on('request', (r) => {
        if (r.method() === 'PUT' && new URL(r.url()).pathname === '/api/v1/users/me/preferences')
          puts.push(r.postDataJSON());
      });
      await page.locator('#settings-save').dblclick();
      await page.locator('#settings-status:text-is("Réglages enregistrés")').waitFor({ timeout: WAIT_MS });
      // The hour is the profile's: the profile workflow saves it a moment after the reply.
      const saved = preferencesWith(
        { 'j-7': { bell: true, popup: false }, created: { bell: false, popup: false } },
        { quietHours: { from: '21:00', to: '07:30' }, reminderTime: '07:30' },
      );
      const stored = await waitFor(
        'the profile workflow saved the reminder hour',
        async () => {
          const preferences = await preferencesOf(user);
          return preferences.reminderTime === '07:30' && preferences;
        },
        { timeoutMs: 15_000 },
      );
      assert.deepEqual(stored, saved);
      const [profile] = await harness.db.query<{ reminder_time: string | null }>(
        'select reminder_time from users where id = $1',
        [user],
      );
      assert.equal(profile?.reminder_time, '07:30');
      // The kinds that differ from the default, the quiet hours, the new hour: sent once, and the
      // profile workflow (done once it has nothing left to apply) was signalled once.
      const workflow = engine.client.workflow.getHandle(userProfileWorkflowId(user));
      assert.deepEqual(await workflow.result(), { applied: 1 });
      assert.deepEqual(puts, [
        {
          kinds: { 'j-7': { bell: true, popup: false }, created: { bell: false, popup: false } },
          quietHours: { from: '21:00', to: '07:30' },
          reminderTime: '07:30',
        },
      ]);

      // Read again from the server after a reload.
      await page.reload();
      await waitForState(page, 'open');
      await openSettings(page);
      assert.deepEqual(await formOf(page), {
        kinds: saved.kinds,
        reminderTime: '07:30',
        quietOn: true,
        quietFrom: '21:00',
        quietTo: '07:30',
        quietEditable: true,
      });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('shows the server’s refusal of a save (quiet hours from == to) and changes nothing; a corrected save goes through', async () => {
    const user = uniqueUser('denis');
    // Set before: J-1 without popup, quiet hours 22:00–06:00 (the user's own token, as the page).
    const before = await httpRequest(`${harness.url}/api/v1/users/me/preferences`, {
      method: 'PUT',
      token: await harness.token(user),
      body: { kinds: { 'j-1': { bell: true, popup: false } }, quietHours: { from: '22:00', to: '06:00' } },
    });
    assert.equal(before.status, 200, before.text);
    const prior = preferencesWith(
      { 'j-1': { bell: true, popup: false } },
      { quietHours: { from: '22:00', to: '06:00' }, reminderTime: null },
    );
    assert.deepEqual(await preferencesOf(user), prior);

    const context = await newContext();
    try {
      const { page, errors } = await openBell(context, user);
      await openSettings(page);
      assert.deepEqual(await formOf(page), {
        kinds: prior.kinds,
        reminderTime: '08:00',
        quietOn: true,
        quietFrom: '22:00',
        quietTo: '06:00',
        quietEditable: true,
      });

      // Urgent out of the bell, a new hour, and an empty span of quiet hours: refused as a whole.
      await checkbox(page, 'urgent', 'bell').uncheck();
      await page.locator('#settings-reminder-time').fill('06:45');
      await page.locator('#settings-quiet-to').fill('22:00');
      const [response] = await Promise.all([
        page.waitForResponse(
          (r) =>
            r.request().method() === 'PUT' && new URL(r.url()).pathname === '/api/v1/users/me/preferences',
          { timeout: WAIT_MS },
        ),
        page.locator('#settings-save').click(),
      ]);
      assert.equal(response.status(), 400);
      const { error } = (await response.json()) as {
        error: { code: string; message: string; issues: Array<{ field: string; message: string }> };
      };
      assert.equal(error.code, 'validation_failed');
      assert.deepEqual(
        error.issues.map(({ field }) => field),
        ['quietHours.to'],
      );
      assert.match(error.message, /quietHours\.to\b.*must differ from quietHours\.from/);
      // The server's own words, in the status line.
      const status = `Non enregistré : ${error.message}`;
      await page.locator('#settings-status').filter({ hasText: status }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#settings-status').textContent(), status);

      // Nothing changed: the preferences, the profile's hour, and no profile workflow was signalled.
      assert.deepEqual(await preferencesOf(user), prior);
      const [row] = await harness.db.query<{ reminder_time: string | null }>(
        'select reminder_time from users where id = $1',
        [user],
      );
      assert.equal(row?.reminder_time ?? null, null);
      await assert.rejects(
        engine.client.workflow.getHandle(userProfileWorkflowId(user)).describe(),
        WorkflowNotFoundError,
      );
      // The form keeps what the user entered, to correct it.
      const entered = await formOf(page);
      assert.deepEqual(
        [entered.reminderTime, entered.quietFrom, entered.quietTo, entered.quietOn],
        ['06:45', '22:00', '22:00', true],
      );
      assert.equal(await checkbox(page, 'urgent', 'bell').isChecked(), false);

      // Corrected, it is saved.
      await page.locator('#settings-quiet-to').fill('06:30');
      await page.locator('#settings-save').click();
      await page.locator('#settings-status:text-is("Réglages enregistrés")').waitFor({ timeout: WAIT_MS });
      const corrected = preferencesWith(
        { 'j-1': { bell: true, popup: false }, urgent: { bell: false, popup: false } },
        { quietHours: { from: '22:00', to: '06:30' }, reminderTime: '06:45' },
      );
      assert.deepEqual(
        await waitFor(
          'the profile workflow saved the reminder hour',
          async () => {
            const preferences = await preferencesOf(user);
            return preferences.reminderTime === '06:45' && preferences;
          },
          { timeoutMs: 15_000 },
        ),
        corrected,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
