import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createLogger } from '../../config/logger.js';
import { startProbeServer, type ProbeServer } from '../../ops/probe-server.js';

/**
 * The internal port's small HTTP server (ops/probe-server.ts), shared by the worker and the
 * delivery server: what each method and path answers, and that no request, however odd, takes
 * it down or gets a 5xx from a route that did not fail.
 */

let server: ProbeServer;
let url: string;
const errors: unknown[] = [];

before(async () => {
  const logger = createLogger('silent');
  server = await startProbeServer({
    host: '127.0.0.1',
    port: 0,
    logger: Object.assign(Object.create(logger) as typeof logger, {
      error: (fields: unknown) => errors.push(fields),
    }),
    routes: {
      '/healthz': async () => ({ status: 200, body: '{"status":"ok"}', contentType: 'application/json' }),
      '/metrics': async () => ({ status: 200, body: 'up 1\n', contentType: 'text/plain' }),
      '/broken': async () => {
        throw new Error('the route failed');
      },
    },
  });
  url = `http://127.0.0.1:${server.port}`;
});
after(() => server?.close());

describe('the probe server', () => {
  const table: Array<[method: string, path: string, status: number, body: string | undefined]> = [
    ['GET', '/healthz', 200, '{"status":"ok"}'],
    ['GET', '/healthz?verbose=1', 200, '{"status":"ok"}'],
    ['HEAD', '/healthz', 200, ''],
    ['GET', '/metrics', 200, 'up 1\n'],
    ['POST', '/healthz', 405, undefined],
    ['DELETE', '/metrics', 405, undefined],
    ['GET', '/', 404, undefined],
    ['GET', '/api/v1/openapi.json', 404, undefined],
    // A name on Object.prototype is no route.
    ['GET', '/__proto__', 404, undefined],
    ['GET', '/constructor', 404, undefined],
    ['GET', '/broken', 500, '{"error":"internal error"}'],
  ];
  for (const [method, path, status, body] of table) {
    it(`${method} ${path} → ${status}`, async () => {
      const reply = await fetch(`${url}/${path.replace(/^\//, '')}`, { method });
      assert.equal(reply.status, status);
      assert.equal(reply.headers.get('cache-control'), 'no-store');
      if (body !== undefined) assert.equal(await reply.text(), body);
    });
  }

  it('logs a failed route with its error', () => {
    assert.ok(errors.some((fields) => (fields as { err?: Error }).err?.message === 'the route failed'));
  });

  it('answers any method and path without a 5xx, and stays up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        fc.webPath(),
        async (method, path) => {
          const reply = await fetch(`${url}${path.startsWith('/') ? path : `/${path}`}`, { method });
          await reply.arrayBuffer();
          assert.ok([200, 404, 405].includes(reply.status), `${method} ${path}: ${reply.status}`);
        },
      ),
      { seed: 20261202, numRuns: 200 },
    );
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });
});
