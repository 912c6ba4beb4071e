import type { Client } from '@temporalio/client';
import uWS from 'uWebSockets.js';
import type { AppConfig } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import type { Orm } from '../db/orm.js';
import { createTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
import { registerRestRoutes } from './http/rest-routes.js';
import { registerStaticRoutes } from './http/static-routes.js';
import { NotificationHub } from './hub/notification-hub.js';
import { startNotificationListener } from './hub/notification-listener.js';
import { createServerMetrics } from './metrics.js';
import { createNotificationQueries } from './notifications/notification-queries.js';
import type { SocketSession } from './ws/socket-session.js';
import { FlushQueue } from './ws/flush-queue.js';
import { registerWebSocketRoutes } from './ws/websocket-routes.js';

export interface NotifyServerDependencies {
  config: AppConfig['server'];
  databaseUrl: string;
  orm: Orm;
  temporal: { client: Client; taskQueue: string };
  logger: Logger;
  /** Tests may pass a verifier; by default it is built from config.auth. */
  verifier?: TokenVerifier;
  /**
   * How committed notifications reach the hub: PostgreSQL LISTEN (default), or polling the
   * table per online user every `intervalMs`, for the embedded PGlite, which does not deliver
   * NOTIFY to its socket clients.
   */
  feed?: { type: 'listen' } | { type: 'poll'; intervalMs: number };
  /** The built bell page served at `/` (`npm run build:web`); default `web/dist`. */
  webDir?: string;
}

/** The polling feed: the LISTEN catch-up, run on a timer. */
function startPolling(intervalMs: number, catchUp: () => Promise<void>, log: Logger) {
  let running = true;
  let pass: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pass = pass
      .then(catchUp)
      .catch((error: Error) => log.warn({ err: error.message }, 'Polling pass failed'));
  }, intervalMs);
  return {
    get connected() {
      return running;
    },
    async close() {
      running = false;
      clearInterval(timer);
      await pass;
    },
  };
}

export interface NotifyServer {
  port: number;
  hub: NotificationHub;
  /** Stops accepting, closes sockets with 1001 (after their pending frames), ends LISTEN. */
  shutdown(): Promise<void>;
}

/**
 * The delivery server: PostgreSQL LISTEN → per-user RxJS streams → WebSocket tabs, plus the
 * REST API. Several processes may run side by side: each LISTENs for itself.
 */
export async function startNotifyServer(deps: NotifyServerDependencies): Promise<NotifyServer> {
  const { config, logger } = deps;
  const verifier = deps.verifier ?? createTokenVerifier(config.auth);
  const metrics = createServerMetrics();
  const queries = createNotificationQueries(deps.orm);
  const hub = new NotificationHub();
  const sessions = new Set<SocketSession>();
  const log = logger.child({ component: 'server' });

  // Payloads are handled in arrival (commit) order; only an oversized one needs a read first.
  let backlog: Promise<void> = Promise.resolve();
  let backlogSize = 0;
  // From a lost LISTEN connection until the catch-up is done, payloads wait here: published
  // before the catch-up, a newer one would make the hub drop the older ones it reads.
  let held: string[] | undefined;
  const route = (payload: string): void => {
    if (held) {
      held.push(payload);
      return;
    }
    const header = JSON.parse(payload) as { id: string; userId: string; truncated?: boolean };
    if (!header.truncated && backlogSize === 0)
      return hub.publish(header.userId, { id: header.id, json: payload });
    backlogSize += 1;
    backlog = backlog
      .then(async () => {
        const row = header.truncated
          ? await queries.byId(header.id)
          : { userId: header.userId, json: payload };
        if (row) hub.publish(row.userId, { id: header.id, json: row.json });
      })
      .catch((error: Error) =>
        log.error({ err: error.message, id: header.id }, 'Could not route a notification'),
      )
      .finally(() => {
        backlogSize -= 1;
      });
  };
  const routeSafely = (payload: string): void => {
    try {
      route(payload);
    } catch (error) {
      log.error({ err: (error as Error).message }, 'Unreadable NOTIFY payload');
    }
  };

  /** Publishes what each online user got while LISTEN was down, then what arrived meanwhile. */
  const catchUp = async (): Promise<void> => {
    await backlog;
    for (const { userId, after } of hub.catchUpCursors()) {
      for (let cursor = after.toString(); ;) {
        const batch = await queries.after(userId, cursor, 1000);
        for (const notification of batch) hub.publish(userId, notification);
        if (batch.length < 1000) break;
        cursor = batch[batch.length - 1]!.id;
      }
    }
    const waiting = held ?? [];
    held = undefined;
    for (const payload of waiting) routeSafely(payload);
    log.debug({ users: hub.usersOnline, held: waiting.length }, 'Caught up');
  };

  const feed = deps.feed ?? { type: 'listen' };
  const listener =
    feed.type === 'listen'
      ? await startNotificationListener({
          databaseUrl: deps.databaseUrl,
          logger: log,
          onPayload: routeSafely,
          onReconnected: catchUp,
          onStateChange: (connected) => {
            metrics.listenerConnected.set(connected ? 1 : 0);
            if (!connected) held ??= [];
          },
        })
      : startPolling(feed.intervalMs, catchUp, log);

  const app = uWS.App();
  registerWebSocketRoutes(app, {
    hub,
    queries,
    verifier,
    metrics,
    logger: log,
    server: config,
    sessions,
    flushes: new FlushQueue((error) => log.error({ err: (error as Error).message }, 'Socket write failed')),
    settings: {
      maxBufferedBytes: config.maxBufferedBytes,
      rateLimit: config.rateLimit,
      tokenExpiryWarningSeconds: config.tokenExpiryWarningSeconds,
    },
  });
  registerRestRoutes(app, {
    verifier,
    queries,
    hub,
    metrics,
    temporal: deps.temporal,
    orm: deps.orm,
    listenerConnected: () => listener.connected,
    logger: log,
  });
  registerStaticRoutes(app, { dir: deps.webDir, logger: log });
  app.any('/*', (res) => {
    res
      .writeStatus('404 Not Found')
      .writeHeader('content-type', 'application/json')
      .end('{"error":{"code":"not_found","message":"Not found"}}');
  });

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (socket) =>
      socket ? resolve(socket) : reject(new Error(`Cannot listen on ${config.host}:${config.port}`)),
    );
  });
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  log.info({ host: config.host, port }, 'Server listening');

  let stopping: Promise<void> | undefined;
  return {
    port,
    hub,
    shutdown: () => {
      stopping ??= (async () => {
        uWS.us_listen_socket_close(listenSocket);
        for (const session of sessions) session.goAway();
        const deadline = Date.now() + config.shutdownTimeoutMs;
        while (sessions.size > 0 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        await listener.close();
        await backlog;
        hub.close();
        log.info({ unclosed: sessions.size }, 'Server stopped');
      })();
      return stopping;
    },
  };
}
