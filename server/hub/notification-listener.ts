import pg from 'pg';
import type { Logger } from '../../config/logger.js';

/** One NOTIFY as sent, e.g. a notification's wire JSON (or `{id, userId, truncated}`). */
export interface ListenerMessage {
  channel: string;
  payload: string;
}

export interface ListenerOptions {
  databaseUrl: string;
  channels: readonly string[];
  logger: Logger;
  /** Each NOTIFY on one of the channels, in the order PostgreSQL hands them over (commit order). */
  onMessage(message: ListenerMessage): void;
  /**
   * After a reconnection, LISTEN active again: notifications committed during the outage must
   * be read from the table (retrying is the callee's business).
   */
  onReconnected(): void;
  onStateChange?(connected: boolean): void;
  backoff?: { initialMs: number; maxMs: number };
  /** Awaited before each reconnection attempt (a test holds the connection down with it). */
  beforeReconnect?(): Promise<void>;
  /**
   * A health query on the LISTEN connection every `intervalMs`; no answer within `timeoutMs` and
   * the connection is taken as lost (reconnection, then catch-up). A network partition leaves a
   * connection open that carries nothing, which nothing else would notice: a LISTEN connection
   * only receives, and TCP keepalive is hours by default (and answered by any proxy on the way).
   * Default DEFAULT_HEALTH_CHECK; `false`: none.
   */
  healthCheck?: { intervalMs: number; timeoutMs: number } | false;
  /** Connecting and the LISTEN statements must end within this, else the attempt fails (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * A silently dead LISTEN connection is noticed within intervalMs + timeoutMs (15 s): the
 * catch-up then reads what was committed meanwhile, and it is pushed to the sockets
 * (test/faults/: the partition scenario).
 */
export const DEFAULT_HEALTH_CHECK = { intervalMs: 10_000, timeoutMs: 5_000 };
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** TCP keepalive probes after this much silence (the kernel's default is two hours). */
const KEEPALIVE_IDLE_MS = 10_000;

/** The LISTEN connection's `application_name`: how operators and tests find it in pg_stat_activity. */
export const LISTEN_APPLICATION_NAME = 'normx-notify-listen';

export interface NotificationListener {
  readonly connected: boolean;
  /** Ends the LISTEN connection; no reconnection after this. */
  close(): Promise<void>;
}

/**
 * One PostgreSQL connection that LISTENs on the notification channels for this server process.
 * When it drops (restart, failover, pg_terminate_backend) or stops answering its health query
 * (a network partition), it reconnects with jittered exponential backoff, then asks for a
 * catch-up from the table.
 */
export async function startNotificationListener(options: ListenerOptions): Promise<NotificationListener> {
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 10_000 };
  const health = options.healthCheck === undefined ? DEFAULT_HEALTH_CHECK : options.healthCheck;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let client: pg.Client | undefined;
  let connected = false;
  let closing = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;

  const setConnected = (value: boolean): void => {
    connected = value;
    options.onStateChange?.(value);
  };

  async function connect({ reconnect }: { reconnect: boolean }): Promise<void> {
    const next = new pg.Client({
      connectionString: options.databaseUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
      connectionTimeoutMillis: connectTimeoutMs,
      application_name: LISTEN_APPLICATION_NAME,
    });
    next.on('notification', (message) => {
      if (message.payload && options.channels.includes(message.channel))
        options.onMessage({ channel: message.channel, payload: message.payload });
    });
    next.on('error', (error) => {
      options.logger.warn({ err: error }, 'LISTEN connection failed');
      lost(next);
    });
    next.on('end', () => lost(next));
    // The connect's own timeout ends at ReadyForQuery; this one covers the LISTEN statements too.
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      // As pg's own connection timeout does: the error settles the pending connect or query.
      streamOf(next)?.destroy(new Error('LISTEN set-up timed out'));
    }, connectTimeoutMs);
    try {
      await next.connect();
      for (const channel of options.channels) await next.query(`listen ${channel}`);
    } catch (error) {
      release(next);
      throw timedOut ? new Error(`LISTEN not set up within ${connectTimeoutMs} ms`, { cause: error }) : error;
    } finally {
      clearTimeout(deadline);
    }
    client = next;
    attempt = 0;
    setConnected(true);
    watch(next);
    options.logger.info({ reconnect }, 'LISTEN connection up');
    if (reconnect) options.onReconnected();
  }

  function lost(which: pg.Client): void {
    if (which !== client || closing) return;
    client = undefined;
    clearInterval(healthTimer);
    setConnected(false);
    which.removeAllListeners('notification');
    release(which);
    scheduleReconnect();
  }

  /**
   * Runs the health query on the current connection; a missing answer is a lost connection. The
   * query is the first LISTEN again, a no-op for a session already listening: its answer proves
   * the connection carries both ways, and pg_stat_activity goes on showing it as the LISTEN one.
   */
  function watch(which: pg.Client): void {
    if (!health) return;
    const { intervalMs, timeoutMs } = health;
    const healthQuery = options.channels[0] ? `listen ${options.channels[0]}` : 'select 1';
    let pending = false;
    healthTimer = setInterval(() => {
      if (pending || which !== client) return;
      pending = true;
      let answered = false;
      const timer = setTimeout(
        // Whatever already arrived is read first: a busy event loop is not a dead connection.
        () =>
          setImmediate(() => {
            if (answered || which !== client) return;
            options.logger.warn({ timeoutMs }, 'LISTEN connection unresponsive: reconnecting');
            lost(which);
          }),
        timeoutMs,
      );
      which
        .query(healthQuery)
        // A failed query: the connection's 'error' or 'end' event reports the loss.
        .catch(() => undefined)
        .finally(() => {
          answered = true;
          pending = false;
          clearTimeout(timer);
        });
    }, intervalMs);
    healthTimer.unref();
  }

  function scheduleReconnect(): void {
    if (closing || retryTimer) return;
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      Promise.resolve(options.beforeReconnect?.())
        .then(() => connect({ reconnect: true }))
        .catch((error: Error) => {
          options.logger.warn({ err: error, attempt }, 'LISTEN reconnection failed, retrying');
          scheduleReconnect();
        });
    }, delay);
  }

  await connect({ reconnect: false });
  return {
    get connected() {
      return connected;
    },
    async close() {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      clearInterval(healthTimer);
      const current = client;
      client = undefined;
      setConnected(false);
      await current?.end().catch(() => undefined);
    },
  };
}

const streamOf = (which: pg.Client): { destroy(error?: Error): void } | undefined =>
  (which as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection?.stream;

/**
 * Ends a client without waiting: pg's end() closes the socket at once when a query is pending
 * (the health query of a dead connection), else says goodbye and waits for the server, which a
 * dead connection never answers: its socket is closed a second later all the same.
 */
function release(which: pg.Client): void {
  void which.end().catch(() => undefined);
  setTimeout(() => streamOf(which)?.destroy(), 1000).unref();
}
