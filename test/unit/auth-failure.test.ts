import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../config/logger.js';
import { authFailure } from '../../server/auth/auth-failure.js';
import { AuthError } from '../../server/auth/token-verifier.js';
import { createServerMetrics } from '../../server/metrics.js';

/** What reaches the log when a token cannot be checked: a JWKS outage must not be silent. */
function recordingLogger() {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger = {
    error: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
  } as unknown as Logger;
  return { logger, lines };
}

describe('authFailure', () => {
  it('logs a JWKS outage with its cause, once per 10 s, and never a verdict on a token', () => {
    const metrics = createServerMetrics();
    const { logger, lines } = recordingLogger();
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:9');
    const outage = new AuthError('jwks_unavailable', 'The signing keys could not be fetched', { cause });
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const refused = authFailure(outage, { metrics, logger });
      assert.equal(refused.code, 'unavailable');
    }
    assert.equal(lines.length, 1, 'one line for fifty refusals');
    assert.equal(lines[0]!.fields.err, cause);
    assert.equal(lines[0]!.fields.reason, 'jwks_unavailable');

    assert.equal(
      authFailure(new AuthError('expired', 'The token has expired'), { metrics, logger }).code,
      'token_expired',
    );
    assert.equal(
      authFailure(new AuthError('bad_signature', 'Bad signature'), { metrics, logger }).code,
      'unauthorized',
    );
    assert.equal(lines.length, 1, "a client's bad token is counted, not logged");

    const bug = new TypeError('Cannot read properties of undefined');
    authFailure(bug, { metrics, logger });
    assert.equal(lines.length, 2);
    assert.equal(lines[1]!.fields.err, bug);
  });
});
