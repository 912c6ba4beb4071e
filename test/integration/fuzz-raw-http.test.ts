import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { errorCatalog } from '../../server/errors.js';
import { rawHttp, rawRequest, type RawReply } from '../support/fuzz-http.js';
import { routePath, segment } from '../support/fuzz-paths.js';
import { SEED, settings, startRawFuzzTarget } from '../support/fuzz-raw.js';
import type { FuzzTarget } from '../support/fuzz-target.js';

/**
 * The raw HTTP fuzzer: what the OpenAPI document does not describe, against a real server
 * (real Temporal and PostgreSQL). Paths with arbitrary percent-escapes and bytes on every route
 * pattern (GET, POST, PUT), arbitrary headers (Authorization garbage, huge and many headers), and
 * WebSocket upgrades with any token, protocol header or lastId.
 *
 * Checked on every case: no 5xx; every status and error code is one of server/errors.ts's catalog
 * (with its status); and the server keeps serving another client afterwards.
 * A request that is not HTTP/1.1 (bytes RFC 9112 forbids in the request line or a header, an
 * unparseable length) may get no reply: uWebSockets.js holds such a connection until its idle
 * timeout, then closes it. The frames on an open socket: test/integration/fuzz-raw-frames.test.ts.
 *
 * Seeded: FC_SEED replays or explores; FUZZ_LONG=1 (or FUZZ_RUNS) runs 20 times more cases.
 */

/** Statuses a reply may have: the catalog's, and the successes the routes document. */
const DOCUMENTED_STATUSES = new Set([
  200,
  202,
  304,
  ...Object.values(errorCatalog).map((entry) => entry.status),
]);

const USER = 'fuzz-user';
let target: FuzzTarget;
let port: number;
let userToken: string;
let serviceToken: string;

before(async () => {
  target = await startRawFuzzTarget();
  const { harness } = target;
  port = harness.server.port;
  userToken = await harness.token(USER);
  serviceToken = await harness.token('normx-backend', { service: true });
  await harness.notify(USER, 'Fuzz');
});
after(async () => {
  await target?.close();
});

// ---- generators (the paths: test/support/fuzz-paths.ts) -----------------------------------

type Auth = { kind: 'valid'; header: () => string } | { kind: 'garbage'; header: string };
const jwtPart = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64url'));
/** Authorization values that are valid HTTP field values (visible ASCII and spaces). */
const authorization: fc.Arbitrary<Auth | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant<Auth>({ kind: 'valid', header: () => `Bearer ${userToken}` }),
  fc.constant<Auth>({ kind: 'valid', header: () => `Bearer ${serviceToken}` }),
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
const body = fc.oneof(
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
function assertDocumentedReply(reply: RawReply, what: string): void {
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
async function assertStillServing(what: string): Promise<void> {
  const reply = await rawHttp(
    port,
    rawRequest('GET /api/v1/users/me/notifications/unread-count HTTP/1.1', [
      ['Host', '127.0.0.1'],
      ['Authorization', `Bearer ${userToken}`],
    ]),
  );
  assert.equal(reply.status, 200, `after ${what}: ${reply.status} ${JSON.stringify(reply.raw)}`);
}

const show = (bytes: Buffer): string => JSON.stringify(bytes.toString('latin1').slice(0, 300));

/**
 * Sends a request. A well-formed one must get a documented reply; a malformed one may get none
 * (then it is dropped after a short wait rather than the server's 10 s idle timeout).
 */
async function exchange(request: Buffer, { malformed }: { malformed: boolean }): Promise<void> {
  const what = show(request);
  let reply: RawReply | undefined;
  try {
    reply = await rawHttp(port, request, { timeoutMs: malformed ? 300 : 10_000 });
  } catch (error) {
    if (!malformed) throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  }
  if (reply && (reply.status !== undefined || !malformed)) assertDocumentedReply(reply, what);
  await assertStillServing(what);
}

const request = (
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

// ---- HTTP ---------------------------------------------------------------------------------

describe(`raw HTTP fuzzing (seed ${SEED})`, () => {
  it('any route, any percent-escape or high byte in the path, GET/POST/PUT, any body: a documented reply', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT'),
        routePath,
        authorization,
        body,
        async (method, path, auth, payload) => {
          const header = auth ? (auth.kind === 'valid' ? auth.header() : auth.header) : undefined;
          await exchange(
            request(
              method,
              Buffer.from(path, 'latin1'),
              header === undefined ? [] : [['Authorization', header]],
              payload,
            ),
            { malformed: false },
          );
        },
      ),
      settings(300),
    );
  });

  it('bytes HTTP/1.1 forbids in a path or a header: a documented reply or none, and the server still serves', async () => {
    const forbidden = fc.oneof(fc.integer({ min: 0, max: 0x20 }), fc.constant(0x7f));
    await fc.assert(
      fc.asyncProperty(
        routePath,
        forbidden,
        fc.nat(),
        fc.constantFrom('path', 'authorization', 'header-name'),
        async (path, byte, at, where) => {
          const bad = String.fromCharCode(byte);
          const cut = at % (path.length + 1);
          const raw =
            where === 'path'
              ? request(
                  'GET',
                  Buffer.from(`${path.slice(0, cut)}${bad}${path.slice(cut)}`, 'latin1'),
                  [],
                  undefined,
                )
              : request(
                  'GET',
                  Buffer.from(path, 'latin1'),
                  where === 'authorization'
                    ? [['Authorization', `Bearer ${userToken.slice(0, 10)}${bad}${userToken.slice(10)}`]]
                    : [[`X-Fuzz${bad}Name`, 'value']],
                  undefined,
                );
          await exchange(raw, { malformed: true });
        },
      ),
      settings(60),
    );
  });

  it('huge and many headers, odd framing: a documented reply or none, and the server still serves', async () => {
    const cases: Array<[string, Buffer, { malformed: boolean }]> = [];
    const path = Buffer.from('/api/v1/users/me/notifications');
    const auth: [string, string] = ['Authorization', `Bearer ${userToken}`];
    for (const size of [4_000, 16_000, 64_000, 1_000_000]) {
      // Over uWebSockets.js's header buffer (4 KiB by default), a request is dropped unanswered.
      cases.push([
        `a ${size}-byte header`,
        request('GET', path, [auth, ['X-Big', 'a'.repeat(size)]], undefined),
        { malformed: size > 4_000 },
      ]);
      cases.push([
        `a ${size}-byte token`,
        request('GET', path, [['Authorization', `Bearer ${'a'.repeat(size)}`]], undefined),
        { malformed: size > 4_000 },
      ]);
    }
    for (const count of [40, 200]) {
      const many = Array.from({ length: count }, (_, index) => [`X-H${index}`, 'v'] as [string, string]);
      cases.push([
        `${count} headers`,
        request('GET', path, [auth, ...many], undefined),
        { malformed: count > 40 },
      ]);
    }
    const read = Buffer.from('/api/v1/users/me/notifications/read');
    const json = Buffer.from('{"ids":["1"]}');
    const post = (headers: Array<[string, string]>, payload: Buffer): Buffer =>
      rawRequest(
        Buffer.concat([Buffer.from('POST '), read, Buffer.from(' HTTP/1.1')]),
        [['Host', 'x'], auth, ...headers],
        payload,
      );
    cases.push([
      'two Authorization headers',
      request('GET', path, [auth, ['Authorization', 'Bearer x']], undefined),
      { malformed: false },
    ]);
    cases.push([
      'chunked body',
      post(
        [['Transfer-Encoding', 'chunked']],
        Buffer.from(`${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`),
      ),
      { malformed: false },
    ]);
    cases.push([
      'bad chunk size',
      post([['Transfer-Encoding', 'chunked']], Buffer.from('zz\r\n{}\r\n0\r\n\r\n')),
      { malformed: true },
    ]);
    cases.push(['non-numeric Content-Length', post([['Content-Length', 'abc']], json), { malformed: true }]);
    cases.push([
      'two Content-Lengths',
      post(
        [
          ['Content-Length', String(json.length)],
          ['Content-Length', '1'],
        ],
        json,
      ),
      { malformed: true },
    ]);
    cases.push([
      'Content-Type not JSON',
      post(
        [
          ['Content-Type', 'text/plain'],
          ['Content-Length', String(json.length)],
        ],
        json,
      ),
      { malformed: false },
    ]);
    cases.push([
      'HTTP/1.0',
      rawRequest('GET /api/v1/openapi.json HTTP/1.0', [['Host', 'x']]),
      { malformed: true },
    ]);
    cases.push(['no Host', rawRequest('GET /api/v1/openapi.json HTTP/1.1', []), { malformed: true }]);
    cases.push([
      'unknown method',
      rawRequest('QUERY /api/v1/openapi.json HTTP/1.1', [['Host', 'x']]),
      { malformed: true },
    ]);
    for (const method of ['DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'HEAD']) {
      cases.push([
        method,
        rawRequest(`${method} /api/v1/dossiers/x HTTP/1.1`, [['Host', 'x'], auth]),
        { malformed: false },
      ]);
    }
    for (const [what, raw, options] of cases) {
      await assert.doesNotReject(exchange(raw, options), what);
    }
  });

  it('WebSocket upgrades with any token, protocol header or lastId: 101 or a documented refusal', async () => {
    const token = fc.oneof(
      segment,
      fc.constant(undefined).map(() => userToken),
      fc.constant(undefined).map(() => serviceToken),
      fc.tuple(jwtPart, jwtPart, jwtPart).map((parts) => parts.join('.')),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        token,
        fc.array(
          fc.oneof(
            fc.constant('normx-notify'),
            segment.filter((text) => /^[\x21-\x7e]+$/.test(text)),
          ),
          { maxLength: 3 },
        ),
        fc.oneof(
          fc.constant(''),
          segment.map((text) => `?lastId=${text}`),
          fc.constantFrom('?lastId=9223372036854775807', '?lastId=9223372036854775808'),
        ),
        async (inPath, tokenText, protocols, query) => {
          const path = inPath ? `/api/v1/ws/${tokenText}${query}` : `/api/v1/ws${query}`;
          const offered = inPath ? protocols : [...protocols, tokenText.replace(/[^\x21-\x7e]/g, '')];
          const raw = request(
            'GET',
            Buffer.from(path, 'latin1'),
            [
              ['Upgrade', 'websocket'],
              ['Connection', 'Upgrade'],
              ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
              ['Sec-WebSocket-Version', '13'],
              ...(offered.length > 0
                ? ([['Sec-WebSocket-Protocol', offered.join(', ')]] as Array<[string, string]>)
                : []),
            ],
            undefined,
          );
          const reply = await rawHttp(port, raw, { timeoutMs: 10_000 });
          if (reply.status !== 101) assertDocumentedReply(reply, show(raw));
          await assertStillServing(show(raw));
        },
      ),
      settings(150),
    );
  });
});
