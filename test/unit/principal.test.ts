import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import { principalOf } from '../../server/auth/principal.js';

/** A verified payload's principal: its subject, its expiry, and whether it is the service. */

const SERVICE = 'notify:service';

describe('principal of a payload', () => {
  const cases: Array<{
    name: string;
    payload: JWTPayload;
    expect: { isService: boolean } | { refused: string };
  }> = [
    { name: 'a user: no scope', payload: { sub: 'u-1', exp: 10 }, expect: { isService: false } },
    {
      name: 'the service scope among others',
      payload: { sub: 's', exp: 10, scope: `read ${SERVICE}  write` },
      expect: { isService: true },
    },
    {
      name: 'the service scope in an array',
      payload: { sub: 's', exp: 10, scope: ['read', SERVICE] },
      expect: { isService: true },
    },
    {
      name: 'a scope that only starts like it',
      payload: { sub: 'u', exp: 10, scope: `${SERVICE}:extra` },
      expect: { isService: false },
    },
    {
      name: 'a scope that is neither a string nor an array',
      payload: { sub: 'u', exp: 10, scope: 7 },
      expect: { isService: false },
    },
    { name: 'a blank sub', payload: { sub: '  ', exp: 10 }, expect: { refused: 'missing_sub' } },
    { name: 'no sub', payload: { exp: 10 }, expect: { refused: 'missing_sub' } },
    {
      name: 'an exp that is not a finite number',
      payload: { sub: 'u', exp: Infinity },
      expect: { refused: 'missing_exp' },
    },
  ];
  for (const { name, payload, expect } of cases)
    it(name, () => {
      if ('refused' in expect)
        return assert.throws(() => principalOf(payload, SERVICE), { reason: expect.refused });
      assert.deepEqual(principalOf(payload, SERVICE), {
        subject: payload.sub,
        isService: expect.isService,
        expiresAt: payload.exp,
      });
    });
});
