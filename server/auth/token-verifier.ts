import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import { isAcceptableJwksUrl, JWKS_URL_RULE } from '../../domain/jwks-url.js';
import {
  hs256Key,
  hs256SecretBytes,
  isLongEnoughHs256Secret,
  MIN_HS256_SECRET_BYTES,
} from '../../domain/hs256-secret.js';

/**
 * JWT verification for the WebSocket and REST server (docs/api.md, docs/security.md).
 *
 * A token is either signed with an HS256 shared secret or with RS256 / ES256 keys published at a
 * JWKS URL, never both: the accepted algorithms are pinned by the configured key source, and the
 * protected header is checked before any key is looked up, so `alg: none` and HS/RS confusion
 * are refused with a precise reason. Every failure is an `AuthError` with a `reason` the server can
 * turn into an HTTP status or a WebSocket close code; no jose error escapes, and no message ever
 * contains the token (messages are short enough for a WebSocket close reason, <= 123 bytes).
 */

export type AuthFailureReason =
  | 'missing_token'
  | 'malformed'
  | 'bad_signature'
  | 'algorithm_not_allowed'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_exp'
  | 'missing_sub'
  | 'bad_issuer'
  | 'bad_audience'
  | 'jwks_unavailable';

export class AuthError extends Error {
  /**
   * `options.cause` is only set for `jwks_unavailable` (the network / HTTP failure) and for
   * unexpected verification failures, for the server log; it never holds the token or its claims.
   */
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AuthError';
  }
}

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

export interface Principal {
  /** `sub` claim: the user id (or the service's subject). */
  subject: string;
  /** true when the token's `scope` claim (space-separated string, or array) contains settings.serviceScope. */
  isService: boolean;
  /** exp claim, epoch seconds. */
  expiresAt: number;
}

export interface TokenVerifier {
  /** Resolves with the token's principal, or rejects with an AuthError. */
  verify(token: string | undefined | null): Promise<Principal>;
}

/** A JWKS fetch that takes longer than this fails the verification with 'jwks_unavailable'. */
export const JWKS_TIMEOUT_MS = 3_000;
/** After a successful fetch, a token with an unknown `kid` triggers a refetch only after this delay. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched when the cached set is older than this. */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** Longer "tokens" are refused as malformed before any decoding. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

const HS_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

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

  let algorithms: string[];
  let key: Uint8Array | JWTVerifyGetKey;
  if (hasSecret) {
    if (!isLongEnoughHs256Secret(hs256Secret)) {
      throw new Error(
        `Auth settings: hs256Secret must be at least ${MIN_HS256_SECRET_BYTES} bytes (got ${hs256SecretBytes(hs256Secret)})`,
      );
    }
    algorithms = HS_ALGORITHMS;
    key = hs256Key(hs256Secret);
  } else {
    algorithms = JWKS_ALGORITHMS;
    key = remoteKeyResolver(parseJwksUrl(jwksUrl!));
  }

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

function parseJwksUrl(value: string): URL {
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
 * The remote key set, with every failure to obtain usable keys (network error, timeout, non-200,
 * invalid JSON or key set) turned into 'jwks_unavailable'. "No key matches" and "several keys
 * match" are properties of the token, and are left to `verifyWithKey` / `toAuthError`.
 */
function remoteKeyResolver(url: URL): JWTVerifyGetKey {
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

/**
 * jwtVerify, plus jose's documented handling of a key set where several keys match a token
 * without `kid` (e.g. during a key rotation): each candidate is tried in turn.
 */
async function verifyWithKey(
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

/** Refuses, before any key lookup, a token whose protected header names an algorithm not pinned. */
function checkAlgorithm(token: string, allowed: readonly string[]): void {
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

function principalOf(payload: JWTPayload, serviceScope: string): Principal {
  const { sub, exp, scope } = payload;
  if (typeof sub !== 'string' || sub.trim() === '') {
    throw new AuthError('missing_sub', 'Token "sub" claim must be a non-empty string');
  }
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new AuthError('missing_exp', 'Token "exp" claim must be a finite number');
  }
  return { subject: sub, isService: scopesOf(scope).includes(serviceScope), expiresAt: exp };
}

function scopesOf(scope: unknown): string[] {
  if (typeof scope === 'string') return scope.split(/\s+/).filter(Boolean);
  if (Array.isArray(scope)) return scope.filter((value): value is string => typeof value === 'string');
  return [];
}

/** Maps whatever jwtVerify threw to an AuthError; jose's own messages and payloads are not kept. */
function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError('expired', 'Token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return claimError(error.claim, error.reason);
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError('bad_signature', 'Token signature is invalid');
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthError('bad_signature', 'Token was not signed by any of the published keys');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError('algorithm_not_allowed', 'Token algorithm is not allowed');
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return new AuthError('malformed', 'Token is not a well-formed JWT');
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthError('jwks_unavailable', 'The signing keys could not be fetched', { cause: error });
  }
  // E.g. a published key that jose refuses to use (RSA modulus under 2048 bits): the token cannot
  // be trusted, and the cause is kept for the server log.
  return new AuthError('bad_signature', 'Token could not be verified', { cause: error });
}

function claimError(claim: string, reason: string): AuthError {
  switch (claim) {
    case 'exp':
      return new AuthError('missing_exp', 'Token "exp" claim is missing or not a number');
    case 'sub':
      return new AuthError('missing_sub', 'Token "sub" claim is missing');
    case 'iss':
      return new AuthError('bad_issuer', 'Token issuer is missing or not accepted');
    case 'aud':
      return new AuthError('bad_audience', 'Token audience is missing or not accepted');
    case 'nbf':
      return reason === 'check_failed'
        ? new AuthError('not_yet_valid', 'Token is not valid yet')
        : new AuthError('malformed', 'Token "nbf" claim is not a number');
    default:
      return new AuthError('malformed', `Token "${claim.slice(0, 20)}" claim is invalid`);
  }
}
