import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactSign, SignJWT, UnsecuredJWT, base64url, generateKeyPair } from 'jose';
import { AuthError } from '../../server/auth/token-verifier.js';
import {
  SECRET,
  now,
  hsVerifier,
  hsToken,
  withDefaults,
  assertRejected,
  assertTokenNotIn,
  encoder,
} from '../support/token-verifier.js';

/**
 * JWT rules with jose, HS256: a valid user token and the service scope accepted; every rejection
 * reason (expired or not yet valid past the tolerance, wrong signature, alg none, RS256/ES256,
 * missing exp or sub, iss and aud, garbage, missing) with its reason; and no error message holds
 * the token.
 */

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
