import { connect } from 'node:net';

/**
 * A raw HTTP/1.1 exchange over a TCP socket: the request goes out byte for byte as given (Node's
 * HTTP client refuses the bytes a fuzzer wants to send in a path or a header), the reply is parsed
 * just enough to judge it: status, headers, body.
 */
export interface RawReply {
  /** Undefined when the server closed the connection without a reply. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** The raw bytes received (for a failure message), cut at 2 KB. */
  raw: string;
}

export function rawHttp(port: number, request: Buffer, { timeoutMs = 5000 } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) return reject(error);
      resolve(parseReply(Buffer.concat(chunks)));
    };
    const timer = setTimeout(
      () => finish(new Error(`no reply and no close within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (replyComplete(Buffer.concat(chunks))) finish();
    });
    // A reset (the server refusing the request outright) counts as a close without a reply.
    socket.on('error', () => finish());
    socket.on('close', () => finish());
    socket.write(request);
  });
}

function replyComplete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, end).toString('latin1'))?.[1];
  // Without a length (a 101 upgrade, or a body up to the close), wait for the close... except a 101.
  if (length === undefined) return /^HTTP\/1\.1 101/.test(data.toString('latin1', 0, 12));
  return data.length >= end + 4 + Number(length);
}

function parseReply(data: Buffer): RawReply {
  const raw = data.toString('latin1', 0, 2048);
  const end = data.indexOf('\r\n\r\n');
  const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  if (!statusMatch || end < 0) return { status: undefined, headers: {}, body: '', raw };
  const headers: Record<string, string> = {};
  for (const line of data.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusMatch[1]), headers, body: data.subarray(end + 4).toString('utf8'), raw };
}

/** Builds a request: `head` lines joined by CRLF, a blank line, then the body. */
export function rawRequest(
  requestLine: Buffer | string,
  headers: Array<[string, Buffer | string]>,
  body?: Buffer,
): Buffer {
  const parts: Buffer[] = [
    typeof requestLine === 'string' ? Buffer.from(requestLine, 'latin1') : requestLine,
    Buffer.from('\r\n'),
  ];
  for (const [name, value] of headers) {
    parts.push(
      Buffer.from(`${name}: `, 'latin1'),
      typeof value === 'string' ? Buffer.from(value, 'latin1') : value,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from('\r\n'));
  if (body) parts.push(body);
  return Buffer.concat(parts);
}
