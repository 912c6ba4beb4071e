import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import {
  AuthError,
  createTokenVerifier,
  type AuthFailureReason,
  type AuthSettings,
  type TokenVerifier,
} from '../../server/auth/token-verifier.js';

/**
 * What the token verifier's tests share (test/unit/token-verifier-settings.test.ts,
 * test/unit/token-verifier-hs256.test.ts, test/integration/token-verifier-jwks.test.ts): an HS256 verifier and its tokens,
 * and the checks every rejection passes (its reason, a message that fits a close reason and
 * holds no part of the token).
 */

export const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
export const SERVICE_SCOPE = 'notify:service';
export const now = () => Math.floor(Date.now() / 1000);
export const encoder = new TextEncoder();

export function hsVerifier(extra: Partial<AuthSettings> = {}): TokenVerifier {
  return createTokenVerifier({
    hs256Secret: SECRET,
    clockToleranceSeconds: 30,
    serviceScope: SERVICE_SCOPE,
    ...extra,
  });
}

/** An HS256 token; `exp` defaults to +5 min and `sub` to 'user-1' (pass undefined to omit a claim). */
export function hsToken(claims: JWTPayload = {}, secret = SECRET): Promise<string> {
  return new SignJWT(withDefaults(claims))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(encoder.encode(secret));
}

export function withDefaults(claims: JWTPayload): JWTPayload {
  const payload: JWTPayload = { sub: 'user-1', exp: now() + 300, ...claims };
  return Object.fromEntries(Object.entries(payload).filter(([, value]) => value !== undefined));
}

export async function assertRejected(
  verifier: TokenVerifier,
  token: string | undefined | null,
  reason: AuthFailureReason,
): Promise<AuthError> {
  let caught: unknown;
  try {
    await verifier.verify(token);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AuthError, `expected an AuthError (${reason}), got ${String(caught)}`);
  assert.equal(caught.name, 'AuthError');
  assert.equal(caught.reason, reason, `reason (message: ${caught.message})`);
  assert.ok(Buffer.byteLength(caught.message) <= 123, 'message fits a WebSocket close reason');
  if (typeof token === 'string' && token.trim() !== '') assertTokenNotIn(caught, token);
  return caught;
}

/** Neither the token nor any sizeable part of it appears in the error's message or stack. */
export function assertTokenNotIn(error: AuthError, token: string): void {
  const text = `${error.message}\n${error.stack ?? ''}`;
  assert.ok(!text.includes(token), `the ${error.reason} error message contains the token`);
  for (const part of token.split('.')) {
    if (part.length >= 16)
      assert.ok(!text.includes(part), `the ${error.reason} error message contains a token part`);
  }
}
