import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../config/logger.js';
import { AuthError, type Principal, type TokenVerifier } from '../../server/auth/token-verifier.js';
import { ClientError } from '../../server/errors.js';
import { createServerMetrics } from '../../server/metrics.js';
import { checkRefresh, refreshedPrincipal } from '../../server/ws/token-refresh.js';

/** Which new tokens may replace a socket's current one (`refresh_token`), and what a refusal says. */

const current: Principal = { subject: 'alice', isService: false, expiresAt: 1_000 };

describe('token refresh checks', () => {
  const cases: Array<{
    name: string;
    next: Partial<Principal>;
    refused?: { code: string; message: RegExp };
  }> = [
    { name: 'a later token for the same user', next: { expiresAt: 2_000 } },
    { name: 'the same expiry (the same token again)', next: {} },
    {
      name: 'another user',
      next: { subject: 'bob', expiresAt: 2_000 },
      refused: { code: 'forbidden', message: /another user/ },
    },
    {
      name: 'a service token',
      next: { isService: true, expiresAt: 2_000 },
      refused: { code: 'forbidden', message: /service token/ },
    },
    {
      name: 'an older token (it would shorten the socket’s life)',
      next: { expiresAt: 999 },
      refused: { code: 'bad_request', message: /expires before/ },
    },
  ];
  for (const { name, next, refused } of cases)
    it(name, () => {
      const check = () => checkRefresh(current, { ...current, ...next });
      if (!refused) return check();
      assert.throws(check, (error) => {
        assert.ok(error instanceof ClientError);
        assert.equal(error.code, refused.code);
        assert.match(error.message, refused.message);
        return true;
      });
    });
});

describe('refreshed principal', () => {
  const deps = (verify: TokenVerifier['verify']) => ({
    verifier: { verify },
    metrics: createServerMetrics(),
    logger: createLogger('silent'),
  });

  it('answers the verified principal', async () => {
    const next = { ...current, expiresAt: 2_000 };
    assert.deepEqual(
      await refreshedPrincipal(
        't',
        current,
        deps(async () => next),
      ),
      next,
    );
  });

  it("turns the verifier's refusal into the client's error", async () => {
    const refusal = deps(async () => {
      throw new AuthError('expired', 'Token has expired');
    });
    await assert.rejects(refreshedPrincipal('t', current, refusal), { code: 'token_expired' });
  });
});
