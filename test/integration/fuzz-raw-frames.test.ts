import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { loadConfig } from '../../config/config.js';
import { errorCatalog } from '../../server/errors.js';
import { serverMessage } from '../../server/protocol/messages.js';
import { transportMaxPayloadBytes } from '../../server/ws/websocket-routes.js';
import { SEED, settings, startRawFuzzTarget } from '../support/fuzz-raw.js';
import type { FuzzTarget } from '../support/fuzz-target.js';
import { openSocket, type TestSocket } from '../support/notify-server.js';

/**
 * The raw WebSocket frame fuzzer, against a real server (real Temporal and PostgreSQL): frames on
 * an authenticated socket (text, binary, huge, truncated UTF-8, deep JSON, `__proto__` and
 * `constructor` keys, unknown types, numbers as strings).
 *
 * Checked on every case: every close code is the catalog's (server/errors.ts) or 1000/1001/1009;
 * every frame the server sends is a documented ServerMessage, its error codes the catalog's; and
 * the server still delivers to another user's socket afterwards. HTTP requests and upgrades:
 * test/integration/fuzz-raw-http.test.ts.
 *
 * Seeded: FC_SEED replays or explores; FUZZ_LONG=1 (or FUZZ_RUNS) runs 20 times more cases.
 */

/** Close codes a socket may end with: the catalog's, and normal closure, going away, too big. */
const DOCUMENTED_CLOSE_CODES = new Set([
  1000,
  1001,
  1009,
  ...Object.values(errorCatalog).map((entry) => entry.closeCode),
]);

let target: FuzzTarget;
/** Another user's socket: it must get a fresh notification after every WebSocket case. */
let bystander: TestSocket;

before(async () => {
  target = await startRawFuzzTarget();
  const { harness } = target;
  bystander = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token('bystander')}`);
});
after(async () => {
  bystander?.ws.terminate();
  await target?.close();
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
