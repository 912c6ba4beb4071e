import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { storeNotification, type NotificationDraft } from '../../activities/notification-store.js';
import { buildWeb } from '../../scripts/build-web.js';
import { userProfileWorkflowId } from '../../workflows/user-profile-messages.js';
import { listedIds, openPanel, WAIT_MS, waitForCount, waitForState } from '../support/bell-page.js';
import { httpRequest, startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createTimeSkippingEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * The bell's settings ("Réglages", issue 14) end to end: the page built by esbuild, served by a
 * real server on real PostgreSQL, driven in Debian's Chromium; the reminder hour goes to the
 * user's profile workflow on Temporal's test server, run by a real worker (it saves the hour on
 * the profile). Then what the preferences make of a live notification in the page: one stored
 * archived (a kind kept out of the bell) and one stored with `data.popup: false`.
 *
 * The page's helpers are test/support/bell-page.ts's; its setup is not (`setUpBellPage` starts a
 * server without Temporal, test/support/engine-and-server.ts one without the page): both here.
 */

let browser: Browser;
let env: TestWorkflowEnvironment;
let engine: ReminderEngine;
let harness: ServerHarness;
let webDir: string;

before(async () => {
  webDir = await mkdtemp(join(tmpdir(), 'normx-settings-'));
  await buildWeb({ outDir: webDir });
  env = await createTimeSkippingEnv();
  engine = await startReminderEngine(env);
  harness = await startServerHarness({
    webDir,
    db: engine.db,
    temporal: { client: engine.client, taskQueue: engine.taskQueue },
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await harness?.close(); // before the engine: it shares the engine's database
  await engine?.close();
  await env?.teardown();
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

/** The kinds the service sends with the default REMINDER_OFFSETS_DAYS (7,1,0), in the panel's order. */
const SERVICE_KINDS = [
  'j-7',
  'j-1',
  'j-0',
  'overdue',
  'overdue_critical',
  'urgent',
  'report',
  'created',
  'updated',
  'rescheduled',
  'assigned',
  'completed',
  'reopened',
];

interface Preferences {
  kinds: Array<{ kind: string; bell: boolean; popup: boolean; mutable: boolean }>;
  quietHours: { from: string; to: string } | null;
  reminderTime: string | null;
  defaultReminderTime: string;
}

/** The preferences the server would answer, every kind in the bell with a popup but those given. */
const preferencesWith = (
  changed: Record<string, { bell: boolean; popup: boolean }>,
  rest: Omit<Preferences, 'kinds' | 'defaultReminderTime'>,
): Preferences => ({
  kinds: SERVICE_KINDS.map((kind) => ({
    kind,
    ...(changed[kind] ?? { bell: true, popup: true }),
    mutable: kind !== 'overdue_critical',
  })),
  ...rest,
  defaultReminderTime: '08:00',
});

async function preferencesOf(user: string): Promise<Preferences> {
  const reply = await httpRequest<Preferences>(`${harness.url}/api/v1/users/me/preferences`, {
    token: await harness.token(user),
  });
  assert.equal(reply.status, 200, reply.text);
  return reply.json;
}

/** Records the browser popups the page creates (the `Notification` API), as bell-page.ts does. */
const RECORD_POPUPS = `(() => {
  const record = { constructed: [] };
  window.__pageRecord = record;
  const NativeNotification = window.Notification;
  class RecordedNotification extends NativeNotification {
    constructor(title, options = {}) {
      super(title, options);
      record.constructed.push({ title, body: options.body ?? '', tag: options.tag ?? '' });
    }
  }
  RecordedNotification.requestPermission = (...args) => NativeNotification.requestPermission(...args);
  window.Notification = RecordedNotification;
})();`;

interface Popup {
  title: string;
  body: string;
  tag: string;
}

const popupsOf = async (page: Page): Promise<Popup[]> =>
  ((await page.evaluate('window.__pageRecord')) as { constructed: Popup[] }).constructed;

/** A function, not a string: Playwright polls a string with eval, which the page's CSP forbids. */
const waitForPopups = (page: Page, count: number) =>
  page.waitForFunction(
    (expected) =>
      (globalThis as unknown as { __pageRecord: { constructed: Popup[] } }).__pageRecord.constructed
        .length === expected,
    count,
    { timeout: WAIT_MS },
  );

async function newContext(options: { notifications?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    viewport: { width: 1100, height: 900 },
    permissions: options.notifications ? ['notifications'] : [],
  });
  await context.addInitScript(RECORD_POPUPS);
  return context;
}

/** A user of this file alone (the database is shared by the file's tests). */
const uniqueUser = (name: string): string => `${name}-${randomBytes(3).toString('hex')}`;

/** Opens the page as `user` and waits for its socket; `errors` collects the page's uncaught errors. */
async function openBell(context: BrowserContext, user: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${harness.url}/#token=${await harness.token(user)}`);
  await waitForState(page, 'open');
  return { page, errors };
}

const waitForArchiveCount = (page: Page, count: number): Promise<void> =>
  page.locator(`#archive-count[data-count="${count}"]`).waitFor({ state: 'attached', timeout: WAIT_MS });

const archivedIds = (page: Page): Promise<string[]> =>
  page
    .locator('#archive-list li')
    .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-id') ?? ''));

/** Opens the bell, then its settings, and waits until they are read from the server. */
async function openSettings(page: Page): Promise<void> {
  await openPanel(page);
  await page.locator('#settings-button').click();
  await page.locator('#settings').waitFor({ state: 'visible', timeout: WAIT_MS });
  await page.locator('#settings-kinds tr[data-kind]').first().waitFor({ timeout: WAIT_MS });
  await page.locator('#settings-status:text-is("")').waitFor({ state: 'attached', timeout: WAIT_MS });
  assert.equal(await page.locator('#settings-button').getAttribute('aria-expanded'), 'true');
}

const checkbox = (page: Page, kind: string, field: 'bell' | 'popup') =>
  page.locator(`#settings-kinds tr[data-kind="${kind}"] input[name=${field}]`);

/** The form as shown: each kind's checkboxes (and whether they can be changed), the hours. */
async function formOf(page: Page) {
  // No function declared inside (tsx would wrap it in a `__name` helper the page lacks), and no
  // DOM types in the test's TypeScript: the checkboxes as the page sees them.
  const kinds = await page.locator('#settings-kinds tr[data-kind]').evaluateAll((rows) =>
    rows.map((row) => {
      const [bell, popup] = ['bell', 'popup'].map(
        (name) =>
          row.querySelector(`input[name=${name}]`) as unknown as { checked: boolean; disabled: boolean },
      ) as [{ checked: boolean; disabled: boolean }, { checked: boolean; disabled: boolean }];
      return {
        kind: row.getAttribute('data-kind') ?? '',
        bell: bell.checked,
        popup: popup.checked,
        mutable: !bell.disabled && !popup.disabled,
      };
    }),
  );
  return {
    kinds,
    reminderTime: await page.locator('#settings-reminder-time').inputValue(),
    quietOn: await page.locator('#settings-quiet-on').isChecked(),
    quietFrom: await page.locator('#settings-quiet-from').inputValue(),
    quietTo: await page.locator('#settings-quiet-to').inputValue(),
    quietEditable: await page.locator('#settings-quiet-from').isEnabled(),
  };
}

/** Turns the page's browser popups on (the footer's button, the permission granted). */
async function allowPopups(page: Page): Promise<void> {
  await openPanel(page);
  await page.locator('#browser-notifications').click();
  await page.locator('#browser-notifications[aria-pressed="true"]').waitFor({ timeout: WAIT_MS });
  await page.keyboard.press('Escape');
  await page.locator('#bell-panel').waitFor({ state: 'hidden', timeout: WAIT_MS });
}

/** Stores a notification the way the delivery activity does (idempotent insert + NOTIFY), `archived` included. */
async function store(
  user: string,
  title: string,
  fields: Partial<Pick<NotificationDraft, 'type' | 'kind' | 'data' | 'archived'>> = {},
): Promise<string> {
  await harness.db.query('insert into users (id) values ($1) on conflict do nothing', [user]);
  const stored = await storeNotification(engine.db.orm.em.fork(), {
    idempotencyKey: randomBytes(8).toString('hex'),
    userId: user,
    type: 'deadline_reminder',
    kind: 'j-1',
    dossierId: null,
    title,
    body: `${title} (corps)`,
    data: {},
    scheduledFor: null,
    ...fields,
  });
  assert.ok(stored.id !== null, 'a fresh key is never retired');
  return stored.id;
}

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
