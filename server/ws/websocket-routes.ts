import type { InFlight } from '../in-flight.js';
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_socket_context_t,
  WebSocket,
  WebSocketBehavior,
} from 'uWebSockets.js';
import type { AppConfig } from '../../config/config.js';
import type { AuthError, Principal } from '../auth/token-verifier.js';
import { authFailure } from '../auth/auth-failure.js';
import type { RememberingVerifier } from '../auth/verified-tokens.js';
import { ClientError, invalidInput } from '../errors.js';
import { decodePathParameter, replyClientError } from '../http/http-io.js';
import { notificationId } from '../protocol/messages.js';
import { SocketSession, type SessionDependencies } from './socket-session.js';
import { SocketGone } from './socket-queries.js';
import { KeyedCounter, KeyedRateLimit } from './upgrade-limits.js';

/** The subprotocol clients offer beside their token; the server echoes it, never the token. */
export const PROTOCOL = 'normx-notify';
/**
 * What uWS reads of a message before the `message` handler sees it (and closes it with 1009 and a
 * reason when over WS_MAX_PAYLOAD_BYTES): 4 times WS_MAX_PAYLOAD_BYTES, at least 256 KiB. Past
 * this, uWS drops the TCP connection without a close frame (its forceClose on the frame header;
 * the client sees 1006). uWS buffers a message up to it while a client sends one, so this is what
 * one socket may pin: 16 MiB before let 60 sockets of a few tokens take a gigabyte.
 */
export const transportMaxPayloadBytes = (maxPayloadBytes: number): number =>
  Math.max(4 * maxPayloadBytes, 256 * 1024);
/** `ws.send`'s result for a frame dropped over `maxBackpressure`. */
const SEND_DROPPED = 2;

interface SocketData {
  principal: Principal;
  /** Counted in the user's sockets: released at close. */
  counted: boolean;
  resumeFrom: string | undefined;
  session: SocketSession | undefined;
  closed: boolean;
}

export interface WebSocketDependencies extends SessionDependencies {
  /** Also recalls a token verified a moment ago: its upgrade then completes synchronously. */
  verifier: RememberingVerifier;
  server: AppConfig['server'];
  /** Open sessions, for shutdown. */
  sessions: Set<SocketSession>;
  /** Once it stops, an upgrade under way (its token being verified) is refused, not opened. */
  inFlight: InFlight;
}

/**
 * `/api/v1/ws/{token}` (the original URL, the token in the path) and `/api/v1/ws` with the token in
 * `Sec-WebSocket-Protocol` (`normx-notify, <token>`). The token is verified in the upgrade
 * handler, before the socket opens; `?lastId=` resumes at once.
 */
export function registerWebSocketRoutes(app: TemplatedApp, deps: WebSocketDependencies): void {
  const { server, metrics, logger, sessions } = deps;
  const allowAnyOrigin = server.allowedOrigins.includes('*');
  const limits = server.connectionLimits;
  const upgradesPerAddress = new KeyedRateLimit(limits.upgradesPerAddress);
  const socketsPerUser = new KeyedCounter(limits.maxSocketsPerUser);
  /**
   * WS_MAX_OPENING_SOCKETS counts the sockets' database work running or waiting for a permit
   * (opening reads, catch-up pages, marks), not sessions: a catch-up waiting for its client to
   * read holds none (counting sessions, one held a slot for as long as its client lived).
   */
  const { permits } = deps.database;

  const behavior = ({ tokenInPath }: { tokenInPath: boolean }): WebSocketBehavior<SocketData> => ({
    // uWS drops a frame over its limit without a close frame (the client sees 1006): it gets
    // headroom, and a message over the configured limit is closed here with 1009 and a reason.
    maxPayloadLength: transportMaxPayloadBytes(server.maxPayloadBytes),
    idleTimeout: server.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    // The session closes slow sockets itself at maxBufferedBytes, with its own close code;
    // a frame uWS drops past this hard limit makes the session close the socket too.
    maxBackpressure: server.maxBufferedBytes * 4,
    upgrade: (res, req, context) => upgrade(res, req, context, { tokenInPath }),
    open: (ws) => {
      const data = ws.getUserData();
      const session = new SocketSession(
        {
          corked: (write) => {
            if (!data.closed) ws.cork(write);
          },
          send: (frame) => ws.send(frame, /* isBinary */ false, /* compress */ false) !== SEND_DROPPED,
          bufferedAmount: () => (data.closed ? 0 : ws.getBufferedAmount()),
          end: (code, reason) => {
            if (!data.closed) ws.end(code, reason);
          },
        },
        data.principal,
        deps,
      );
      data.session = session;
      sessions.add(session);
      metrics.connections.inc();
      session.open(data.resumeFrom).catch((error: Error) => {
        // Closed while its opening read waited for a permit: nothing to report.
        if (error instanceof SocketGone) return;
        logger.error({ err: error, userId: session.userId }, 'Socket open failed');
        session.goAway();
      });
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      if (message.byteLength > server.maxPayloadBytes) {
        const error = new ClientError(
          'payload_too_large',
          `Messages are limited to ${server.maxPayloadBytes} bytes`,
        );
        ws.end(error.closeCode, error.message);
        return;
      }
      if (isBinary) {
        data.session?.receiveBinary();
        return;
      }
      // The ArrayBuffer is only valid during this callback: decode it now.
      void data.session?.receive(Buffer.from(message).toString('utf8'));
    },
    drain: (ws: WebSocket<SocketData>) => ws.getUserData().session?.drained(),
    close: (ws) => {
      const data = ws.getUserData();
      data.closed = true;
      if (data.counted) socketsPerUser.release(data.principal.subject);
      data.counted = false;
      if (data.session) {
        data.session.closedByPeer();
        sessions.delete(data.session);
        metrics.connections.dec();
      }
    },
  });

  function upgrade(
    res: HttpResponse,
    req: HttpRequest,
    context: us_socket_context_t,
    { tokenInPath }: { tokenInPath: boolean },
  ): void {
    // Copy what the request holds before anything asynchronous: req is gone after this returns.
    // Decoded without throwing: a throw here would leave the upgrade unanswered, which makes
    // uWebSockets.js abort the whole process (every socket of this replica dropped).
    const pathToken = tokenInPath ? decodePathParameter(req.getParameter(0)) : '';
    const key = req.getHeader('sec-websocket-key');
    const offered = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const origin = req.getHeader('origin');
    const lastId = new URLSearchParams(req.getQuery() ?? '').get('lastId') ?? undefined;
    // The TCP peer: behind a reverse proxy, the proxy (docs/security.md: connection caps).
    const address = Buffer.from(res.getRemoteAddressAsText()).toString();
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });

    const protocols = offered
      .split(',')
      .map((protocol) => protocol.trim())
      .filter(Boolean);
    const token = pathToken || protocols.find((protocol) => protocol !== PROTOCOL);
    // A refusal is a catalog error like any other: its status, Retry-After and body.
    const reject = (error: ClientError): void => {
      if (!aborted) replyClientError(res, error);
    };

    // First, before any decoding or token check: attempts past the rate cost nothing more.
    const waitMs = upgradesPerAddress.take(address);
    if (waitMs > 0) {
      metrics.upgradesRefused.inc({ reason: 'too_many_upgrades' });
      return reject(
        new ClientError('too_many_upgrades', undefined, [], { retryAfterSeconds: Math.ceil(waitMs / 1000) }),
      );
    }

    if (pathToken === undefined) {
      return reject(
        new ClientError('bad_request', 'token: the path parameter is not valid percent-encoded UTF-8', [
          { field: 'token', message: 'is not valid percent-encoded UTF-8' },
        ]),
      );
    }
    if (!allowAnyOrigin && origin && !server.allowedOrigins.includes(origin)) {
      return reject(new ClientError('origin_not_allowed', `Origin ${origin} is not allowed`));
    }
    // The ids' one schema (REST and socket): digits up to the bigint maximum.
    const cursor = lastId === undefined ? undefined : notificationId.safeParse(lastId);
    if (cursor?.success === false) return reject(invalidInput(cursor.error, { at: 'lastId' }));
    const proceed = (principal: Principal): void => {
      if (aborted) return;
      // Verified after shutdown began: a socket opened now would outlive the server's stop.
      if (deps.inFlight.stopping) return reject(new ClientError('shutting_down'));
      if (principal.isService)
        return reject(new ClientError('forbidden', 'The service token has no notification stream'));
      if (limits.maxOpeningSockets > 0 && permits.pending >= limits.maxOpeningSockets) {
        metrics.upgradesRefused.inc({ reason: 'server_busy' });
        return reject(new ClientError('server_busy'));
      }
      // Counted here, released at close: `res.upgrade` opens the socket synchronously.
      if (!socketsPerUser.tryAcquire(principal.subject)) {
        metrics.upgradesRefused.inc({ reason: 'too_many_sockets' });
        return reject(new ClientError('too_many_sockets'));
      }
      res.cork(() => {
        res.upgrade<SocketData>(
          { principal, counted: true, resumeFrom: lastId, session: undefined, closed: false },
          key,
          protocols.includes(PROTOCOL) ? PROTOCOL : '',
          extensions,
          context,
        );
      });
    };
    // A token verified a moment ago (a reconnect) upgrades now, synchronously: an upgrade after an
    // asynchronous step may meet a uWebSockets.js defect (server/auth/verified-tokens.ts).
    const recalled = deps.verifier.recall(token);
    if (recalled) return proceed(recalled);
    deps.verifier
      .verify(token)
      .then(proceed, (error: AuthError) => reject(authFailure(error, { metrics, logger })));
  }

  app.ws<SocketData>('/api/v1/ws/:token', behavior({ tokenInPath: true }));
  app.ws<SocketData>('/api/v1/ws', behavior({ tokenInPath: false }));
}
