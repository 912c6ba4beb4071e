import { randomBytes, randomFillSync } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { io as ioClient } from 'socket.io-client';
import WebSocket from 'ws';
import type { ServerKind } from './shared.js';

/**
 * The push bench's client sockets: a raw one (a TCP socket, the HTTP upgrade, a frame parser that
 * only looks at what it needs) and the library ones (`ws`, `socket.io-client`).
 */

export interface Connection {
  close(): void;
}

export interface Handlers {
  ready(): void;
  fail(error: Error): void;
  notification(sentAt: number): void;
  closed(): void;
}

const HOST = '127.0.0.1';
const NOTIFICATION_PREFIX = Buffer.from('{"type":"notification"');
const SOCKET_IO_NOTIFICATION_PREFIX = Buffer.from('42["notification"');
const SENT_AT = Buffer.from('sentAt');

/** The `sentAt` number after `from` (skipping `":` and, in Socket.IO's escaped string, `\`), or NaN. */
function sentAtIn(bytes: Buffer, from: number, end: number): number {
  let index = bytes.indexOf(SENT_AT, from);
  if (index < 0 || index >= end) return NaN;
  index += SENT_AT.length;
  while (index < end && (bytes[index]! < 0x30 || bytes[index]! > 0x39)) index++;
  let value = 0;
  while (index < end && bytes[index]! >= 0x30 && bytes[index]! <= 0x39)
    value = value * 10 + bytes[index++]! - 0x30;
  if (bytes[index] === 0x2e) {
    let scale = 0.1;
    for (index++; index < end && bytes[index]! >= 0x30 && bytes[index]! <= 0x39; index++, scale /= 10)
      value += (bytes[index]! - 0x30) * scale;
  }
  return value;
}

const startsWith = (bytes: Buffer, start: number, end: number, prefix: Buffer): boolean =>
  end - start >= prefix.length && bytes.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0;

/** A masked client frame (RFC 6455 §5.3). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const header = payload.length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(header + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | payload.length;
  else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  }
  const mask = randomFillSync(frame.subarray(header, header + 4));
  for (let i = 0; i < payload.length; i++) frame[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/**
 * The raw client: an HTTP upgrade on a TCP socket, then a frame parser that only looks at what
 * it needs. Engine.IO's handshake (`0{…}` → `40{auth}` → `40{…}`) and pings (`2` → `3`) are
 * answered for Socket.IO.
 */
export function openRaw(kind: ServerKind, port: number, token: string, on: Handlers): Connection {
  const path =
    kind === 'socket.io'
      ? '/socket.io/?EIO=4&transport=websocket'
      : `/api/v1/ws/${encodeURIComponent(token)}`;
  const socket: Socket = tcpConnect({ host: HOST, port });
  socket.setNoDelay(true);
  let upgraded = false;
  let ready = false;
  let pending: Buffer | undefined;
  const sendText = (text: string): void => {
    socket.write(clientFrame(0x1, Buffer.from(text)));
  };
  const becomeReady = (): void => {
    if (ready) return;
    ready = true;
    on.ready();
  };

  const onText = (bytes: Buffer, start: number, end: number): void => {
    if (kind === 'socket.io') {
      if (startsWith(bytes, start, end, SOCKET_IO_NOTIFICATION_PREFIX)) {
        return on.notification(sentAtIn(bytes, start, end));
      }
      const text = bytes.toString('utf8', start, end);
      if (text === '2') return sendText('3');
      if (text.startsWith('0{')) return sendText(`40${JSON.stringify({ token })}`);
      if (text.startsWith('40')) return becomeReady();
      if (text.startsWith('44')) return on.fail(new Error(`Socket.IO refused the connection: ${text}`));
      return;
    }
    if (startsWith(bytes, start, end, NOTIFICATION_PREFIX))
      return on.notification(sentAtIn(bytes, start, end));
    // Our server's first frame is `unread_count`, sent once the session is open.
    becomeReady();
  };

  const onFrames = (chunk: Buffer): void => {
    const bytes = pending ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    while (bytes.length - offset >= 2) {
      const opcode = bytes[offset]! & 0x0f;
      let length = bytes[offset + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (bytes.length - offset < 4) break;
        length = bytes.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (bytes.length - offset < 10) break;
        length = Number(bytes.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (bytes.length - offset < header + length) break;
      const start = offset + header;
      const end = start + length;
      offset = end;
      if (opcode === 0x1) onText(bytes, start, end);
      else if (opcode === 0x9) socket.write(clientFrame(0xa, bytes.subarray(start, end)));
      else if (opcode === 0x8) socket.end();
    }
    pending = offset < bytes.length ? Buffer.from(bytes.subarray(offset)) : undefined;
  };

  socket.on('data', (chunk: Buffer) => {
    if (upgraded) return onFrames(chunk);
    const bytes = pending ? Buffer.concat([pending, chunk]) : chunk;
    const end = bytes.indexOf('\r\n\r\n');
    if (end < 0) {
      pending = bytes;
      return;
    }
    pending = undefined;
    const status = bytes.toString('latin1', 0, bytes.indexOf('\r\n'));
    if (!status.startsWith('HTTP/1.1 101')) {
      socket.destroy();
      return on.fail(new Error(`upgrade refused: ${status}`));
    }
    upgraded = true;
    if (kind === 'ws' || kind === 'uws') becomeReady();
    if (end + 4 < bytes.length) onFrames(bytes.subarray(end + 4));
  });
  socket.on('connect', () => {
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  socket.on('error', (error) => {
    if (!ready) on.fail(error);
  });
  socket.on('close', () => on.closed());
  return { close: () => socket.destroy() };
}

/** The library clients: `ws` for ours and the `ws` server, `socket.io-client` for Socket.IO. */
export function openLib(kind: ServerKind, port: number, token: string, on: Handlers): Connection {
  if (kind === 'socket.io') {
    const socket = ioClient(`http://${HOST}:${port}`, {
      transports: ['websocket'],
      auth: { token },
      forceNew: true,
      reconnection: false,
    });
    socket.on('connect', () => on.ready());
    socket.on('connect_error', (error) => on.fail(error));
    socket.on('disconnect', () => on.closed());
    socket.on('notification', (frame: string) => {
      const at = frame.indexOf('"sentAt":');
      on.notification(at < 0 ? NaN : parseFloat(frame.slice(at + 9)));
    });
    return { close: () => socket.disconnect() };
  }
  const ws = new WebSocket(`ws://${HOST}:${port}/api/v1/ws/${encodeURIComponent(token)}`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  let ready = false;
  const becomeReady = (): void => {
    if (ready) return;
    ready = true;
    on.ready();
  };
  if (kind === 'ws' || kind === 'uws') ws.on('open', becomeReady);
  ws.on('message', (data: Buffer) => {
    if (startsWith(data, 0, data.length, NOTIFICATION_PREFIX))
      return on.notification(sentAtIn(data, 0, data.length));
    becomeReady();
  });
  ws.on('error', (error) => {
    if (!ready) on.fail(error);
  });
  ws.on('close', () => on.closed());
  return { close: () => ws.terminate() };
}
