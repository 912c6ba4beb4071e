import { loadConfig } from '../../config/config.js';
import { transportMaxPayloadBytes } from '../../server/ws/websocket-routes.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { errorCatalog } from '../../server/errors.js';
import { serverMessage } from '../../server/protocol/messages.js';
import { rawHttp, rawRequest, type RawReply } from '../support/fuzz-http.js';
import { startFuzzTarget, type FuzzTarget } from '../support/fuzz-target.js';
import { openSocket, type TestSocket } from '../support/notify-server.js';

/**
 * The raw fuzzer: what the OpenAPI document does not describe, against a real server
 * (real Temporal and PostgreSQL). Paths with arbitrary percent-escapes and bytes on every route
 * pattern (GET, POST, PUT), arbitrary headers (Authorization garbage, huge and many headers),
 * WebSocket upgrades, and frames on an authenticated socket (text, binary, huge, truncated UTF-8,
 * deep JSON, `__proto__` and `constructor` keys, unknown types, numbers as strings).
 *
 * Checked on every case: no 5xx; every status and error code is one of server/errors.ts's catalog
 * (with its status); every close code is the catalog's or 1000/1001/1009; every frame the server
 * sends is a documented ServerMessage; and the server keeps serving another client afterwards.
 * A request that is not HTTP/1.1 (bytes RFC 9112 forbids in the request line or a header, an
 * unparseable length) may get no reply: uWebSockets.js holds such a connection until its idle
 * timeout, then closes it.
 *
 * Seeded: FC_SEED replays or explores; FUZZ_LONG=1 (or FUZZ_RUNS) runs 20 times more cases.
 */

const SEED = Number(process.env.FC_SEED ?? 20261202);
const SCALE = Number(process.env.FUZZ_RUNS ?? (process.env.FUZZ_LONG === '1' ? 20 : 1));
const runs = (count: number): number => Math.max(1, Math.round(count * SCALE));
const settings = (numRuns: number) => ({ seed: SEED, numRuns: runs(numRuns), endOnFailure: true });

/** Every route pattern the server registers (server/http/rest-routes.ts, static and socket routes). */
const ROUTES = [
  '/api/v1/users/:p/notifications',
  '/api/v1/users/:p/notifications/unread-count',
  '/api/v1/users/:p/notifications/read',
  '/api/v1/users/:p/notifications/read-all',
  '/api/v1/users/:p/profile',
  '/api/v1/dossiers',
  '/api/v1/dossiers/bulk',
  '/api/v1/dossiers/:p',
  '/api/v1/dossiers/:p/complete',
  '/api/v1/dossiers/:p/cancel',
  '/api/v1/dossiers/:p/reopen',
  '/api/v1/dossiers/:p/reschedule',
  '/api/v1/dossiers/:p/urgent',
  '/api/v1/dossiers/:p/assign',
  '/api/v1/dossiers/:p/plan',
  '/api/v1/openapi.json',
  '/api/v1/ws/:p',
  '/api/v1/ws',
  '/',
  '/assets/:p',
];

/** Statuses a reply may have: the catalog's, and the successes the routes document. */
const DOCUMENTED_STATUSES = new Set([
  200,
  202,
  304,
  ...Object.values(errorCatalog).map((entry) => entry.status),
]);
const DOCUMENTED_CLOSE_CODES = new Set([
  1000,
  1001,
  1009,
  ...Object.values(errorCatalog).map((entry) => entry.closeCode),
]);

const USER = 'fuzz-user';
let target: FuzzTarget;
let port: number;
let userToken: string;
let serviceToken: string;
/** Another user's socket: it must get a fresh notification after every WebSocket case. */
let bystander: TestSocket;

before(async () => {
  target = await startFuzzTarget({
    // The fuzzer opens hundreds of sockets from 127.0.0.1: the per-address upgrade cap is not under test.
    env: { WS_UPGRADES_PER_SECOND_PER_ADDRESS: '0' },
  });
  const { harness } = target;
  port = harness.server.port;
  userToken = await harness.token(USER);
  serviceToken = await harness.token('normx-backend', { service: true });
  await harness.notify(USER, 'Fuzz');
  bystander = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token('bystander')}`);
});
after(async () => {
  bystander?.ws.terminate();
  await target?.close();
});

// ---- generators ---------------------------------------------------------------------------

const hex = (byte: number, upper: boolean): string => {
  const text = byte.toString(16).padStart(2, '0');
  return upper ? text.toUpperCase() : text;
};
const PCHAR = [..."abcXYZ019-._~!$&'()*+,;=:@"];
/** A piece of a path segment that HTTP/1.1 allows: plain characters, escapes of any byte, bad escapes. */
const segmentPiece = fc.oneof(
  fc.constantFrom(...PCHAR),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([byte, upper]) => `%${hex(byte, upper)}`),
  fc.constantFrom('%', '%F', '%G1', '%%', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%F4%90%80%80', '%00', '%FF'),
  fc.constantFrom('me', 'fuzz-user', 'fuzz-dossier', '9223372036854775808', '..', '.'),
  // Bytes above 0x7F, unescaped: not allowed by RFC 3986, but uWebSockets.js takes them.
  fc.integer({ min: 0x80, max: 0xff }).map((byte) => String.fromCharCode(byte)),
);
const segment = fc.array(segmentPiece, { minLength: 0, maxLength: 12 }).map((pieces) => pieces.join(''));
const queryString = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(segment, segment), { maxLength: 4 })
    .map((pairs) => `?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`),
  fc.constantFrom('?before=9999999999999999999', '?limit=0', '?limit=1e400', '?lastId=-1', '?unread=%FF'),
);
/** A path on one of the route patterns: each parameter replaced, sometimes a segment more or less. */
const routePath = fc
  .tuple(
    fc.constantFrom(...ROUTES),
    fc.array(segment, { minLength: 2, maxLength: 2 }),
    fc.constantFrom('', '/', '//', '/extra'),
    queryString,
  )
  .map(([route, [first, second], suffix, query]) => {
    let index = 0;
    const path = route.replace(/:p/g, () => (index++ === 0 ? first! : second!));
    return `${path}${suffix}${query}`;
  });

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

// ---- WebSocket frames ---------------------------------------------------------------------

interface FrameCase {
  frames: Array<{ data: Buffer | string; binary?: boolean }>;
  /** A text frame whose bytes are not UTF-8: RFC 6455 §8.1 fails the connection (no close frame). */
  invalidUtf8?: boolean;
}

const protocolValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('0', '9223372036854775807', '9223372036854775808', '-1', '1e3', ' 1'),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constantFrom('1', '9999999999999999999')), {
    maxLength: 5,
  }),
);
/** Messages shaped like the protocol's, with wrong, missing, extra or dangerous fields. */
const protocolLike = fc
  .record(
    {
      type: fc.oneof(
        fc.constantFrom('resume', 'mark_read', 'mark_all_read', 'refresh_token'),
        fc.string(),
        fc.constantFrom('__proto__', 'constructor', 'toString', 'RESUME', 'notification'),
      ),
      lastId: protocolValue,
      ids: protocolValue,
      token: protocolValue,
    },
    { requiredKeys: ['type'] },
  )
  .map((message) => JSON.stringify(message));
const dangerous = fc.constantFrom(
  '{"__proto__":{"type":"resume","lastId":"0"}}',
  '{"type":"mark_all_read","__proto__":{"polluted":true}}',
  '{"type":"resume","lastId":"0","constructor":{"prototype":{"polluted":true}}}',
  '{"type":"mark_read","ids":{"length":1,"0":"1"}}',
  '{"type":"resume","lastId":5}',
  '{"type":"refresh_token","token":1}',
  '{"type":"refresh_token","token":"a.b.c"}',
  '{"type":"resume","lastId":"9223372036854775807"}',
  '{"type":"mark_read","ids":["9999999999999999999"]}',
  'null',
  '[]',
  '"resume"',
  '',
);
const deepJson = fc
  .tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, inIds]) => {
    const close = open === '[' ? ']' : '}';
    const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
    return inIds ? `{"type":"mark_read","ids":${nested}}` : nested;
  });
const textFrame = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.json(),
  protocolLike,
  dangerous,
  deepJson,
);
const frameCase: fc.Arbitrary<FrameCase> = fc.oneof(
  fc
    .array(textFrame, { minLength: 1, maxLength: 4 })
    .map((texts) => ({ frames: texts.map((data) => ({ data })) })),
  fc
    .uint8Array({ maxLength: 512 })
    .map((bytes) => ({ frames: [{ data: Buffer.from(bytes), binary: true }] })),
  fc
    .tuple(fc.constantFrom(16_384, 16_385, 65_536, 200_000, 1_048_576), fc.boolean())
    .map(([size, binary]) => ({ frames: [{ data: Buffer.alloc(size, 0x61), binary }] })),
  // Text cut inside a multi-byte character (é is C3 A9, € is E2 82 AC, 𝄞 is F0 9D 84 9E).
  fc.tuple(fc.constantFrom('{"type":"é', '€', '𝄞'), fc.integer({ min: 1, max: 3 })).map(([text, cut]) => {
    const bytes = Buffer.from(text);
    return {
      frames: [{ data: bytes.subarray(0, bytes.length - Math.min(cut, bytes.length - 1)) }],
      invalidUtf8: true,
    };
  }),
);

/** Opens a socket for a fresh user, sends the frames, then a probe that a live session answers. */
async function runFrameCase(caseNumber: number, fuzz: FrameCase): Promise<void> {
  const { harness } = target;
  const user = `fuzz-ws-${caseNumber}`;
  const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}`);
  const raw: string[] = [];
  socket.ws.on('message', (data: Buffer) => raw.push(data.toString()));
  const what = JSON.stringify(
    fuzz.frames.map((frame) => ({ ...frame, data: frame.data.toString().slice(0, 120) })),
  );
  try {
    for (const frame of fuzz.frames) socket.ws.send(frame.data, { binary: frame.binary ?? false });
    const probe = () =>
      socket.messages.some((message) => message.type === 'resumed') ||
      socket.ws.readyState === WebSocket.CLOSED ||
      socket.ws.readyState === WebSocket.CLOSING;
    if (socket.ws.readyState === WebSocket.OPEN) socket.send({ type: 'resume', lastId: '0' });
    await socket.waitFor(`${what}: the probe's reply or a close`, probe, 10_000);
    const closed = await Promise.race([
      socket.closed,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50)),
    ]);
    if (closed) {
      // Past the transport's bound uWebSockets.js drops the connection (1006, documented).
      const overTransport = fuzz.frames.some(
        (frame) => frame.data.length > transportMaxPayloadBytes(loadConfig({}).server.maxPayloadBytes),
      );
      const allowed =
        fuzz.invalidUtf8 || overTransport
          ? closed.code === 1006 || closed.code === 1007 || DOCUMENTED_CLOSE_CODES.has(closed.code)
          : DOCUMENTED_CLOSE_CODES.has(closed.code);
      assert.ok(allowed, `${what}: closed with ${closed.code} ${closed.reason}`);
    }
    for (const text of raw) {
      const parsed = serverMessage.safeParse(JSON.parse(text));
      assert.ok(parsed.success, `${what}: an undocumented frame ${text}`);
      if (parsed.data.type === 'error') {
        assert.ok(
          parsed.data.code in errorCatalog,
          `${what}: error code ${parsed.data.code} not in the catalog`,
        );
      }
    }
  } finally {
    socket.ws.terminate();
  }
  // The server still delivers to another user.
  const id = await harness.notify('bystander');
  await bystander.waitFor(
    `${what}: the bystander's notification ${id}`,
    () => bystander.ids().includes(id),
    10_000,
  );
}

describe(`WebSocket frame fuzzing (seed ${SEED})`, () => {
  it('text, binary, huge, truncated UTF-8, deep JSON, __proto__, unknown types: documented replies and close codes', async () => {
    let caseNumber = 0;
    await fc.assert(
      fc.asyncProperty(frameCase, (fuzz) => runFrameCase((caseNumber += 1), fuzz)),
      settings(150),
    );
  });
});
