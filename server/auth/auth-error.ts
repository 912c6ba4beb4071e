import { errors } from 'jose';

/**
 * Why a token was refused. Every failure of the verifier is an `AuthError` with one of these, which
 * the server turns into an HTTP status or a WebSocket close code; no jose error escapes, and no
 * message ever contains the token (messages are short enough for a WebSocket close reason, <= 123 bytes).
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

/** Maps whatever jwtVerify threw to an AuthError; jose's own messages and payloads are not kept. */
export function toAuthError(error: unknown): AuthError {
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
