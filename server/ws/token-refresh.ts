import type { Logger } from '../../config/logger.js';
import { authFailure } from '../auth/auth-failure.js';
import type { AuthError, Principal, TokenVerifier } from '../auth/token-verifier.js';
import { ClientError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';

/**
 * A socket's new token (`refresh_token`): verified, then checked against the current one. Throws
 * the ClientError to answer with; the socket is kept either way.
 */
export async function refreshedPrincipal(
  token: string,
  current: Principal,
  deps: { verifier: TokenVerifier; metrics: ServerMetrics; logger: Logger },
): Promise<Principal> {
  let next: Principal;
  try {
    next = await deps.verifier.verify(token);
  } catch (error) {
    throw authFailure(error as AuthError, deps);
  }
  checkRefresh(current, next);
  return next;
}

/** Throws the reason `next` may not replace `current` on an open socket, if any. */
export function checkRefresh(current: Principal, next: Principal): void {
  if (next.subject !== current.subject)
    throw new ClientError('forbidden', 'The new token is for another user');
  // The upgrade refuses service tokens: a refresh may not bring one in either.
  if (next.isService) throw new ClientError('forbidden', 'The service token has no notification stream');
  // An older token would shorten the socket's life (a replayed or stale token): refused, socket kept.
  if (next.expiresAt < current.expiresAt)
    throw new ClientError('bad_request', 'The new token expires before the current one');
}
