import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { JWKS_TIMEOUT_MS, createTokenVerifier, type AuthSettings } from '../../server/auth/token-verifier.js';
import {
  SERVICE_SCOPE,
  now,
  hsToken,
  withDefaults,
  assertRejected,
  encoder,
} from '../support/token-verifier.js';

/**
 * JWT rules with jose, RS256 and ES256 from a local JWKS server: valid tokens accepted with the key
 * set fetched once, claims checked as with HS256, HS256 and alg none refused, unknown keys
 * refused, key rotation, and a JWKS server unreachable, failing or silent reported as
 * jwks_unavailable, quickly.
 */

describe('token verifier, JWKS (RS256 / ES256)', () => {
  let server: Server;
  let baseUrl: string;
  let jwksRequests = 0;
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
  let rotating: { privateKey: CryptoKey; publicKey: CryptoKey }[];
  let stranger: { privateKey: CryptoKey; publicKey: CryptoKey };
  const routes = new Map<string, JWK[] | string | 'hang' | 500>();

  const verifierFor = (path: string, extra: Partial<AuthSettings> = {}) =>
    createTokenVerifier({
      jwksUrl: `${baseUrl}${path}`,
      clockToleranceSeconds: 30,
      serviceScope: SERVICE_SCOPE,
      ...extra,
    });

  const sign = (alg: 'RS256' | 'ES256', privateKey: CryptoKey, kid?: string, claims: JWTPayload = {}) =>
    new SignJWT(withDefaults(claims)).setProtectedHeader({ alg, ...(kid && { kid }) }).sign(privateKey);

  const publicJwk = async (key: CryptoKey, alg: string, kid?: string): Promise<JWK> => ({
    ...(await exportJWK(key)),
    alg,
    use: 'sig',
    ...(kid && { kid }),
  });

  before(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    stranger = await generateKeyPair('RS256');
    rotating = [await generateKeyPair('RS256'), await generateKeyPair('RS256')];
    routes.set('/jwks', [
      await publicJwk(rsa.publicKey, 'RS256', 'rsa-1'),
      await publicJwk(ec.publicKey, 'ES256', 'ec-1'),
    ]);
    routes.set('/rotating', [
      await publicJwk(rotating[0]!.publicKey, 'RS256'),
      await publicJwk(rotating[1]!.publicKey, 'RS256'),
    ]);
    routes.set('/broken', 500);
    routes.set('/not-json', 'hello');
    routes.set('/hang', 'hang');
    server = createServer((request, response) => {
      const route = routes.get(request.url ?? '');
      if (route === 'hang') return; // never answers; closed by closeAllConnections in after()
      if (request.url === '/jwks') jwksRequests += 1;
      if (route === undefined || route === 500) {
        response.writeHead(route ?? 404).end();
      } else if (typeof route === 'string') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(route);
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: route }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('accepts valid RS256 and ES256 tokens, fetching the key set once', async () => {
    const verifier = verifierFor('/jwks');
    const before = jwksRequests;
    const rsaPrincipal = await verifier.verify(
      await sign('RS256', rsa.privateKey, 'rsa-1', { sub: 'user-rsa' }),
    );
    assert.equal(rsaPrincipal.subject, 'user-rsa');
    const exp = now() + 600;
    const ecToken = await sign('ES256', ec.privateKey, 'ec-1', { sub: 'normx', scope: SERVICE_SCOPE, exp });
    assert.deepEqual(await verifier.verify(ecToken), { subject: 'normx', isService: true, expiresAt: exp });
    assert.equal(jwksRequests - before, 1);
  });

  it('checks claims as with HS256', async () => {
    const verifier = verifierFor('/jwks', { audience: 'normx-notify' });
    await assertRejected(
      verifier,
      await sign('RS256', rsa.privateKey, 'rsa-1', { aud: 'normx-notify', exp: now() - 120 }),
      'expired',
    );
    await assertRejected(verifier, await sign('ES256', ec.privateKey, 'ec-1', { aud: 'x' }), 'bad_audience');
  });

  it('refuses HS256 tokens (HS/RS confusion) and alg none', async () => {
    const verifier = verifierFor('/jwks');
    const pem = await exportSPKI(rsa.publicKey);
    const confused = await new SignJWT(withDefaults({}))
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .sign(encoder.encode(pem));
    await assertRejected(verifier, confused, 'algorithm_not_allowed');
    const jwkBytes = await new SignJWT(withDefaults({}))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(encoder.encode(JSON.stringify(await exportJWK(rsa.publicKey))));
    await assertRejected(verifier, jwkBytes, 'algorithm_not_allowed');
    await assertRejected(verifier, await hsToken(), 'algorithm_not_allowed');
    const unsecured = new UnsecuredJWT({ sub: 'user-1' }).setExpirationTime('5m').encode();
    await assertRejected(verifier, unsecured, 'algorithm_not_allowed');
  });

  it('refuses a token signed with a key that is not in the set', async () => {
    const verifier = verifierFor('/jwks');
    await assertRejected(verifier, await sign('RS256', stranger.privateKey, 'stranger'), 'bad_signature');
    await assertRejected(verifier, await sign('RS256', stranger.privateKey, 'rsa-1'), 'bad_signature');
    await assertRejected(verifier, await sign('RS256', stranger.privateKey), 'bad_signature');
  });

  it('tries each matching key for a token without kid (key rotation)', async () => {
    const verifier = verifierFor('/rotating');
    assert.equal((await verifier.verify(await sign('RS256', rotating[1]!.privateKey))).subject, 'user-1');
    await assertRejected(verifier, await sign('RS256', stranger.privateKey), 'bad_signature');
  });

  it('reports an unreachable JWKS server as jwks_unavailable, quickly', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const verifier = createTokenVerifier({
      jwksUrl: `http://127.0.0.1:${port}/jwks`,
      clockToleranceSeconds: 30,
      serviceScope: SERVICE_SCOPE,
    });
    const started = Date.now();
    const error = await assertRejected(
      verifier,
      await sign('RS256', rsa.privateKey, 'rsa-1'),
      'jwks_unavailable',
    );
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    assert.ok(error.cause, 'keeps the network error as cause, for the log');
  });

  it('reports a failing or invalid JWKS response as jwks_unavailable', async () => {
    const token = await sign('RS256', rsa.privateKey, 'rsa-1');
    await assertRejected(verifierFor('/broken'), token, 'jwks_unavailable');
    await assertRejected(verifierFor('/not-json'), token, 'jwks_unavailable');
    await assertRejected(verifierFor('/missing'), token, 'jwks_unavailable');
  });

  it('gives up on a JWKS server that does not answer after the fetch timeout', async () => {
    const started = Date.now();
    await assertRejected(
      verifierFor('/hang'),
      await sign('ES256', ec.privateKey, 'ec-1'),
      'jwks_unavailable',
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= JWKS_TIMEOUT_MS - 100 && elapsed < JWKS_TIMEOUT_MS + 1_000, `took ${elapsed} ms`);
  });
});
