import type { Client } from '@temporalio/client';
import uWS from 'uWebSockets.js';
import type { AppConfig } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import type { Orm } from '../db/orm.js';
import { DEFAULT_DATABASE_POOL_MAX } from '../domain/limits.js';
import { createTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
import { rememberVerified } from './auth/verified-tokens.js';
import { startProbeServer } from '../ops/probe-server.js';
import { ClientError } from './errors.js';
import { replyClientError } from './http/http-io.js';
import { opsRoutes } from './http/ops-routes.js';
import { registerRestRoutes } from './http/rest-routes.js';
import { createPreferenceQueries } from './notifications/preference-queries.js';
import { registerStaticRoutes } from './http/static-routes.js';
import { NotificationHub } from './hub/notification-hub.js';
import { startNotificationFeed, type FeedSettings } from './hub/notification-feed.js';
import { createServerMetrics } from './metrics.js';
import { announcingUnreadCounts, createNotificationQueries } from './notifications/notification-queries.js';
import type { SocketSession } from './ws/socket-session.js';
import { DatabasePermits, permitsForPool } from './ws/database-permits.js';
import { InFlight } from './in-flight.js';
import { FlushQueue } from './ws/flush-queue.js';
import { SerialByKey } from './ws/serial-by-key.js';
import { registerWebSocketRoutes } from './ws/websocket-routes.js';

export interface NotifyServerDependencies {
  config: AppConfig['server'];
  databaseUrl: string;
  orm: Orm;
  temporal: { client: Client; taskQueue: string };
  logger: Logger;
  /** Tests may pass a verifier; by default it is built from config.auth. */
  verifier?: TokenVerifier;
  /** How committed notifications reach the hub; LISTEN by default. */
  feed?: FeedSettings;
  /** The built bell page served at `/` (`npm run build:web`); default `web/dist`. */
  webDir?: string;
}

export interface NotifyServer {
  port: number;
  /** The internal port: /healthz and /metrics (SERVER_INTERNAL_PORT). */
  internalPort: number;
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
  const verifier = rememberVerified(deps.verifier ?? createTokenVerifier(config.auth), {
    clockToleranceSeconds: config.auth.clockToleranceSeconds,
  });
  const metrics = createServerMetrics();
  const baseQueries = createNotificationQueries(deps.orm);
  const hub = new NotificationHub();
  const sessions = new Set<SocketSession>();
  const log = logger.child({ component: 'server' });

  const feed = await startNotificationFeed({
    settings: deps.feed ?? { type: 'listen' },
    databaseUrl: deps.databaseUrl,
    hub,
    queries: baseQueries,
    metrics,
    logger: log,
  });
  // Without LISTEN, nothing brings a mark-read's unread count back: this process publishes it.
  const queries = feed.carriesUnreadCounts ? baseQueries : announcingUnreadCounts(baseQueries, hub);

  // The sockets' database work shares half the pool: one user's
  // marks could otherwise take every connection, and everyone's reads timed out in the pool.
  const poolSize = deps.orm.config.get('pool')?.max ?? DEFAULT_DATABASE_POOL_MAX;
  const database = {
    permits: new DatabasePermits(permitsForPool(poolSize)),
    // A user's marks waiting behind the one running: one tab's whole burst (WS_RATE_LIMIT_BURST);
    // past it a mark is refused server_busy with its ref (the client sends it again), rather
    // than queued without bound.
    marks: new SerialByKey(config.rateLimit.burst),
  };

  const app = uWS.App();
  const inFlight = new InFlight();
  registerWebSocketRoutes(app, {
    inFlight,
    hub,
    queries,
    verifier,
    metrics,
    logger: log,
    server: config,
    sessions,
    flushes: new FlushQueue((error) => log.error({ err: error }, 'Socket write failed')),
    database,
    settings: {
      maxBufferedBytes: config.maxBufferedBytes,
      rateLimit: config.rateLimit,
      tokenExpiryWarningSeconds: config.tokenExpiryWarningSeconds,
      clockToleranceSeconds: config.auth.clockToleranceSeconds,
    },
  });
  registerRestRoutes(app, {
    verifier,
    queries,
    preferences: createPreferenceQueries(deps.orm),
    reminders: config.reminders,
    hub,
    metrics,
    temporal: deps.temporal,
    logger: log,
    inFlight,
  });
  registerStaticRoutes(app, { dir: deps.webDir, logger: log });
  app.any('/*', (res) => replyClientError(res, new ClientError('not_found')));

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (socket) =>
      socket ? resolve(socket) : reject(new Error(`Cannot listen on ${config.host}:${config.port}`)),
    );
  });
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  log.info({ host: config.host, port }, 'Server listening');
  const internal = await startProbeServer({
    ...config.internal,
    logger: log,
    routes: opsRoutes({
      orm: deps.orm,
      temporal: deps.temporal.client,
      listenerConnected: () => feed.connected,
      hub,
      metrics,
    }),
  }).catch(async (error: unknown) => {
    uWS.us_listen_socket_close(listenSocket);
    await feed.close();
    hub.close();
    throw error;
  });
  log.info({ host: config.internal.host, port: internal.port }, 'Health and metrics listening');

  let stopping: Promise<void> | undefined;
  return {
    port,
    internalPort: internal.port,
    hub,
    shutdown: () => {
      stopping ??= (async () => {
        uWS.us_listen_socket_close(listenSocket);
        // From now on: new requests and upgrades under way are refused (shutting_down).
        inFlight.close();
        for (const session of sessions) session.goAway();
        const deadline = Date.now() + config.shutdownTimeoutMs;
        const settled = (): boolean =>
          // Closed sessions' marks still run (they were accepted): the caller closes the pool
          // after this resolves, and a mark then would fail on a destroyed pool (or, with
          // MikroORM reconnecting, wait 60 s for a connection to a database being dropped).
          sessions.size === 0 && inFlight.idle && database.permits.pending === 0 && database.marks.size === 0;
        while (!settled() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        await feed.close();
        hub.close();
        // Last: probes and scrapes see the shutdown to its end.
        await internal.close();
        log.info(
          { unclosed: sessions.size, databaseWork: database.permits.pending + database.marks.size },
          'Server stopped',
        );
      })();
      return stopping;
    },
  };
}
