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

/**
 * A token signed with the run's own secret, 12 hours, with the issuer and audience the server
 * checks (when set): the demo user's bell token, or with `service` the backend's token for trying
 * the REST API or the Python client (scope JWT_SERVICE_SCOPE). Gone with the run's secret.
 */
export function demoToken(
  auth: AuthConfig,
  { service = false }: { service?: boolean } = {},
): Promise<string> {
  const jwt = new SignJWT(service ? { scope: auth.serviceScope } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(service ? 'normx-backend' : 'demo')
    .setExpirationTime('12h');
  if (auth.issuer) jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt.setAudience(auth.audience);
  return jwt.sign(new TextEncoder().encode(auth.hs256Secret!));
}
