import { createHash } from 'node:crypto';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './token-verifier.js';

/** A verifier that also answers, synchronously, for a token it verified a moment ago. */
export interface RememberingVerifier extends TokenVerifier {
  /** The principal of a token verified within `ttlMs` and still valid by the expiry rule, else undefined. */
  recall(token: string | undefined): Principal | undefined;
}

/**
 * Remembers the tokens `verifier` accepted, by their SHA-256 (never the token itself), for
 * `ttlMs` and never past the expiry rule (`exp` + the clock tolerance, the verifier's own rule).
 *
 * Why: a socket upgrade completed after an asynchronous step runs into a uWebSockets.js 20.30
 * defect (docs/protocol.md, "A socket closed right after its 101": the 101 goes out, then the socket is closed). A
 * token recalled here upgrades synchronously, inside the upgrade handler, where uWS handles the
 * upgrade itself: a reconnect (the same token) never meets the defect, and a first connection
 * that met it succeeds on its retry. Bounded: the oldest entries go past `maxEntries`. A signing
 * key withdrawn from the JWKS stops being honoured `ttlMs` later at most.
 */
export function rememberVerified(
  verifier: TokenVerifier,
  {
    clockToleranceSeconds,
    ttlMs = 60_000,
    maxEntries = 10_000,
    now = Date.now,
  }: { clockToleranceSeconds: number; ttlMs?: number; maxEntries?: number; now?: () => number },
): RememberingVerifier {
  const remembered = new Map<string, { principal: Principal; until: number }>();
  const digest = (token: string): string => createHash('sha256').update(token).digest('base64');
  return {
    async verify(token) {
      const principal = await verifier.verify(token);
      const key = digest(token as string);
      remembered.delete(key);
      remembered.set(key, { principal, until: now() + ttlMs });
      if (remembered.size > maxEntries) remembered.delete(remembered.keys().next().value!);
      return principal;
    },
    recall(token) {
      if (typeof token !== 'string' || token === '') return undefined;
      const key = digest(token);
      const entry = remembered.get(key);
      if (!entry) return undefined;
      const at = now();
      if (at < entry.until && at < (entry.principal.expiresAt + clockToleranceSeconds) * 1000) {
        return entry.principal;
      }
      remembered.delete(key);
      return undefined;
    },
  };
}
