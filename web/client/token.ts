/**
 * The token side of the connection: what the client reads in a token (without verifying it: the
 * server verifies), and which token it may connect with after the server refused one as expired.
 */

/** The token's `sub`, read without verifying (the server verifies): it names the storage key. */
export function subjectOf(token: string): string | undefined {
  const sub = claimsOf(token)?.sub;
  return typeof sub === 'string' && sub !== '' ? sub : undefined;
}

/** The token's `exp` (epoch seconds), read without verifying; undefined when unreadable. */
export function expiryOf(token: string): number | undefined {
  const exp = claimsOf(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
}

/** A token the server refused as expired, with its `exp` when readable. */
export interface ExpiredToken {
  token: string;
  exp: number | undefined;
}

/**
 * True when `token` may succeed where `expired` was refused: a later `exp` (compared between
 * tokens, never with this machine's clock, which may be off), or a different token when either
 * has no readable `exp`.
 */
export function isFresher(token: string, expired: ExpiredToken): boolean {
  const exp = expiryOf(token);
  if (exp !== undefined && expired.exp !== undefined) return exp > expired.exp;
  return token !== expired.token;
}

/** What to do with a token getToken gave for a new connection. */
export type TokenVerdict =
  | { usable: true }
  /** Refused as expired already: wait for a fresher one; `firstRefusal` once per expiry (report it then). */
  | { usable: false; firstRefusal: boolean };

/** The tokens of one client: the connection's, and the one the server last refused as expired. */
export class TokenTracker {
  /** The token of the current connection, or the one it last sent in a `refresh_token`. */
  private current: string | undefined;
  /**
   * The token the server last refused as expired (4401). A token from getToken is used only if it
   * is fresher (a later `exp`; without one readable, a different token): an equal one would be
   * refused again, and reconnecting with it looped.
   */
  private expired: ExpiredToken | undefined;
  private sessionExpiredReported = false;

  /** A token from getToken, before a connection: connect with it, or wait for a fresher one. */
  admit(token: string): TokenVerdict {
    this.current = token;
    if (!this.expired || isFresher(token, this.expired)) return { usable: true };
    // The server refused this token as expired: connecting with it again would be refused too.
    const firstRefusal = !this.sessionExpiredReported;
    this.sessionExpiredReported = true;
    return { usable: false, firstRefusal };
  }

  /** A socket opened: the session is alive again (a later expiry is reported anew). */
  opened(): void {
    this.sessionExpiredReported = false;
  }

  /** The server closed the socket opened with `token` as expired or invalid (4401). */
  refused(token: string): void {
    this.expired = { token, exp: expiryOf(token) };
  }

  /**
   * A token from getToken after `token_expiring`, the socket open: true when it differs from the
   * connection's, which it then becomes (send it as `refresh_token`).
   */
  renew(fresh: string): boolean {
    if (fresh === this.current) return false;
    this.current = fresh;
    return true;
  }
}

function claimsOf(token: string): { sub?: unknown; exp?: unknown } | undefined {
  try {
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    const claims = JSON.parse(json) as unknown;
    return typeof claims === 'object' && claims !== null
      ? (claims as { sub?: unknown; exp?: unknown })
      : undefined;
  } catch {
    return undefined;
  }
}
