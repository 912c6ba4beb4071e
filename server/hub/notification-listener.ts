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
  /** Each NOTIFY on one of the channels, in the order PostgreSQL delivers them (commit order). */
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
}

/** The LISTEN connection's `application_name`: how operators and tests find it in pg_stat_activity. */
export const LISTEN_APPLICATION_NAME = 'normx-notify-listen';

export interface NotificationListener {
  readonly connected: boolean;
  /** Ends the LISTEN connection; no reconnection after this. */
  close(): Promise<void>;
}

/**
 * One PostgreSQL connection that LISTENs on the notification channels for this server process.
 * When it drops (restart, failover, pg_terminate_backend) it reconnects with jittered
 * exponential backoff, then asks for a catch-up from the table.
 */
export async function startNotificationListener(options: ListenerOptions): Promise<NotificationListener> {
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 10_000 };
  let client: pg.Client | undefined;
  let connected = false;
  let closing = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const setConnected = (value: boolean): void => {
    connected = value;
    options.onStateChange?.(value);
  };

  async function connect(isReconnect: boolean): Promise<void> {
    const next = new pg.Client({
      connectionString: options.databaseUrl,
      keepAlive: true,
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
    try {
      await next.connect();
      for (const channel of options.channels) await next.query(`listen ${channel}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
    attempt = 0;
    setConnected(true);
    options.logger.info({ reconnect: isReconnect }, 'LISTEN connection up');
    if (isReconnect) options.onReconnected();
  }

  function lost(which: pg.Client): void {
    if (which !== client || closing) return;
    client = undefined;
    setConnected(false);
    which.removeAllListeners('notification');
    void which.end().catch(() => undefined);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closing || retryTimer) return;
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      Promise.resolve(options.beforeReconnect?.())
        .then(() => connect(true))
        .catch((error: Error) => {
          options.logger.warn({ err: error, attempt }, 'LISTEN reconnection failed, retrying');
          scheduleReconnect();
        });
    }, delay);
  }

  await connect(false);
  return {
    get connected() {
      return connected;
    },
    async close() {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      setConnected(false);
      await current?.end().catch(() => undefined);
    },
  };
}
