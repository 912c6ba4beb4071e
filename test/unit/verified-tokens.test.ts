import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, type Principal, type TokenVerifier } from '../../server/auth/token-verifier.js';
import { rememberVerified } from '../../server/auth/verified-tokens.js';

/**
 * The verifier's memory of tokens it accepted (server/auth/verified-tokens.ts): what a socket
 * upgrade may recall synchronously, and when it must verify again. A table on a fake clock.
 */

const NOW = Date.parse('2027-01-04T08:00:00Z');
const principal = (subject: string, expiresInSeconds: number): Principal => ({
  subject,
  isService: false,
  expiresAt: NOW / 1000 + expiresInSeconds,
});

/** Tokens are `<subject>:<expires in seconds>`; `bad` is refused. Counts its calls. */
function fakeVerifier(): TokenVerifier & { calls: number } {
  const fake = {
    calls: 0,
    async verify(token: string | undefined | null): Promise<Principal> {
      fake.calls += 1;
      const [subject, expiresIn] = String(token).split(':');
      if (subject === 'bad') throw new AuthError('bad_signature', 'Signature verification failed');
      return principal(subject!, Number(expiresIn));
    },
  };
  return fake;
}

describe('rememberVerified', () => {
  type Step = ['verify' | 'recall', string, number, string | undefined];
  // [what, token, at (ms after NOW), expected subject (undefined: not recalled / refused)]
  const cases: Array<[string, Step[]]> = [
    ['a token never verified is not recalled', [['recall', 'alice:3600', 0, undefined]]],
    [
      'a verified token is recalled within the TTL',
      [
        ['verify', 'alice:3600', 0, 'alice'],
        ['recall', 'alice:3600', 59_000, 'alice'],
      ],
    ],
    [
      'not past the TTL (60 s): verified again then',
      [
        ['verify', 'alice:3600', 0, 'alice'],
        ['recall', 'alice:3600', 60_000, undefined],
      ],
    ],
    [
      'not past exp + the clock tolerance (30 s), even within the TTL',
      [
        ['verify', 'alice:10', 0, 'alice'],
        ['recall', 'alice:10', 39_000, 'alice'],
        ['recall', 'alice:10', 40_000, undefined],
      ],
    ],
    [
      'a refused token is not remembered',
      [
        ['verify', 'bad:3600', 0, undefined],
        ['recall', 'bad:3600', 0, undefined],
      ],
    ],
    [
      'another token of the same user is not recalled',
      [
        ['verify', 'alice:3600', 0, 'alice'],
        ['recall', 'alice:3601', 0, undefined],
      ],
    ],
    ['an empty or absent token is not recalled', [['recall', '', 0, undefined]]],
  ];
  for (const [name, steps] of cases) {
    it(name, async () => {
      let at = NOW;
      const verifier = rememberVerified(fakeVerifier(), { clockToleranceSeconds: 30, now: () => at });
      for (const [what, token, offset, expected] of steps) {
        at = NOW + offset;
        if (what === 'recall') {
          assert.equal(verifier.recall(token)?.subject, expected, `recall ${token} at +${offset} ms`);
        } else {
          const subject = await verifier.verify(token).then(
            (p) => p.subject,
            () => undefined,
          );
          assert.equal(subject, expected, `verify ${token}`);
        }
      }
    });
  }

  it('forgets the oldest past its bound', async () => {
    const inner = fakeVerifier();
    const verifier = rememberVerified(inner, { clockToleranceSeconds: 0, maxEntries: 2, now: () => NOW });
    for (const token of ['a:3600', 'b:3600', 'c:3600']) await verifier.verify(token);
    assert.equal(verifier.recall('a:3600'), undefined, 'the oldest went');
    assert.equal(verifier.recall('b:3600')?.subject, 'b');
    assert.equal(verifier.recall('c:3600')?.subject, 'c');
    assert.equal(inner.calls, 3);
  });

  it('a recall of a missing token is undefined, never an error', () => {
    const verifier = rememberVerified(fakeVerifier(), { clockToleranceSeconds: 0 });
    assert.equal(verifier.recall(undefined), undefined);
  });
});
