import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors } from 'jose';
import { AuthError, toAuthError, type AuthFailureReason } from '../../server/auth/auth-error.js';

/** What jose throws, as the server names it: a reason, a message without the token, a cause only when ours. */

describe('jose errors as refusals', () => {
  const claim = (name: string, reason = 'check_failed') =>
    new errors.JWTClaimValidationFailed('x', {}, name, reason);
  const cases: Array<{ name: string; error: unknown; reason: AuthFailureReason; keepsCause?: true }> = [
    { name: 'expired', error: new errors.JWTExpired('x', {}), reason: 'expired' },
    { name: 'a bad signature', error: new errors.JWSSignatureVerificationFailed(), reason: 'bad_signature' },
    { name: 'no published key matches', error: new errors.JWKSNoMatchingKey(), reason: 'bad_signature' },
    {
      name: 'an algorithm not allowed',
      error: new errors.JOSEAlgNotAllowed('x'),
      reason: 'algorithm_not_allowed',
    },
    { name: 'an invalid JWS', error: new errors.JWSInvalid('x'), reason: 'malformed' },
    { name: 'an invalid JWT', error: new errors.JWTInvalid('x'), reason: 'malformed' },
    { name: 'something jose does not support', error: new errors.JOSENotSupported('x'), reason: 'malformed' },
    { name: 'a JWKS timeout', error: new errors.JWKSTimeout(), reason: 'jwks_unavailable', keepsCause: true },
    {
      name: 'an invalid key set',
      error: new errors.JWKSInvalid('x'),
      reason: 'jwks_unavailable',
      keepsCause: true,
    },
    { name: 'exp claim', error: claim('exp'), reason: 'missing_exp' },
    { name: 'sub claim', error: claim('sub'), reason: 'missing_sub' },
    { name: 'iss claim', error: claim('iss'), reason: 'bad_issuer' },
    { name: 'aud claim', error: claim('aud'), reason: 'bad_audience' },
    { name: 'nbf in the future', error: claim('nbf'), reason: 'not_yet_valid' },
    { name: 'nbf not a number', error: claim('nbf', 'invalid'), reason: 'malformed' },
    { name: 'another claim', error: claim('jti'), reason: 'malformed' },
    {
      name: 'anything else: not trusted, cause kept',
      error: new Error('boom'),
      reason: 'bad_signature',
      keepsCause: true,
    },
  ];
  for (const { name, error, reason, keepsCause } of cases)
    it(name, () => {
      const refusal = toAuthError(error);
      assert.ok(refusal instanceof AuthError);
      assert.equal(refusal.reason, reason);
      assert.equal(refusal.cause, keepsCause ? error : undefined);
      assert.ok(Buffer.byteLength(refusal.message) <= 123, 'fits a close reason');
    });

  it('an AuthError passes through', () => {
    const error = new AuthError('missing_token', 'No token was provided');
    assert.equal(toAuthError(error), error);
  });
});
