import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { storeNotification, type NotificationDraft } from '../../activities/notification-store.js';
import { buildWeb } from '../../scripts/build-web.js';
import { openPanel, WAIT_MS, waitForState } from './bell-page.js';
import { httpRequest, startServerHarness, type ServerHarness } from './notify-server.js';
import { startReminderEngine, type ReminderEngine } from './reminder-engine.js';
import { createTimeSkippingEnv } from './temporal.js';

/**
 * The bell's settings page tests' stack and helpers (test/e2e/web-settings*.test.ts): the page
 * built by esbuild, served by a real server on real PostgreSQL, driven in Debian's Chromium; the
 * reminder hour goes to the user's profile workflow on Temporal's test server, run by a real
 * worker. The page's helpers are test/support/bell-page.ts's; its setup is not (`setUpBellPage`
 * starts a server without Temporal, test/support/engine-and-server.ts one without the page).
 */

export let browser: Browser;
let env: TestWorkflowEnvironment;
export let engine: ReminderEngine;
export let harness: ServerHarness;
let webDir: string;

/** Starts the stack before the file's tests, stops it after. */
export function useSettingsStack(): void {
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
}

/** The kinds the service sends with the default REMINDER_OFFSETS_DAYS (7,1,0), in the panel's order. */
export const SERVICE_KINDS = [
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

export interface Preferences {
  kinds: Array<{ kind: string; bell: boolean; popup: boolean; mutable: boolean }>;
  quietHours: { from: string; to: string } | null;
  reminderTime: string | null;
  defaultReminderTime: string;
}

/** The preferences the server would answer, every kind in the bell with a popup but those given. */
export const preferencesWith = (
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

export async function preferencesOf(user: string): Promise<Preferences> {
  const reply = await httpRequest<Preferences>(`${harness.url}/api/v1/users/me/preferences`, {
    token: await harness.token(user),
  });
  assert.equal(reply.status, 200, reply.text);
  return reply.json;
}

/** Records the browser popups the page creates (the `Notification` API), as bell-page.ts does. */
export const RECORD_POPUPS = `(() => {
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

export interface Popup {
  title: string;
  body: string;
  tag: string;
}

export const popupsOf = async (page: Page): Promise<Popup[]> =>
  ((await page.evaluate('window.__pageRecord')) as { constructed: Popup[] }).constructed;

/** A function, not a string: Playwright polls a string with eval, which the page's CSP forbids. */
export const waitForPopups = (page: Page, count: number) =>
  page.waitForFunction(
    (expected) =>
      (globalThis as unknown as { __pageRecord: { constructed: Popup[] } }).__pageRecord.constructed
        .length === expected,
    count,
    { timeout: WAIT_MS },
  );

export async function newContext(options: { notifications?: boolean } = {}): Promise<BrowserContext> {
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
export const uniqueUser = (name: string): string => `${name}-${randomBytes(3).toString('hex')}`;

/** Opens the page as `user` and waits for its socket; `errors` collects the page's uncaught errors. */
export async function openBell(
  context: BrowserContext,
  user: string,
): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${harness.url}/#token=${await harness.token(user)}`);
  await waitForState(page, 'open');
  return { page, errors };
}

export const waitForArchiveCount = (page: Page, count: number): Promise<void> =>
  page.locator(`#archive-count[data-count="${count}"]`).waitFor({ state: 'attached', timeout: WAIT_MS });

export const archivedIds = (page: Page): Promise<string[]> =>
  page
    .locator('#archive-list li')
    .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-id') ?? ''));

/** Opens the bell, then its settings, and waits until they are read from the server. */
export async function openSettings(page: Page): Promise<void> {
  await openPanel(page);
  await page.locator('#settings-button').click();
  await page.locator('#settings').waitFor({ state: 'visible', timeout: WAIT_MS });
  await page.locator('#settings-kinds tr[data-kind]').first().waitFor({ timeout: WAIT_MS });
  await page.locator('#settings-status:text-is("")').waitFor({ state: 'attached', timeout: WAIT_MS });
  assert.equal(await page.locator('#settings-button').getAttribute('aria-expanded'), 'true');
}

export const checkbox = (page: Page, kind: string, field: 'bell' | 'popup') =>
  page.locator(`#settings-kinds tr[data-kind="${kind}"] input[name=${field}]`);

/** The form as shown: each kind's checkboxes (and whether they can be changed), the hours. */
export async function formOf(page: Page) {
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
export async function allowPopups(page: Page): Promise<void> {
  await openPanel(page);
  await page.locator('#browser-notifications').click();
  await page.locator('#browser-notifications[aria-pressed="true"]').waitFor({ timeout: WAIT_MS });
  await page.keyboard.press('Escape');
  await page.locator('#bell-panel').waitFor({ state: 'hidden', timeout: WAIT_MS });
}

/** Stores a notification the way the delivery activity does (idempotent insert + NOTIFY), `archived` included. */
export async function store(
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
