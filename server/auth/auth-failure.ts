import type { Logger } from '../../config/logger.js';
import { ClientError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import { AuthError } from './auth-error.js';

/** A failure that is ours, not the client's, is logged at most this often per reason and logger. */
const LOG_EVERY_MS = 10_000;
const lastLogged = new WeakMap<Logger, Map<string, number>>();

/**
 * A rejected token as the client sees it (counted by reason). A JWKS outage, or an error that is
 * not a verdict on the token, is ours: logged with its cause (throttled, since every client of a
 * replica meets it at once), so that the `jwks_unavailable` count has an explanation in the log.
 */
export function authFailure(
  error: unknown,
  { metrics, logger }: { metrics: ServerMetrics; logger: Logger },
): ClientError {
  const reason = error instanceof AuthError ? error.reason : 'unknown';
  metrics.authFailures.inc({ reason });
  if (reason === 'jwks_unavailable' || reason === 'unknown') {
    const times = lastLogged.get(logger) ?? new Map<string, number>();
    lastLogged.set(logger, times);
    const now = Date.now();
    if (now - (times.get(reason) ?? -Infinity) >= LOG_EVERY_MS) {
      times.set(reason, now);
      const err = error instanceof AuthError && error.cause !== undefined ? error.cause : error;
      logger.error({ err, reason }, 'Tokens cannot be checked: refusing them as unavailable');
    }
  }
  if (reason === 'jwks_unavailable')
    return new ClientError('unavailable', 'Token keys are unavailable: retry later');
  const message = error instanceof Error ? error.message : 'Invalid token';
  return new ClientError(reason === 'expired' ? 'token_expired' : 'unauthorized', message);
}
