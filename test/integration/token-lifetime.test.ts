import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { openNodeTab, type NodeTab } from '../support/node-tabs.js';
import { startServerHarness, TEST_SECRET, type ServerHarness } from '../support/notify-server.js';

/**
 * Token lifetime, a generative test: tabs of the client library under
 * Node against a real server, with tokens that expire, are renewed, are not renewed, or come
 * from an issuer whose clock is off. Whatever the case, the upgrades per tab stay bounded:
 * measured over WINDOW_MS with the client's default backoff (500 ms doubling to 30 s).
 */

const WINDOW_MS = 12_000;
/** The server's tolerance on exp (JWT_CLOCK_TOLERANCE_SECONDS), small so that expiries come within the window. */
const TOLERANCE_S = 2;
const secret = new TextEncoder().encode(TEST_SECRET);

let harness: ServerHarness;
const tabs: NodeTab[] = [];
before(async () => {
  harness = await startServerHarness({
    env: { JWT_CLOCK_TOLERANCE_SECONDS: String(TOLERANCE_S), WS_TOKEN_EXPIRY_WARNING_SECONDS: '1' },
  });
});
after(async () => {
  for (const tab of tabs) tab.close();
  await harness?.close();
});

/** A token for `user` expiring `lifetimeS` after the issuer's clock, which is `skewS` off the server's. */
function tokenOf(
  user: string,
  { lifetimeS, skewS = 0 }: { lifetimeS: number; skewS?: number },
): Promise<string> {
  const issuerNow = Math.floor(Date.now() / 1000) + skewS;
  return new SignJWT({ jti: randomBytes(6).toString('hex') })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setIssuedAt(issuerNow)
    .setExpirationTime(issuerNow + lifetimeS)
    .sign(secret);
}

interface TabCase {
  name: string;
  getToken: (user: string) => () => Promise<string>;
  /** Upgrades allowed over the window. */
  maxAttempts: number;
  /** The tab ends open (renewed) or reports session_expired (not renewed). */
  expect: 'open' | 'session_expired' | 'bounded';
}

const once = (make: () => Promise<string>): (() => Promise<string>) => {
  let token: Promise<string> | undefined;
  return () => (token ??= make());
};

const cases: TabCase[] = [
  {
    name: 'renewed: a fresh 4 s token at each getToken (refresh_token before expiry)',
    getToken: (user) => () => tokenOf(user, { lifetimeS: 4 }),
    maxAttempts: 1,
    expect: 'open',
  },
  {
    name: 'renewed, issuer clock 5 min ahead',
    getToken: (user) => () => tokenOf(user, { lifetimeS: 4, skewS: 300 }),
    maxAttempts: 1,
    expect: 'open',
  },
  {
    name: 'not renewed: one 3 s token for ever',
    getToken: (user) => once(() => tokenOf(user, { lifetimeS: 3 })),
    maxAttempts: 2,
    expect: 'session_expired',
  },
  {
    name: 'not renewed, expiring now (within the tolerance: accepted, then closed with 4401)',
    getToken: (user) => once(() => tokenOf(user, { lifetimeS: 0 })),
    maxAttempts: 2,
    expect: 'session_expired',
  },
  {
    name: 'not renewed, expired past the tolerance (refused at upgrade: the client sees no reason, it backs off)',
    getToken: (user) => once(() => tokenOf(user, { lifetimeS: -10 })),
    maxAttempts: 8,
    expect: 'bounded',
  },
  {
    name: 'renewed by an issuer 2 min behind: every fresh token is already expired (refused at upgrade)',
    getToken: (user) => () => tokenOf(user, { lifetimeS: 60, skewS: -120 }),
    maxAttempts: 8,
    expect: 'bounded',
  },
  {
    name: 'renewed by an issuer 61 s behind: each fresh token lives about one second within the tolerance',
    getToken: (user) => () => tokenOf(user, { lifetimeS: 60, skewS: -61 }),
    maxAttempts: 8,
    expect: 'bounded',
  },
];

describe('token lifetime: upgrades per tab stay bounded', { concurrency: true }, () => {
  for (const [index, tabCase] of cases.entries()) {
    it(tabCase.name, async () => {
      const user = `lifetime-${index}`;
      const tab = openNodeTab({ url: harness.url, getToken: tabCase.getToken(user) });
      tabs.push(tab);
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS)); // the measuring window
      tab.close();
      const perMinute = Math.round((tab.attempts * 60_000) / WINDOW_MS);
      const codes = tab.errors.map((error) => error.code);
      assert.ok(
        tab.attempts <= tabCase.maxAttempts,
        `${tab.attempts} upgrades in ${WINDOW_MS / 1000} s (${perMinute}/min), at most ${tabCase.maxAttempts}; errors: ${codes.slice(0, 5).join(', ')}`,
      );
      if (tabCase.expect === 'open') {
        assert.equal(tab.opened, 1);
        assert.ok(!codes.includes('unauthorized'), codes.join(', '));
      }
      if (tabCase.expect === 'session_expired') {
        assert.ok(codes.includes('session_expired'), `session_expired reported (got ${codes.join(', ')})`);
        assert.equal(codes.filter((code) => code === 'session_expired').length, 1, 'reported once');
      }
    });
  }
});
