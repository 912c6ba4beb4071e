import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { issuesOf } from '../../client/input-issues.js';
import { invalidInput, validationFailed } from '../../server/errors.js';

/** The one naming of a refused input's fields (client/input-issues.ts) and the one `validation_failed` (server/errors.ts). */

const schema = z.strictObject({ ids: z.array(z.string().regex(/^\d+$/, 'must be digits')).min(1) });
const refused = (value: unknown): z.ZodError => {
  const result = schema.safeParse(value);
  assert.ok(!result.success);
  return result.error;
};

describe('input issues', () => {
  it('names each bad field by its dotted path, under `at`', () => {
    assert.deepEqual(issuesOf(refused({ ids: ['1', 'x'] })), [{ field: 'ids.1', message: 'must be digits' }]);
    assert.deepEqual(issuesOf(refused({ ids: ['x'] }), { at: 'body' }), [
      { field: 'body.ids.0', message: 'must be digits' },
    ]);
  });

  it('names an unknown field itself, not its parent, one issue per unknown field', () => {
    assert.deepEqual(
      issuesOf(refused({ ids: ['1'], extra: 1, more: 2 })).map((issue) => issue.field),
      ['extra', 'more'],
    );
    assert.ok(
      issuesOf(refused({ ids: ['1'], extra: 1 })).every((issue) => issue.message === 'is not a known field'),
    );
  });

  it('names the value as a whole `(input)`, or as told', () => {
    assert.deepEqual(
      issuesOf(refused(42)).map((issue) => issue.field),
      ['(input)'],
    );
    assert.deepEqual(
      issuesOf(refused(42), { whole: 'type' }).map((issue) => issue.field),
      ['type'],
    );
  });

  it('validation_failed lists every issue, its message naming each field', () => {
    const error = invalidInput(refused({ ids: [], extra: 1 }));
    assert.equal(error.code, 'validation_failed');
    assert.deepEqual(
      error.issues.map((issue) => issue.field),
      ['ids', 'extra'],
    );
    assert.match(error.message, /^ids: .*; extra: is not a known field$/);
    assert.deepEqual(validationFailed([{ field: 'a', message: 'b' }], 'Invalid input: a b').toJSON(), {
      error: {
        code: 'validation_failed',
        message: 'Invalid input: a b',
        issues: [{ field: 'a', message: 'b' }],
      },
    });
  });
});
