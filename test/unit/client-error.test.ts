import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { clientErrorOf } from '../../server/http/client-errors.js';
import { ClientError, errorCatalog, type ErrorCode } from '../../server/errors.js';

/** A catalog error as an HTTP reply carries it (server/errors.ts): status, Retry-After, body. */
describe('ClientError from the catalog', () => {
  const cases: Array<{ name: string; error: ClientError; status: number; retryAfter: number | undefined }> = [
    {
      name: 'a code without a Retry-After',
      error: new ClientError('not_found'),
      status: 404,
      retryAfter: undefined,
    },
    {
      name: "the catalog's Retry-After: too many sockets",
      error: new ClientError('too_many_sockets'),
      status: 429,
      retryAfter: 30,
    },
    {
      name: "the catalog's Retry-After: server busy",
      error: new ClientError('server_busy'),
      status: 503,
      retryAfter: 1,
    },
    {
      name: 'a wait known only then replaces it',
      error: new ClientError('too_many_upgrades', undefined, [], { retryAfterSeconds: 3 }),
      status: 429,
      retryAfter: 3,
    },
  ];
  for (const { name, error, status, retryAfter } of cases) {
    it(name, () => {
      assert.equal(error.status, status);
      assert.equal(error.retryAfterSeconds, retryAfter);
      assert.deepEqual(error.toJSON(), {
        error: { code: error.code, message: errorCatalog[error.code].message },
      });
    });
  }

  it('every Retry-After of the catalog is a whole number of seconds on a refusal a client may retry', () => {
    const problems = Object.entries(errorCatalog)
      .filter(([, entry]) => 'retryAfterSeconds' in entry)
      .map(([code, entry]) => ({
        code: code as ErrorCode,
        entry,
        seconds: new ClientError(code as ErrorCode).retryAfterSeconds!,
      }))
      .filter(
        ({ entry, seconds }) =>
          !Number.isInteger(seconds) || seconds < 1 || entry.clientAction !== 'reconnect',
      )
      .map(({ code }) => code);
    assert.deepEqual(problems, []);
  });
});

describe('REST failures mapped to client errors (server/http/client-errors.ts)', () => {
  const temporalDown = (code: number) =>
    new ServiceError('Failed to signalWithStart Workflow', {
      cause: Object.assign(new Error('grpc'), { code }),
    });
  it('Temporal unreachable, past its deadline or overloaded: 503 unavailable, the call may be sent again', () => {
    for (const code of [14, 4, 8]) {
      const error = clientErrorOf(temporalDown(code));
      assert.equal(error?.code, 'unavailable', `gRPC ${code}`);
      assert.equal(error?.status, 503);
    }
  });
  it('any other Temporal refusal is not the client’s: left to the route (500)', () => {
    assert.equal(clientErrorOf(temporalDown(13)), undefined);
    assert.equal(clientErrorOf(new Error('boom')), undefined);
  });
});
