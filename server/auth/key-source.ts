import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import {
  hs256Key,
  hs256SecretBytes,
  isLongEnoughHs256Secret,
  MIN_HS256_SECRET_BYTES,
} from '../../domain/hs256-secret.js';
import { AuthError } from './auth-error.js';
import { parseJwksUrl, remoteKeyResolver } from './jwks.js';

/**
 * Where a token's signing key comes from: an HS256 shared secret, or RS256 / ES256 keys published
 * at a JWKS URL, never both. The accepted algorithms are pinned by the key source, and the
 * protected header is checked before any key is looked up, so `alg: none` and HS/RS confusion
 * are refused with a precise reason.
 */
export interface KeySource {
  algorithms: string[];
  key: Uint8Array | JWTVerifyGetKey;
}

const HS_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

/**
 * The key source of the settings, of which exactly one is set (checked by the caller). Throws a
 * plain Error naming the setting when it is unusable (short secret, bad URL).
 */
export function keySourceOf({ hs256Secret, jwksUrl }: { hs256Secret?: string; jwksUrl?: string }): KeySource {
  if (hs256Secret !== undefined && hs256Secret !== '') {
    if (!isLongEnoughHs256Secret(hs256Secret)) {
      throw new Error(
        `Auth settings: hs256Secret must be at least ${MIN_HS256_SECRET_BYTES} bytes (got ${hs256SecretBytes(hs256Secret)})`,
      );
    }
    return { algorithms: HS_ALGORITHMS, key: hs256Key(hs256Secret) };
  }
  return { algorithms: JWKS_ALGORITHMS, key: remoteKeyResolver(parseJwksUrl(jwksUrl!)) };
}

/** Refuses, before any key lookup, a token whose protected header names an algorithm not pinned. */
export function checkAlgorithm(token: string, allowed: readonly string[]): void {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new AuthError('malformed', 'Token is not a well-formed JWT (unreadable header)');
  }
  if (typeof alg !== 'string' || alg === '') {
    throw new AuthError('malformed', 'Token header has no "alg"');
  }
  if (!allowed.includes(alg)) {
    throw new AuthError(
      'algorithm_not_allowed',
      `Token algorithm ${JSON.stringify(alg.slice(0, 20))} is not allowed (expected ${allowed.join(' or ')})`,
    );
  }
}

/**
 * jwtVerify, plus jose's documented handling of a key set where several keys match a token
 * without `kid` (e.g. during a key rotation): each candidate is tried in turn.
 */
export async function verifyWithKey(
  token: string,
  key: Uint8Array | JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    // Two calls because jwtVerify's overloads take either a key or a key resolver, not the union.
    const result =
      typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    return result.payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, options)).payload;
      } catch (candidateError) {
        if (candidateError instanceof errors.JWSSignatureVerificationFailed) continue;
        throw candidateError;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}
