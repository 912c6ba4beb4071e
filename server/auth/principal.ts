import type { JWTPayload } from 'jose';
import { AuthError } from './auth-error.js';

/** Who a verified token speaks for. */
export interface Principal {
  /** `sub` claim: the user id (or the service's subject). */
  subject: string;
  /** true when the token's `scope` claim (space-separated string, or array) contains settings.serviceScope. */
  isService: boolean;
  /** exp claim, epoch seconds. */
  expiresAt: number;
}

/** The principal of a verified payload: `sub` must be a non-empty string, `exp` a finite number. */
export function principalOf(payload: JWTPayload, serviceScope: string): Principal {
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
