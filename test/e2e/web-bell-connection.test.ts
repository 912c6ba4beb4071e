import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  harness,
  item,
  listedIds,
  newContext,
  notifyMany,
  recordOf,
  setUpBellPage,
  waitForCount,
  waitForState,
  WAIT_MS,
  webDir,
  type PageRecord,
} from '../support/bell-page.js';
import { freePort, startServerHarness, type ServerHarness } from '../support/notify-server.js';

/**
 * The bell page's connection end to end, in Debian's Chromium against real servers on real
 * PostgreSQL (test/support/bell-page.ts): reconnecting while the server is down, then catching up
 * with no duplicate; a token renewed when the server warns of its expiry, the session shown as
 * expired after a 4401 and back with a fresher token; a renewal through the `#renew=` address.
 */

setUpBellPage();

describe('the bell page', () => {
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
});
