import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { CLOSE_CODES_FILE, closeCodesSource, closeCodeTable } from '../../scripts/generate-close-codes.js';
import { errorCatalog } from '../../server/errors.js';
import { closeActionOf } from '../../web/client/close-action.js';

/**
 * What the client library does on each close code is the server's error catalog's word
 * (server/errors.ts `clientAction`), written once: web/client/close-codes.ts is generated from it
 * (scripts/generate-close-codes.ts), and web/client/protocol-check.ts checks the types at build.
 */
describe('client close codes: from the error catalog', () => {
  it('web/client/close-codes.ts is what the generator makes of server/errors.ts', async () => {
    assert.equal(
      await readFile(CLOSE_CODES_FILE, 'utf8'),
      await closeCodesSource(),
      'the client and the catalog disagree: run npx tsx scripts/generate-close-codes.ts',
    );
  });

  // One row per error of the catalog: a socket closed with its close code gets its clientAction.
  for (const [code, { closeCode, clientAction }] of Object.entries(errorCatalog)) {
    it(`${code}: closed with ${closeCode}, the client does ${clientAction}`, () => {
      const decision = closeActionOf(closeCode);
      assert.equal(decision.action, clientAction);
      if (decision.action !== 'reconnect') {
        // The error it reports is one of the catalog's with that close code.
        assert.equal(errorCatalog[decision.code as keyof typeof errorCatalog]?.closeCode, closeCode);
      }
    });
  }

  const notInCatalog: Array<[number, string]> = [
    [1000, 'a normal closure'],
    [1005, 'no status'],
    [1006, 'the connection lost (or an upgrade refused: a browser cannot tell)'],
    [4000, 'an application code the server does not use'],
  ];
  for (const [closeCode, what] of notInCatalog) {
    it(`${closeCode} (${what}): reconnect`, () =>
      assert.deepEqual(closeActionOf(closeCode), { action: 'reconnect' }));
  }

  it('refuses a catalog whose errors sharing a close code ask different things of the client', () => {
    const catalog = {
      forbidden: { closeCode: 4403, clientAction: 'stop' },
      origin_not_allowed: { closeCode: 4403, clientAction: 'reconnect' },
    } as const;
    assert.throws(
      () => closeCodeTable(catalog),
      /4403: forbidden says stop, origin_not_allowed says reconnect/,
    );
  });

  it('reports the first error of the catalog with a close code, one row per close code', () => {
    const catalog = {
      too_many_sockets: { closeCode: 4429, clientAction: 'reconnect' },
      rate_limited: { closeCode: 4429, clientAction: 'reconnect' },
      bad_request: { closeCode: 4400, clientAction: 'stop' },
    } as const;
    assert.deepEqual(closeCodeTable(catalog), [
      [4400, { action: 'stop', code: 'bad_request' }],
      [4429, { action: 'reconnect', code: 'too_many_sockets' }],
    ]);
  });
});
