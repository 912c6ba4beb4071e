import { ClientError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import { AuthError } from './token-verifier.js';

/** A rejected token as the client sees it (counted by reason); a JWKS outage is ours, not theirs. */
export function authFailure(error: unknown, metrics: ServerMetrics): ClientError {
  const reason = error instanceof AuthError ? error.reason : 'unknown';
  metrics.authFailures.inc({ reason });
  if (reason === 'jwks_unavailable')
    return new ClientError('unavailable', 'Token keys are unavailable: retry later');
  const message = error instanceof Error ? error.message : 'Invalid token';
  return new ClientError(reason === 'expired' ? 'token_expired' : 'unauthorized', message);
}
