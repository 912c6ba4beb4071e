import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readClientMessage } from '../../server/ws/client-input.js';

/** A client's text frames read against the protocol: the message, or the error and the ref to answer with. */

describe('client input', () => {
  const cases: Array<{
    name: string;
    text: string;
    expect: { reads: unknown } | { code: string; message: RegExp; ref?: string };
  }> = [
    {
      name: 'a resume',
      text: '{"type":"resume","lastId":"42"}',
      expect: { reads: { type: 'resume', lastId: '42' } },
    },
    {
      name: 'a mark with its ref',
      text: '{"type":"mark_read","ids":["1","2"],"ref":"r1"}',
      expect: { reads: { type: 'mark_read', ids: ['1', '2'], ref: 'r1' } },
    },
    { name: 'not JSON', text: '{nope', expect: { code: 'bad_request', message: /not valid JSON/ } },
    {
      name: 'JSON that is no message names `type`',
      text: '42',
      expect: { code: 'validation_failed', message: /^type: / },
    },
    {
      name: 'an unknown type names `type`',
      text: '{"type":"subscribe"}',
      expect: { code: 'validation_failed', message: /^type: / },
    },
    {
      name: 'a bad field is named with its path',
      text: '{"type":"mark_read","ids":["007"]}',
      expect: { code: 'validation_failed', message: /^ids\.0: / },
    },
    {
      name: 'an unknown field is named itself, not its parent',
      text: '{"type":"mark_all_read","extra":1}',
      expect: { code: 'validation_failed', message: /^extra: / },
    },
    {
      name: 'a refused mark names its ref even when the rest is invalid',
      text: '{"type":"mark_read","ids":[],"ref":"r2"}',
      expect: { code: 'validation_failed', message: /^ids: /, ref: 'r2' },
    },
    {
      name: 'an empty ref is none',
      text: '{"type":"mark_read","ids":[],"ref":""}',
      expect: { code: 'validation_failed', message: /./ },
    },
    {
      name: 'a ref over 64 characters is none',
      text: JSON.stringify({ type: 'mark_all_read', ref: 'x'.repeat(65) }),
      expect: { code: 'validation_failed', message: /^ref: / },
    },
    {
      name: 'a ref that is not a string is none',
      text: '{"type":"mark_all_read","ref":7}',
      expect: { code: 'validation_failed', message: /^ref: / },
    },
  ];

  for (const { name, text, expect } of cases)
    it(name, () => {
      const input = readClientMessage(text);
      if ('reads' in expect) return assert.deepEqual(input, { message: expect.reads });
      assert.ok('error' in input, 'refused');
      assert.equal(input.error.code, expect.code);
      assert.match(input.error.message, expect.message);
      assert.equal(input.ref, expect.ref);
      assert.equal('ref' in input, expect.ref !== undefined, 'no ref key without a usable ref');
    });
});
