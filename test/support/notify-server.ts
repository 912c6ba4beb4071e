import { randomBytes } from 'node:crypto';
import { request as httpClientRequest, type IncomingMessage } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { storeNotification } from '../../activities/notification-store.js';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';
import { startNotifyServer, type NotifyServer } from '../../server/notify-server.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { waitFor } from './wait.js';

export const TEST_SECRET = 'test-secret-of-at-least-32-bytes-long!!';

/** What `notify` may set besides the title (an urgent `new_alert` by default). */
export type NotificationFields = Partial<
  Pick<Parameters<typeof storeNotification>[1], 'type' | 'kind' | 'dossierId' | 'body' | 'data'>
>;

export interface ServerHarness {
  db: TestDatabase;
  server: NotifyServer;
  url: string;
  wsUrl: string;
  /** The internal port: /healthz and /metrics. */
  internalUrl: string;
  /** An HS256 token for a user (or the service, with `service: true`). */
  token(subject: string, options?: { service?: boolean; expiresInSeconds?: number }): Promise<string>;
  /** Stores a notification the way the worker does (idempotent insert + NOTIFY). */
  notify(userId: string, title?: string, fields?: NotificationFields): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real server on a free loopback port against a fresh database. Temporal is only needed by
 * the dossier routes: pass `temporal`, or the client points nowhere (health reports it down).
 * Pass `db` to share an existing database (e.g. a reminder engine's): it is then not dropped.
 * Pass `port` to listen on a given port (a restart on the port of a server just shut down), and
 * `webDir` to serve a bell page built elsewhere than `web/dist`.
 */
export async function startServerHarness(
  options: {
    env?: NodeJS.ProcessEnv;
    temporal?: { client: Client; taskQueue: string };
    db?: TestDatabase;
    feed?: Parameters<typeof startNotifyServer>[0]['feed'];
    port?: number;
    webDir?: string;
    /** A verifier of the test's own (e.g. one that counts its calls); by default the config's. */
    verifier?: Parameters<typeof startNotifyServer>[0]['verifier'];
  } = {},
): Promise<ServerHarness> {
  const db = options.db ?? (await createTestDatabase());
  const ownsDatabase = options.db === undefined;
  const config = loadConfig({
    JWT_HS256_SECRET: TEST_SECRET,
    SERVER_HOST: '127.0.0.1',
    SERVER_PORT: '1',
    ...options.env,
  });
  const temporal = options.temporal ?? {
    client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    taskQueue: 'unused',
  };
  const server = await startNotifyServer({
    config: { ...config.server, port: options.port ?? 0, internal: { host: '127.0.0.1', port: 0 } },
    databaseUrl: db.url,
    orm: db.orm,
    temporal,
    // Errors only by default: none is expected, and one explains a failure (TEST_LOG_LEVEL for more).
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'error'),
    feed: options.feed,
    webDir: options.webDir,
    verifier: options.verifier,
  });
  const secret = new TextEncoder().encode(TEST_SECRET);
  return {
    db,
    server,
    url: `http://127.0.0.1:${server.port}`,
    wsUrl: `ws://127.0.0.1:${server.port}`,
    internalUrl: `http://127.0.0.1:${server.internalPort}`,
    token: (subject, { service = false, expiresInSeconds = 3600 } = {}) =>
      new SignJWT({ ...(service && { scope: 'notify:service' }) })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(subject)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
        .sign(secret),
    async notify(userId, title = `Notification ${randomBytes(3).toString('hex')}`, fields = {}) {
      await db.query('insert into users (id) values ($1) on conflict do nothing', [userId]);
      const stored = await storeNotification(db.orm.em.fork(), {
        idempotencyKey: randomBytes(8).toString('hex'),
        userId,
        type: 'new_alert',
        kind: 'urgent',
        dossierId: null,
        title,
        body: `${title} body`,
        data: {},
        scheduledFor: null,
        ...fields,
      });
      // A fresh random key is never retired (only the retention retires keys, of removed rows).
      if (stored.id === null) throw new Error('notify: a fresh key answered as retired');
      return stored.id;
    },
    async close() {
      await server.shutdown();
      if (ownsDatabase) await db.drop();
    },
  };
}

export { freePort } from './free-port.js';

/** A real WebSocket client that records every frame it receives. */
export interface TestSocket {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  /** Notification ids received, in order. */
  ids(): string[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  waitFor<T>(
    description: string,
    probe: (messages: Array<Record<string, unknown>>) => T | undefined | false,
    timeoutMs?: number,
  ): Promise<T>;
}

export async function openSocket(url: string, protocols?: string[]): Promise<TestSocket> {
  return connectSocket(url, protocols);
}

/** `openSocket` with extra upgrade request headers (e.g. `Origin`). */
export async function connectSocket(
  url: string,
  protocols?: string[],
  headers?: Record<string, string>,
): Promise<TestSocket> {
  const ws = new WebSocket(url, protocols, { headers });
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  return {
    ws,
    messages,
    closed,
    ids: () =>
      messages
        .filter((message) => message.type === 'notification')
        .map((message) => (message.notification as { id: string }).id),
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    waitFor: (description, probe, timeoutMs = 5000) =>
      waitFor(description, () => probe(messages), { timeoutMs, intervalMs: 5 }).catch((error: Error) => {
        // What did come, and the socket's state, say why what was awaited did not.
        const received = messages.map((message) => JSON.stringify(message).slice(0, 200)).join(', ');
        throw new Error(`${error.message}; readyState ${ws.readyState}; received: [${received}]`, {
          cause: error,
        });
      }),
  };
}

/** Tries to open a socket that the server should refuse; returns the HTTP status and JSON body. */
export function refusedUpgrade(
  url: string,
  protocols?: string[],
  headers?: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_request, response) => {
      // With this listener, ws leaves the connection open until the server's idle timeout
      // (which keeps the test process alive ~10 s): close it once the body is read.
      const socket = response.socket;
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        socket.destroy();
        resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    ws.once('error', () => undefined);
  });
}

/**
 * A JSON reply, typed loosely for assertions: the error body's fields, a page's items, or any
 * other field of the route's reply (as unknown). Tests check the status before reading it.
 */
export interface ReplyJson {
  error: { code: string; message: string; issues?: Array<{ field: string; message: string }> };
  items: Array<{ id: string } & Record<string, unknown>>;
  [field: string]: unknown;
}

/**
 * An HTTP request to the server; `body` is sent as JSON unless it is already a string. `T` is
 * the reply's JSON as the test expects it (unchecked). No keep-alive (`fetch` would hold the
 * test process open for its idle sockets' timeout).
 */
export async function httpRequest<T = ReplyJson>(
  url: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; contentType: string; text: string; json: T }> {
  const body =
    options.body === undefined || typeof options.body === 'string'
      ? options.body
      : JSON.stringify(options.body);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = httpClientRequest(url, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      agent: false,
      headers: {
        ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
        ...(body !== undefined && {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        }),
        ...options.headers,
      },
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end(body);
  });
  let text = '';
  response.setEncoding('utf8');
  for await (const chunk of response) text += chunk as string;
  const contentType = response.headers['content-type'] ?? '';
  let json: unknown;
  try {
    json = contentType.includes('json') ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  // Not JSON: `json` is undefined, whatever its type says.
  return { status: response.statusCode ?? 0, contentType, text, json: json as T };
}
