import assert from 'node:assert/strict';
import fc from 'fast-check';
import { errorCatalog } from '../../server/errors.js';
import { rawHttp, rawRequest, type RawReply } from './fuzz-http.js';

/**
 * The raw HTTP fuzzer's generators and checks (test/integration/fuzz-raw-http.test.ts): headers and
 * bodies to send, what a documented reply is, whether the server still serves. `session` holds the
 * server's port and the tokens, set by the test file once its server is up.
 */

export const session = { port: 0, userToken: '', serviceToken: '' };

/** Statuses a reply may have: the catalog's, and the successes the routes document. */
export const DOCUMENTED_STATUSES = new Set([
  200,
  202,
  304,
  ...Object.values(errorCatalog).map((entry) => entry.status),
]);

// ---- generators (the paths: test/support/fuzz-paths.ts) -----------------------------------

export type Auth = { kind: 'valid'; header: () => string } | { kind: 'garbage'; header: string };
export const jwtPart = fc
  .uint8Array({ maxLength: 64 })
  .map((bytes) => Buffer.from(bytes).toString('base64url'));
/** Authorization values that are valid HTTP field values (visible ASCII and spaces). */
export const authorization: fc.Arbitrary<Auth | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant<Auth>({ kind: 'valid', header: () => `Bearer ${session.userToken}` }),
  fc.constant<Auth>({ kind: 'valid', header: () => `Bearer ${session.serviceToken}` }),
  fc
    .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) })
    .map((text): Auth => ({ kind: 'garbage', header: text })),
  fc
    .tuple(jwtPart, jwtPart, jwtPart)
    .map(([a, b, c]): Auth => ({ kind: 'garbage', header: `Bearer ${a}.${b}.${c}` })),
  fc.constantFrom<Auth>(
    // alg none, signed by nobody
    {
      kind: 'garbage',
      header: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"fuzz-user","scope":"notify:service"}').toString('base64url')}.`,
    },
    { kind: 'garbage', header: 'Bearer ' },
    { kind: 'garbage', header: 'Basic Zm9vOmJhcg==' },
    { kind: 'garbage', header: `Bearer ${'A'.repeat(8_000)}` },
    { kind: 'garbage', header: 'bearer  a.b.c' },
  ),
);
export const body = fc.oneof(
  fc.constant(undefined),
  fc.json().map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    Buffer.from('{"__proto__":{"ids":["1"]},"ids":["1"]}'),
    Buffer.from('{"constructor":{"prototype":{"admin":true}}}'),
    Buffer.from(`{"ids":${'['.repeat(5000)}${']'.repeat(5000)}}`),
    Buffer.from('{"ids":[1,2,3]}'),
    Buffer.from('{"ids":["9999999999999999999"]}'),
    Buffer.alloc(70_000, 0x20), // over the 64 KiB body limit
  ),
);

// ---- checks -------------------------------------------------------------------------------

/** A reply is documented: not a 5xx, a catalog status, and an error body's code with its status. */
export function assertDocumentedReply(reply: RawReply, what: string): void {
  assert.ok(reply.status !== undefined, `${what}: no reply (${JSON.stringify(reply.raw)})`);
  assert.ok(reply.status < 500, `${what}: ${reply.status} ${reply.body}`);
  assert.ok(
    DOCUMENTED_STATUSES.has(reply.status),
    `${what}: undocumented status ${reply.status} ${reply.body}`,
  );
  if (reply.status >= 400 && (reply.headers['content-type'] ?? '').includes('json')) {
    const code = (JSON.parse(reply.body) as { error?: { code?: string } }).error?.code;
    assert.ok(code !== undefined && code in errorCatalog, `${what}: error code ${code} not in the catalog`);
    assert.equal(errorCatalog[code as keyof typeof errorCatalog].status, reply.status, `${what}: ${code}`);
  }
}

/** The server still answers another client over HTTP. */
export async function assertStillServing(what: string): Promise<void> {
  const reply = await rawHttp(
    session.port,
    rawRequest('GET /api/v1/users/me/notifications/unread-count HTTP/1.1', [
      ['Host', '127.0.0.1'],
      ['Authorization', `Bearer ${session.userToken}`],
    ]),
  );
  assert.equal(reply.status, 200, `after ${what}: ${reply.status} ${JSON.stringify(reply.raw)}`);
}

export const show = (bytes: Buffer): string => JSON.stringify(bytes.toString('latin1').slice(0, 300));

/**
 * Sends a request. A well-formed one must get a documented reply; a malformed one may get none
 * (then it is dropped after a short wait rather than the server's 10 s idle timeout).
 */
export async function exchange(request: Buffer, { malformed }: { malformed: boolean }): Promise<void> {
  const what = show(request);
  let reply: RawReply | undefined;
  try {
    reply = await rawHttp(session.port, request, { timeoutMs: malformed ? 300 : 10_000 });
  } catch (error) {
    if (!malformed) throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  }
  if (reply && (reply.status !== undefined || !malformed)) assertDocumentedReply(reply, what);
  await assertStillServing(what);
}

export const request = (
  method: string,
  path: Buffer,
  headers: Array<[string, Buffer | string]>,
  payload: Buffer | undefined,
): Buffer =>
  rawRequest(
    Buffer.concat([Buffer.from(`${method} `), path, Buffer.from(' HTTP/1.1')]),
    [
      ['Host', '127.0.0.1'],
      ...headers,
      ...(payload ? ([['Content-Length', String(payload.length)]] as Array<[string, string]>) : []),
    ],
    payload,
  );
