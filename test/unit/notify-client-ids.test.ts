import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_NOTIFICATION_ID, notificationId } from '../../server/protocol/messages.js';

/**
 * The client library's notification id rule: an id the client takes
 * and the server refuses poisoned a whole batch of marks. Both now use domain/notification-id.ts;
 * the client must still answer as the server's schema does, at the edges (table) and anywhere
 * (fast-check, fixed seed).
 */

interface ClientModule {
  isNotificationId(value: unknown): boolean;
}
// The library is typed against the DOM, which the Node build does not include: loaded by a
// specifier tsc does not follow (as test/support/node-tabs.ts does).
const CLIENT_MODULE = new URL('../../web/client/notify-client.ts', import.meta.url).href;
const { isNotificationId } = (await import(CLIENT_MODULE)) as ClientModule;

const server = (value: string): boolean => notificationId.safeParse(value).success;

describe("the client's notification id rule", () => {
  const table: Array<[string, boolean]> = [
    ['0', true],
    ['1', true],
    ['42', true],
    [MAX_NOTIFICATION_ID.toString(), true],
    ['9223372036854775806', true],
    ['1000000000000000000', true],
    ['9223372036854775808', false],
    ['9999999999999999999', false],
    ['10000000000000000000', false],
    ['007', false],
    ['00', false],
    ['', false],
    ['-1', false],
    ['+1', false],
    ['1.0', false],
    ['1e3', false],
    [' 1', false],
    ['1\n', false],
    ['١٢', false], // Arabic-Indic digits: \d in some engines, not here
  ];
  for (const [value, expected] of table) {
    it(`${JSON.stringify(value)}: ${expected ? 'an id' : 'not an id'}, as the server says`, () => {
      assert.equal(server(value), expected, 'the table matches the server');
      assert.equal(isNotificationId(value), expected);
    });
  }

  it('answers as the server for any string of digits and near-digits', () => {
    const digitString = fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '8', '9'), maxLength: 21 });
    const nearMax = fc
      .bigInt({ min: MAX_NOTIFICATION_ID - 1000n, max: MAX_NOTIFICATION_ID + 1000n })
      .map((value) => value.toString());
    const anyString = fc.string({ maxLength: 22 });
    fc.assert(
      fc.property(fc.oneof(digitString, nearMax, anyString), (value) => {
        assert.equal(isNotificationId(value), server(value), JSON.stringify(value));
      }),
      { seed: Number(process.env.FC_SEED ?? 20261202), numRuns: 5000 },
    );
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 1, 1n, {}, ['1']]) assert.equal(isNotificationId(value), false);
  });
});
