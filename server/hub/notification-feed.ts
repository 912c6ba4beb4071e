import type { Logger } from '../../config/logger.js';
import { NOTIFICATION_CHANNEL, UNREAD_CHANNEL } from '../../db/orm.js';
import type { ServerMetrics } from '../metrics.js';
import type { NotificationQueries } from '../notifications/notification-queries.js';
import type { NotificationHub } from './notification-hub.js';
import { startNotificationListener, type ListenerMessage } from './notification-listener.js';

/**
 * How committed notifications reach the hub: PostgreSQL LISTEN (default), or polling the table
 * per online user every `intervalMs`, for the embedded PGlite, which does not deliver NOTIFY to
 * its socket clients.
 */
export type FeedSettings = { type: 'listen' } | { type: 'poll'; intervalMs: number };

export interface NotificationFeed {
  readonly connected: boolean;
  /**
   * Whether unread counts announced by mark-read (UNREAD_CHANNEL) come back through the feed;
   * when not, the process that marks publishes the count to its own hub.
   */
  readonly carriesUnreadCounts: boolean;
  /** Stops the feed once the payloads already received are published. */
  close(): Promise<void>;
}

const CATCH_UP_PAGE = 1000;

/** What the server reads of a NOTIFY payload: a notification (maybe truncated) or `{userId, unread}`. */
interface PayloadHeader {
  id: string;
  userId: string;
  truncated?: boolean;
  unread?: number;
}

/**
 * Feeds the hub: each NOTIFY payload in arrival (commit) order; after a lost LISTEN connection,
 * what each online user got meanwhile, read from the table, then what arrived during that read.
 */
export async function startNotificationFeed(deps: {
  settings: FeedSettings;
  databaseUrl: string;
  hub: NotificationHub;
  queries: NotificationQueries;
  metrics: ServerMetrics;
  logger: Logger;
}): Promise<NotificationFeed> {
  const { hub, queries, logger: log } = deps;

  // Payloads are handled in arrival (commit) order; only an oversized one needs a read first.
  let backlog: Promise<void> = Promise.resolve();
  let backlogSize = 0;
  // From a lost LISTEN connection until the catch-up is done, payloads wait here: published
  // before the catch-up, a newer one would make the hub drop the older ones it reads.
  let held: ListenerMessage[] | undefined;

  /** A payload that carries all it announces: a notification's wire JSON, or an unread count. */
  const publishAsSent = (message: ListenerMessage, header: PayloadHeader): void =>
    message.channel === UNREAD_CHANNEL
      ? hub.publishUnread(header.userId, Number(header.unread))
      : hub.publish(header.userId, { id: header.id, json: message.payload });

  const route = (message: ListenerMessage): void => {
    if (held) {
      held.push(message);
      return;
    }
    const header = JSON.parse(message.payload) as PayloadHeader;
    const needsRead = message.channel === NOTIFICATION_CHANNEL && header.truncated === true;
    if (!needsRead && backlogSize === 0) return publishAsSent(message, header);
    backlogSize += 1;
    backlog = backlog
      .then(async () => {
        if (!needsRead) return publishAsSent(message, header);
        const row = await queries.byId(header.id);
        if (row) hub.publish(row.userId, { id: header.id, json: row.json });
      })
      .catch((error: Error) => log.error({ err: error, id: header.id }, 'Could not route a notification'))
      .finally(() => {
        backlogSize -= 1;
      });
  };
  const routeSafely = (message: ListenerMessage): void => {
    try {
      route(message);
    } catch (error) {
      log.error({ err: error, channel: message.channel }, 'Unreadable NOTIFY payload');
    }
  };

  /**
   * Publishes what each online user got since the hub last heard of them, in id order. With
   * `withCounts`, then the user's unread count as of the last one read: a count announced while
   * LISTEN was down is lost, and the frames that follow are counted on top of this one.
   */
  const catchUp = async ({ withCounts }: { withCounts: boolean }): Promise<void> => {
    await backlog;
    for (const { userId, after } of hub.catchUpCursors()) {
      const summary = withCounts ? await queries.summary(userId) : undefined;
      for (let cursor = after.toString(); ;) {
        const page = await queries.after(userId, cursor, CATCH_UP_PAGE, summary?.latestId);
        for (const notification of page) hub.publish(userId, notification);
        if (page.length < CATCH_UP_PAGE) break;
        cursor = page[page.length - 1]!.id;
      }
      if (summary) hub.publishUnread(userId, summary.unread);
    }
    const waiting = held ?? [];
    held = undefined;
    for (const message of waiting) routeSafely(message);
    log.debug({ users: hub.usersOnline, held: waiting.length }, 'Caught up');
  };

  if (deps.settings.type === 'poll') return startPolling(deps.settings.intervalMs, catchUp, log);

  const listener = await startNotificationListener({
    databaseUrl: deps.databaseUrl,
    channels: [NOTIFICATION_CHANNEL, UNREAD_CHANNEL],
    logger: log,
    onMessage: routeSafely,
    onReconnected: () => catchUp({ withCounts: true }),
    onStateChange: (connected) => {
      deps.metrics.listenerConnected.set(connected ? 1 : 0);
      if (!connected) held ??= [];
    },
  });
  return {
    get connected() {
      return listener.connected;
    },
    carriesUnreadCounts: true,
    async close() {
      await listener.close();
      await backlog;
    },
  };
}

/** The polling feed: the catch-up, run on a timer. */
function startPolling(
  intervalMs: number,
  catchUp: (options: { withCounts: boolean }) => Promise<void>,
  log: Logger,
): NotificationFeed {
  let running = true;
  let pass: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pass = pass
      .then(() => catchUp({ withCounts: false }))
      .catch((error: Error) => log.warn({ err: error }, 'Polling pass failed'));
  }, intervalMs);
  return {
    get connected() {
      return running;
    },
    carriesUnreadCounts: false,
    async close() {
      running = false;
      clearInterval(timer);
      await pass;
    },
  };
}
