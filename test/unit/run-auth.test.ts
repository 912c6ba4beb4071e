import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { loadConfig } from '../../config/config.js';
import { authForRun, demoToken } from '../../scripts/run-auth.js';
import { createTokenVerifier } from '../../server/auth/token-verifier.js';

/** `npm start`'s key source, and when it may print a demo token (with a secret of its own only). */
describe('npm start: key source and demo token', () => {
  const authOf = (env: NodeJS.ProcessEnv) => loadConfig(env).server.auth;

  it('generates a secret for this run when none is set, and offers a demo token signed with it', async () => {
    const run = authForRun(authOf({}));
    assert.ok(run.auth.hs256Secret && run.auth.hs256Secret.length >= 32);
    assert.equal(run.demoSecret, run.auth.hs256Secret);
    const claims = decodeJwt(await demoToken(run.auth));
    assert.equal(claims.sub, 'demo');
    assert.notEqual(authForRun(authOf({})).auth.hs256Secret, run.auth.hs256Secret, 'a new secret each run');
  });

  it("never prints a token signed with the operator's own secret (it would be valid in production)", () => {
    const secret = 'operator-secret-of-at-least-32-bytes-long';
    const run = authForRun(authOf({ JWT_HS256_SECRET: secret }));
    assert.equal(run.auth.hs256Secret, secret);
    assert.equal(run.demoSecret, undefined);
  });

  it('keeps a JWKS URL as it is, without a demo token', () => {
    const run = authForRun(authOf({ JWT_JWKS_URL: 'https://idp.example/jwks' }));
    assert.deepEqual(run.auth, authOf({ JWT_JWKS_URL: 'https://idp.example/jwks' }));
    assert.equal(run.demoSecret, undefined);
  });

  it("offers a service token too, which the run's server takes as the backend's, issuer and audience included", async () => {
    for (const env of [
      {},
      { JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'normx-notify', JWT_SERVICE_SCOPE: 'svc' },
    ]) {
      const { auth } = authForRun(authOf(env));
      const verifier = createTokenVerifier(auth);
      const service = await verifier.verify(await demoToken(auth, { service: true }));
      assert.deepEqual([service.subject, service.isService], ['normx-backend', true]);
      const demo = await verifier.verify(await demoToken(auth));
      assert.deepEqual([demo.subject, demo.isService], ['demo', false]);
    }
  });
});
