import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { rawHttp, rawRequest } from '../support/fuzz-http.js';
import {
  assertDocumentedReply,
  assertStillServing,
  authorization,
  body,
  exchange,
  jwtPart,
  request,
  session,
  show,
} from '../support/fuzz-raw-http-kit.js';
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

const USER = 'fuzz-user';
let target: FuzzTarget;

before(async () => {
  target = await startRawFuzzTarget();
  const { harness } = target;
  session.port = harness.server.port;
  session.userToken = await harness.token(USER);
  session.serviceToken = await harness.token('normx-backend', { service: true });
  await harness.notify(USER, 'Fuzz');
});
after(async () => {
  await target?.close();
});

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
                    ? [
                        [
                          'Authorization',
                          `Bearer ${session.userToken.slice(0, 10)}${bad}${session.userToken.slice(10)}`,
                        ],
                      ]
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
    const auth: [string, string] = ['Authorization', `Bearer ${session.userToken}`];
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
      fc.constant(undefined).map(() => session.userToken),
      fc.constant(undefined).map(() => session.serviceToken),
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
          const reply = await rawHttp(session.port, raw, { timeoutMs: 10_000 });
          if (reply.status !== 101) assertDocumentedReply(reply, show(raw));
          await assertStillServing(show(raw));
        },
      ),
      settings(150),
    );
  });
});
