import type { JWTPayload, JWTVerifyOptions } from 'jose';
import { AuthError, toAuthError } from './auth-error.js';
import { checkAlgorithm, keySourceOf, verifyWithKey } from './key-source.js';
import { principalOf, type Principal } from './principal.js';

/**
 * JWT verification for the WebSocket and REST server (docs/api.md, docs/security.md), by job:
 * the key source and the signature (key-source.ts, jwks.ts for keys published at a URL), the
 * refusals (auth-error.ts), the principal (principal.ts); here, the settings and the order of the
 * checks.
 *
 * A token is either signed with an HS256 shared secret or with RS256 / ES256 keys published at a
 * JWKS URL, never both: the accepted algorithms are pinned by the configured key source, and the
 * protected header is checked before any key is looked up, so `alg: none` and HS/RS confusion
 * are refused with a precise reason. Every failure is an `AuthError` with a `reason` the server can
 * turn into an HTTP status or a WebSocket close code; no jose error escapes, and no message ever
 * contains the token (messages are short enough for a WebSocket close reason, <= 123 bytes).
 */

export { AuthError, type AuthFailureReason } from './auth-error.js';
export { JWKS_CACHE_MAX_AGE_MS, JWKS_COOLDOWN_MS, JWKS_TIMEOUT_MS } from './jwks.js';
export type { Principal } from './principal.js';

export interface AuthSettings {
  /** HS256 shared secret (>= 32 bytes). Exactly one of hs256Secret / jwksUrl must be set. */
  hs256Secret?: string;
  /** JWKS URL for RS256 / ES256 keys (jose createRemoteJWKSet, with a fetch timeout and cooldown). */
  jwksUrl?: string;
  /** Checked when set. */
  issuer?: string;
  /** Checked when set. */
  audience?: string;
  /** Small clock skew allowed on `exp` and `nbf`, e.g. 30. */
  clockToleranceSeconds: number;
  /** Scope value that marks the NormX backend's service token, e.g. 'notify:service'. */
  serviceScope: string;
}

export interface TokenVerifier {
  /** Resolves with the token's principal, or rejects with an AuthError. */
  verify(token: string | undefined | null): Promise<Principal>;
}

/** Longer "tokens" are refused as malformed before any decoding. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Builds the verifier for the configured key source. Throws a plain Error naming the setting when
 * the settings are unusable (neither or both key sources, short secret, bad URL, bad tolerance).
 */
export function createTokenVerifier(settings: AuthSettings): TokenVerifier {
  const { hs256Secret, jwksUrl, issuer, audience, clockToleranceSeconds, serviceScope } = settings;
  const hasSecret = hs256Secret !== undefined && hs256Secret !== '';
  const hasJwks = jwksUrl !== undefined && jwksUrl !== '';
  if (hasSecret === hasJwks) {
    throw new Error(
      `Auth settings: exactly one of hs256Secret or jwksUrl must be set (got ${hasSecret ? 'both' : 'neither'})`,
    );
  }
  if (!Number.isFinite(clockToleranceSeconds) || clockToleranceSeconds < 0) {
    throw new Error(
      `Auth settings: clockToleranceSeconds must be a non-negative number of seconds (got ${clockToleranceSeconds})`,
    );
  }
  if (typeof serviceScope !== 'string' || !/^\S+$/.test(serviceScope)) {
    throw new Error('Auth settings: serviceScope must be a single non-empty scope value without spaces');
  }
  if (issuer === '') throw new Error('Auth settings: issuer must not be empty when set');
  if (audience === '') throw new Error('Auth settings: audience must not be empty when set');

  const { algorithms, key } = keySourceOf({ hs256Secret, jwksUrl });
  const options: JWTVerifyOptions = {
    algorithms,
    clockTolerance: clockToleranceSeconds,
    requiredClaims: ['exp', 'sub'],
    ...(issuer !== undefined && { issuer }),
    ...(audience !== undefined && { audience }),
  };

  return {
    async verify(token) {
      if (token === undefined || token === null || (typeof token === 'string' && token.trim() === '')) {
        throw new AuthError('missing_token', 'No token was provided');
      }
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
        throw new AuthError('malformed', 'Token is not a well-formed JWT');
      }
      checkAlgorithm(token, algorithms);
      let payload: JWTPayload;
      try {
        payload = await verifyWithKey(token, key, options);
      } catch (error) {
        throw toAuthError(error);
      }
      return principalOf(payload, serviceScope);
    },
  };
}
