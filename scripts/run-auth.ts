import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AppConfig } from '../config/config.js';

type AuthConfig = AppConfig['server']['auth'];

export interface RunAuth {
  /** The settings the server runs with. */
  auth: AuthConfig;
  /** Set when `npm start` may print a demo token: signed with this secret. */
  demoSecret: string | undefined;
}

/**
 * `npm start`'s key source: the operator's settings, or without any a secret for this run only.
 * A demo token is offered only with that generated secret: one signed with the operator's own
 * JWT_HS256_SECRET would be a valid 12-hour credential printed to a terminal and its logs.
 */
export function authForRun(auth: AuthConfig): RunAuth {
  if (!auth.hs256Secret && !auth.jwksUrl) {
    const hs256Secret = randomBytes(32).toString('base64url');
    return { auth: { ...auth, hs256Secret }, demoSecret: hs256Secret };
  }
  return { auth, demoSecret: undefined };
}

/** The demo user's bell token: 12 hours, signed with the run's own secret. */
export function demoToken(secret: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('demo')
    .setExpirationTime('12h')
    .sign(new TextEncoder().encode(secret));
}
