import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * The JWTs a bench's stack accepts: a secret of the run's own (JWT_HS256_SECRET of the processes it
 * starts), the backend's service token and any user's token, 24 hours each.
 */
export async function benchTokens(): Promise<{
  secret: string;
  serviceToken: string;
  userToken: (userId: string) => Promise<string>;
}> {
  const secret = randomBytes(36).toString('base64url');
  const key = new TextEncoder().encode(secret);
  const sign = (subject: string, claims: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setExpirationTime('24h')
      .sign(key);
  return {
    secret,
    serviceToken: await sign('normx-backend', { scope: 'notify:service' }),
    userToken: (userId) => sign(userId),
  };
}
