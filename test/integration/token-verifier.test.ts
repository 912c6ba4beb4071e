import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CompactSign, SignJWT, UnsecuredJWT, base64url, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import {
  AuthError,
  JWKS_TIMEOUT_MS,
  createTokenVerifier,
  type AuthFailureReason,
  type AuthSettings,
  type TokenVerifier,
} from '../../server/auth/token-verifier.js';
import { loadConfig } from '../../config/config.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const SERVICE_SCOPE = 'notify:service';
const now = () => Math.floor(Date.now() / 1000);
const encoder = new TextEncoder();

function hsVerifier(extra: Partial<AuthSettings> = {}): TokenVerifier {
  return createTokenVerifier({
    hs256Secret: SECRET,
    clockToleranceSeconds: 30,
    serviceScope: SERVICE_SCOPE,
    ...extra,
  });
}

/** An HS256 token; `exp` defaults to +5 min and `sub` to 'user-1' (pass undefined to omit a claim). */
function hsToken(claims: JWTPayload = {}, secret = SECRET): Promise<string> {
  return new SignJWT(withDefaults(claims))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(encoder.encode(secret));
}

function withDefaults(claims: JWTPayload): JWTPayload {
  const payload: JWTPayload = { sub: 'user-1', exp: now() + 300, ...claims };
  return Object.fromEntries(Object.entries(payload).filter(([, value]) => value !== undefined));
}

async function assertRejected(
  verifier: TokenVerifier,
  token: string | undefined | null,
  reason: AuthFailureReason,
): Promise<AuthError> {
  let caught: unknown;
  try {
    await verifier.verify(token);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AuthError, `expected an AuthError (${reason}), got ${String(caught)}`);
  assert.equal(caught.name, 'AuthError');
  assert.equal(caught.reason, reason, `reason (message: ${caught.message})`);
  assert.ok(Buffer.byteLength(caught.message) <= 123, 'message fits a WebSocket close reason');
  if (typeof token === 'string' && token.trim() !== '') assertTokenNotIn(caught, token);
  return caught;
}

/** Neither the token nor any sizeable part of it appears in the error's message or stack. */
function assertTokenNotIn(error: AuthError, token: string): void {
  const text = `${error.message}\n${error.stack ?? ''}`;
  assert.ok(!text.includes(token), `the ${error.reason} error message contains the token`);
  for (const part of token.split('.')) {
    if (part.length >= 16)
      assert.ok(!text.includes(part), `the ${error.reason} error message contains a token part`);
  }
}

describe('token verifier settings', () => {
  const base = { clockToleranceSeconds: 30, serviceScope: SERVICE_SCOPE };

  it('needs exactly one of hs256Secret and jwksUrl', () => {
    assert.throws(() => createTokenVerifier(base), /exactly one of hs256Secret or jwksUrl.*neither/);
    assert.throws(
      () => createTokenVerifier({ ...base, hs256Secret: SECRET, jwksUrl: 'https://idp.example/jwks' }),
      /exactly one of hs256Secret or jwksUrl.*both/,
    );
    assert.throws(() => createTokenVerifier({ ...base, hs256Secret: '', jwksUrl: '' }), /neither/);
  });

  it('refuses a secret shorter than 32 bytes, a bad URL, a bad tolerance or scope', () => {
    assert.throws(
      () => createTokenVerifier({ ...base, hs256Secret: 'x'.repeat(31) }),
      /hs256Secret must be at least 32 bytes \(got 31\)/,
    );
    assert.doesNotThrow(() => createTokenVerifier({ ...base, hs256Secret: 'x'.repeat(32) }));
    assert.throws(() => createTokenVerifier({ ...base, jwksUrl: 'not a url' }), /jwksUrl is not a valid URL/);
    assert.throws(
      () => createTokenVerifier({ ...base, jwksUrl: 'ftp://idp/jwks' }),
      /jwksUrl must be an https: URL/,
    );
    assert.throws(
      () => createTokenVerifier({ ...base, hs256Secret: SECRET, clockToleranceSeconds: -1 }),
      /clockToleranceSeconds/,
    );
    assert.throws(
      () => createTokenVerifier({ ...base, hs256Secret: SECRET, serviceScope: 'a b' }),
      /serviceScope/,
    );
  });

  it('counts a multi-byte secret in bytes, as the configuration does (one rule: domain/hs256-secret.ts)', () => {
    // 'é' is 2 bytes in UTF-8: 16 of them are 32 bytes; 15 and an 'x' are 31.
    assert.doesNotThrow(() => createTokenVerifier({ ...base, hs256Secret: 'é'.repeat(16) }));
    assert.throws(
      () => createTokenVerifier({ ...base, hs256Secret: 'é'.repeat(15) + 'x' }),
      /hs256Secret must be at least 32 bytes \(got 31\)/,
    );
    assert.doesNotThrow(() => loadConfig({ JWT_HS256_SECRET: 'é'.repeat(16) }));
    assert.throws(
      () => loadConfig({ JWT_HS256_SECRET: 'é'.repeat(15) + 'x' }),
      /JWT_HS256_SECRET: must be at least 32 bytes \(UTF-8\) \(got 31 bytes, not shown\)/,
    );
  });

  it('takes an http: JWKS URL only on loopback (anyone on the path could swap the keys)', () => {
    for (const jwksUrl of [
      'http://idp.example/jwks',
      'http://10.0.0.5/jwks',
      'http://localhost.evil.example/jwks',
      'http://128.0.0.1/jwks',
    ]) {
      assert.throws(
        () => createTokenVerifier({ ...base, jwksUrl }),
        /jwksUrl must be an https: URL \(http: only on loopback/,
        jwksUrl,
      );
    }
    for (const jwksUrl of [
      'https://idp.example/jwks',
      'http://127.0.0.1:8080/jwks',
      'http://127.3.4.5/jwks',
      'http://localhost:9000/jwks',
      'http://[::1]:9000/jwks',
    ]) {
      assert.doesNotThrow(() => createTokenVerifier({ ...base, jwksUrl }), jwksUrl);
    }
  });
});

describe('token verifier, HS256', () => {
  const verifier = hsVerifier();

  it('accepts a valid user token', async () => {
    const exp = now() + 300;
    const principal = await verifier.verify(await hsToken({ sub: 'user-42', exp }));
    assert.deepEqual(principal, { subject: 'user-42', isService: false, expiresAt: exp });
  });

  it('recognises the service scope, as a space-separated string or an array', async () => {
    const fromString = await verifier.verify(await hsToken({ sub: 'normx', scope: 'notify:service other' }));
    assert.equal(fromString.isService, true);
    assert.equal(fromString.subject, 'normx');
    const fromArray = await verifier.verify(await hsToken({ scope: ['other', 'notify:service'] }));
    assert.equal(fromArray.isService, true);
    for (const scope of ['notify:services', 'notify:service-x other', 'other', ['notify']]) {
      assert.equal((await verifier.verify(await hsToken({ scope }))).isService, false, JSON.stringify(scope));
    }
  });

  it('rejects an expired token, but accepts one expired within the clock tolerance', async () => {
    await assertRejected(verifier, await hsToken({ exp: now() - 120 }), 'expired');
    const exp = now() - 10;
    assert.equal((await verifier.verify(await hsToken({ exp }))).expiresAt, exp);
  });

  it('rejects a token not valid yet, but accepts nbf within the clock tolerance', async () => {
    await assertRejected(verifier, await hsToken({ nbf: now() + 300 }), 'not_yet_valid');
    await verifier.verify(await hsToken({ nbf: now() + 10 }));
  });

  it('rejects a wrong signature and a tampered payload', async () => {
    await assertRejected(
      verifier,
      await hsToken({}, 'another-secret-that-is-32-bytes-long!!'),
      'bad_signature',
    );
    const [header, , signature] = (await hsToken({ sub: 'user-1' })).split('.');
    const forged = base64url.encode(JSON.stringify({ sub: 'admin', exp: now() + 300 }));
    await assertRejected(verifier, `${header}.${forged}.${signature}`, 'bad_signature');
  });

  it('rejects alg none', async () => {
    const unsecured = new UnsecuredJWT({ sub: 'user-1' }).setExpirationTime('5m').encode();
    await assertRejected(verifier, unsecured, 'algorithm_not_allowed');
    const payload = base64url.encode(JSON.stringify({ sub: 'user-1', exp: now() + 300 }));
    await assertRejected(verifier, `eyJhbGciOiJub25lIn0.${payload}.`, 'algorithm_not_allowed');
    const noneCased = base64url.encode(JSON.stringify({ alg: 'None', typ: 'JWT' }));
    await assertRejected(verifier, `${noneCased}.${payload}.`, 'algorithm_not_allowed');
  });

  it('rejects RS256 and ES256 tokens', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const { privateKey } = await generateKeyPair(alg);
      const token = await new SignJWT(withDefaults({})).setProtectedHeader({ alg }).sign(privateKey);
      await assertRejected(verifier, token, 'algorithm_not_allowed');
    }
  });

  it('requires exp', async () => {
    await assertRejected(verifier, await hsToken({ exp: undefined }), 'missing_exp');
    await assertRejected(verifier, await hsToken({ exp: 'tomorrow' as unknown as number }), 'missing_exp');
  });

  it('requires sub, a non-empty string', async () => {
    await assertRejected(verifier, await hsToken({ sub: undefined }), 'missing_sub');
    await assertRejected(verifier, await hsToken({ sub: '' }), 'missing_sub');
    await assertRejected(verifier, await hsToken({ sub: 42 as unknown as string }), 'missing_sub');
  });

  it('checks iss and aud when configured', async () => {
    const strict = hsVerifier({ issuer: 'https://normx.example', audience: 'normx-notify' });
    const good = { iss: 'https://normx.example', aud: 'normx-notify' };
    await strict.verify(await hsToken(good));
    await strict.verify(await hsToken({ ...good, aud: ['other', 'normx-notify'] }));
    await assertRejected(strict, await hsToken({ ...good, iss: 'https://evil.example' }), 'bad_issuer');
    await assertRejected(strict, await hsToken({ ...good, iss: undefined }), 'bad_issuer');
    await assertRejected(strict, await hsToken({ ...good, aud: 'other' }), 'bad_audience');
    await assertRejected(strict, await hsToken({ ...good, aud: undefined }), 'bad_audience');
  });

  it('ignores iss and aud when not configured', async () => {
    await verifier.verify(await hsToken({ iss: 'anyone', aud: 'anything' }));
  });

  it('rejects garbage as malformed', async () => {
    // Correctly signed, but the payload is not a JSON claims set.
    const notJson = await new CompactSign(encoder.encode('not json'))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(encoder.encode(SECRET));
    for (const garbage of [
      'garbage',
      'a.b.c',
      'not.a.jwt.at.all',
      `${base64url.encode(JSON.stringify({ typ: 'JWT' }))}.e30.sig`, // no alg
      notJson,
      `${notJson}.x.y`, // five parts, as a JWE
      'x'.repeat(20_000),
    ]) {
      await assertRejected(verifier, garbage, 'malformed');
    }
  });

  it('rejects a missing token', async () => {
    for (const missing of [undefined, null, '', '   '])
      await assertRejected(verifier, missing, 'missing_token');
  });
});

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

describe('token verifier error messages', () => {
  it('never contain the token (also checked by every rejection above)', async () => {
    const verifier = hsVerifier({ issuer: 'https://normx.example' });
    const tokens = [
      await hsToken({ iss: 'https://normx.example', exp: now() - 120 }),
      await hsToken({ iss: 'https://normx.example' }, 'another-secret-that-is-32-bytes-long!!'),
      await hsToken({ iss: 'https://evil.example' }),
      new UnsecuredJWT({ sub: 'user-1' }).setExpirationTime('5m').encode(),
      'garbage-that-is-not-a-jwt-at-all',
    ];
    for (const token of tokens) {
      const error = await verifier.verify(token).then(
        () => assert.fail('accepted'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof AuthError);
      assertTokenNotIn(error, token);
    }
  });
});
