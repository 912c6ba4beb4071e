import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expiryOf, isFresher, subjectOf, TokenTracker } from '../../web/client/token.js';

/**
 * The client library's token side (web/client/token.ts): what it reads in a token without
 * verifying it, and which token it connects with after the server refused one as expired
 * (reconnecting with a token as old as the refused one must not loop).
 */

/** A JWT-shaped token with these claims (base64url, unsigned: the client never verifies). */
const tokenWith = (claims: unknown, signature = 'sig'): string =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;

describe('client token: the claims it reads', () => {
  const table: Array<[string, string, string | undefined, number | undefined]> = [
    ['sub and exp', tokenWith({ sub: 'u1', exp: 1_900_000_000 }), 'u1', 1_900_000_000],
    ['a sub in UTF-8', tokenWith({ sub: 'élodie' }), 'élodie', undefined],
    ['an empty sub', tokenWith({ sub: '', exp: 5 }), undefined, 5],
    ['a numeric sub, a string exp', tokenWith({ sub: 42, exp: '5' }), undefined, undefined],
    ['no claims', tokenWith({}), undefined, undefined],
    ['claims that are not an object', tokenWith('u1'), undefined, undefined],
    ['null claims', tokenWith(null), undefined, undefined],
    ['no payload', 'abc', undefined, undefined],
    ['a payload that is not base64', 'a.@@@.c', undefined, undefined],
    ['a payload that is not JSON', `a.${Buffer.from('{sub').toString('base64url')}.c`, undefined, undefined],
    ['the empty string', '', undefined, undefined],
  ];
  for (const [name, token, sub, exp] of table) {
    it(name, () => {
      assert.equal(subjectOf(token), sub);
      assert.equal(expiryOf(token), exp);
    });
  }
});

describe('client token: fresher than the one refused', () => {
  const old = tokenWith({ sub: 'u1', exp: 100 });
  const table: Array<[string, string, { token: string; exp: number | undefined }, boolean]> = [
    ['a later exp', tokenWith({ sub: 'u1', exp: 101 }), { token: old, exp: 100 }, true],
    [
      'the same exp, another token',
      tokenWith({ sub: 'u1', exp: 100 }, 'other'),
      { token: old, exp: 100 },
      false,
    ],
    ['an earlier exp', tokenWith({ sub: 'u1', exp: 99 }), { token: old, exp: 100 }, false],
    ['the same token', old, { token: old, exp: 100 }, false],
    ['no exp in the new one, another token', tokenWith({ sub: 'u1' }), { token: old, exp: 100 }, true],
    ['no exp in the refused one, another token', old, { token: 'opaque', exp: undefined }, true],
    ['no exp in either, the same token', 'opaque', { token: 'opaque', exp: undefined }, false],
  ];
  for (const [name, token, expired, fresher] of table) {
    it(name, () => assert.equal(isFresher(token, expired), fresher));
  }
});

describe('client token: the tracker across connections', () => {
  const a = tokenWith({ sub: 'u1', exp: 100 });
  const b = tokenWith({ sub: 'u1', exp: 200 });
  type Step =
    | ['admit', string, ReturnType<TokenTracker['admit']>]
    | ['refused', string]
    | ['opened']
    | ['renew', string, boolean];
  const table: Array<{ name: string; steps: Step[] }> = [
    {
      name: 'any token goes before a refusal',
      steps: [
        ['admit', a, { usable: true }],
        ['admit', a, { usable: true }],
      ],
    },
    {
      name: 'the refused token waits; session_expired once, until a socket opens again',
      steps: [
        ['admit', a, { usable: true }],
        ['refused', a],
        ['admit', a, { usable: false, firstRefusal: true }],
        ['admit', a, { usable: false, firstRefusal: false }],
        ['admit', b, { usable: true }],
        ['opened'],
        ['refused', b],
        ['admit', b, { usable: false, firstRefusal: true }],
      ],
    },
    {
      name: 'an older token than the refused one waits too',
      steps: [
        ['refused', b],
        ['admit', a, { usable: false, firstRefusal: true }],
      ],
    },
    {
      name: 'token_expiring: only a token that changed is sent',
      steps: [
        ['admit', a, { usable: true }],
        ['renew', a, false],
        ['renew', b, true],
        ['renew', b, false],
      ],
    },
  ];
  for (const { name, steps } of table) {
    it(name, () => {
      const tracker = new TokenTracker();
      steps.forEach((step, index) => {
        const at = `step ${index + 1}: ${step[0]}`;
        if (step[0] === 'admit') assert.deepEqual(tracker.admit(step[1]), step[2], at);
        else if (step[0] === 'refused') tracker.refused(step[1]);
        else if (step[0] === 'opened') tracker.opened();
        else assert.equal(tracker.renew(step[1]), step[2], at);
      });
    });
  }
});
