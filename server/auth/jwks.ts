import { createRemoteJWKSet, errors } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { isAcceptableJwksUrl, JWKS_URL_RULE } from '../../domain/jwks-url.js';
import { AuthError } from './auth-error.js';

/** A JWKS fetch that takes longer than this fails the verification with 'jwks_unavailable'. */
export const JWKS_TIMEOUT_MS = 3_000;
/** After a successful fetch, a token with an unknown `kid` triggers a refetch only after this delay. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched when the cached set is older than this. */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;

/** The `jwksUrl` setting as a URL; a plain Error naming the setting when it is unusable. */
export function parseJwksUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Auth settings: jwksUrl is not a valid URL (got ${JSON.stringify(value)})`);
  }
  if (!isAcceptableJwksUrl(url)) {
    throw new Error(`Auth settings: jwksUrl ${JWKS_URL_RULE} (got ${JSON.stringify(value)})`);
  }
  return url;
}

/**
 * The remote key set (jose createRemoteJWKSet, with a fetch timeout, cooldown and cache age), with
 * every failure to obtain usable keys (network error, timeout, non-200, invalid JSON or key set)
 * turned into 'jwks_unavailable'. "No key matches" and "several keys match" are properties of the
 * token, and are left to the signature check (server/auth/key-source.ts) and `toAuthError`.
 */
export function remoteKeyResolver(url: URL): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
    cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
  });
  return async (protectedHeader, token) => {
    try {
      return await remote(protectedHeader, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      const timedOut = error instanceof errors.JWKSTimeout;
      throw new AuthError(
        'jwks_unavailable',
        timedOut ? 'The signing keys could not be fetched in time' : 'The signing keys could not be fetched',
        { cause: error },
      );
    }
  };
}
