import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_NOTIFICATION_ID, notificationId } from '../../server/protocol/messages.js';

/** The one id schema of REST and socket: digits, no leading zero, up to 2^63 - 1. */

const SEED = Number(process.env.FC_SEED ?? 20261202);
const accepted = (text: string): boolean => notificationId.safeParse(text).success;

describe('notification id', () => {
  it('edges: 0, the bigint maximum and one above it, leading zeros, 20 digits', () => {
    assert.equal(accepted('0'), true);
    assert.equal(accepted('9223372036854775807'), true);
    assert.equal(accepted('9223372036854775808'), false);
    assert.equal(accepted('9999999999999999999'), false);
    assert.equal(accepted('10000000000000000000'), false);
    assert.equal(accepted('007'), false);
    assert.equal(accepted(''), false);
    assert.equal(accepted('-1'), false);
  });

  it('accepts exactly the canonical decimals from 0 to the bigint maximum', () => {
    const near = fc.bigInt({ min: MAX_NOTIFICATION_ID - 10n ** 6n, max: MAX_NOTIFICATION_ID + 10n ** 6n });
    const anyWidth = fc.bigInt({ min: 0n, max: 10n ** 20n });
    const text = fc.oneof(
      fc.oneof(near, anyWidth, fc.bigInt({ min: 0n, max: MAX_NOTIFICATION_ID })).map(String),
      fc.stringMatching(/^[0-9]{1,20}$/),
    );
    fc.assert(
      fc.property(text, (candidate) => {
        const canonical = /^(0|[1-9][0-9]*)$/.test(candidate);
        assert.equal(accepted(candidate), canonical && BigInt(candidate) <= MAX_NOTIFICATION_ID, candidate);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
