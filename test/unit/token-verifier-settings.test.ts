import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTokenVerifier } from '../../server/auth/token-verifier.js';
import { loadConfig } from '../../config/config.js';
import { SECRET, SERVICE_SCOPE } from '../support/token-verifier.js';

/**
 * The token verifier's settings (server/auth/token-verifier.ts): exactly one of an HS256 secret and
 * a JWKS URL, a secret of at least 32 bytes counted in bytes, a JWKS URL over http: on loopback
 * only, the tolerance and scope checked.
 */

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
