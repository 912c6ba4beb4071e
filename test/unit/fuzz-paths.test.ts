import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiDocument } from '../../server/http/openapi.js';
import { ROUTES } from '../support/fuzz-paths.js';

/**
 * The raw HTTP fuzzer walks every route (test/support/fuzz-paths.ts): a route added to the API
 * and forgotten there would never be fuzzed with broken paths. Its list must hold every path of
 * the OpenAPI document, read with its parameters as `:p`.
 */
describe('raw HTTP fuzzer routes', () => {
  it('hold every path of the OpenAPI document', () => {
    const paths = Object.keys((openApiDocument() as { paths: Record<string, unknown> }).paths).map((path) =>
      path.replace(/\{[^}]+\}/g, ':p'),
    );
    assert.deepEqual(
      paths.filter((path) => !ROUTES.includes(path)),
      [],
    );
  });
});
