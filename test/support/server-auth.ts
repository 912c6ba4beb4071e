import { after, before } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import {
  httpRequest,
  openSocket,
  startServerHarness,
  TEST_SECRET,
  type ServerHarness,
  type TestSocket,
} from './notify-server.js';

/**
 * What the authentication tests of the real server (test/integration/server-auth-*.test.ts)
 * share: a server that warns 1 s before a token expires, with no clock tolerance; HS256 tokens
 * signed with its secret; a socket and a REST call with a given token.
 */
export const now = (): number => Math.floor(Date.now() / 1000);
const secret = new TextEncoder().encode(TEST_SECRET);

/** An HS256 token signed with the harness secret; claims override the defaults (sub alice, 1 h). */
export function hsToken(claims: JWTPayload = {}, key: Uint8Array = secret): Promise<string> {
  return new SignJWT({ sub: 'alice', exp: now() + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

/** Set by `setUpAuthServer`'s before hook. */
export let harness: ServerHarness;

/** Starts the file's server before its tests and stops it after. */
export function setUpAuthServer(): void {
  before(async () => {
    // No clock tolerance: the socket closes at the raw exp, which the timings below assume.
    harness = await startServerHarness({
      env: { WS_TOKEN_EXPIRY_WARNING_SECONDS: '1', JWT_CLOCK_TOLERANCE_SECONDS: '0' },
    });
  });
  after(async () => {
    await harness?.close();
  });
}

export const pathSocket = async (token: string, target: ServerHarness = harness): Promise<TestSocket> =>
  openSocket(`${target.wsUrl}/api/v1/ws/${token}`);
export const myNotifications = (token: string, target: ServerHarness = harness) =>
  httpRequest(`${target.url}/api/v1/users/me/notifications`, { token });
export const gotUnreadCount = (socket: TestSocket) =>
  socket.waitFor('the unread count', (messages) =>
    messages.some((message) => message.type === 'unread_count'),
  );

export interface ErrorBody {
  error: { code: string; message: string };
}
