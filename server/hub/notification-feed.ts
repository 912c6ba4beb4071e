import type { Observable } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import { NOTIFICATION_CHANNEL, UNREAD_CHANNEL } from '../../db/orm.js';
import type { ServerMetrics } from '../metrics.js';
import { catchUpPages } from '../notifications/catch-up.js';
import { datedCountsOf, type CountsJson } from '../notifications/inbox-counts.js';
import type { NotificationQueries } from '../notifications/notification-queries.js';
import type { NotificationHub } from './notification-hub.js';
import { startNotificationListener, type ListenerMessage } from './notification-listener.js';
import { startPolling } from './polling-feed.js';

/**
 * How committed notifications reach the hub: PostgreSQL LISTEN (default), or polling the table
 * per online user every `intervalMs`, for the embedded PGlite, which does not deliver NOTIFY to
 * its socket clients. `wake`: the users whose notifications a worker in this same process has just
 * committed (npm start): their new rows are read at once rather than at the next pass.
 */
export type FeedSettings = (
  { type: 'listen' } | { type: 'poll'; intervalMs: number; wake?: Observable<string> }
) & {
  hooks?: FeedHooks;
};

/** A read the feed makes from the table: a catch-up's (numbered from 1 per feed), or an oversized payload's. */
export type FeedRead = { kind: 'catch-up'; run: number; userId: string } | { kind: 'payload'; id: string };

/**
 * Where a test may hold or observe the feed, to order its events deterministically; none in
 * production.
 */
export interface FeedHooks {
  /** Awaited before each read from the table; a rejection counts as the read failing. */
  beforeRead?(read: FeedRead): Promise<void>;
  /** Each payload as it arrives from LISTEN, before it is routed. */
  received?(message: ListenerMessage): void;
  /** Awaited before each reconnection of the LISTEN connection. */
  beforeReconnect?(): Promise<void>;
}

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

/**
 * What the server reads of a NOTIFY payload: a notification (maybe truncated), or on
 * UNREAD_CHANNEL a user's counts (`notification_counts`: `{userId, unread, unseen, archived,
 * lastSeenId, latestId, version}`).
 */
interface PayloadHeader {
  id: string;
  userId: string;
  truncated?: boolean;
  /** Counts: absent from a server of a version before inbox states (`{userId, unread, latestId}`). */
  version?: number | string;
}

/** Retry delays of a failed catch-up (the database is likely down: no need to hammer it). */
const CATCH_UP_RETRY = { initialMs: 100, maxMs: 10_000 };

/**
 * Feeds the hub: each NOTIFY payload in arrival (commit) order, as long as nothing was missed.
 *
 * Each user's ids commit in increasing order (`lock_user_notifications`), and the hub drops an
 * id at or below the last it published to the user. So the feed keeps one invariant: it
 * publishes an id only when every lower committed id of that user was published before it.
 * - A read from the table after a user's position returns every committed id of the user up to
 *   where it stops, in order: what it publishes keeps the invariant, whenever it runs.
 * - A live payload keeps it only if nothing was missed since the last catch-up that started on
 *   the current LISTEN connection. Whatever may have missed one (the connection lost, an
 *   oversized payload whose read failed, an unreadable payload) opens a gap: the generation
 *   counter moves on, live payloads are held from then on, and catch-ups run until one started
 *   in the current generation, on a live connection, completes. Only that one publishes the held
 *   payloads and lets the next ones through; a catch-up overtaken by a newer gap publishes what
 *   it read (still in order) and leaves the held payloads to the next.
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
  const hooks = deps.settings.hooks;
  let runs = 0;
  let closing = false;

  /**
   * Publishes what each online user got since the hub last heard of them, in id order. With
   * `withCounts`, then the user's unread count as of the last one read: a count announced while
   * LISTEN was down is lost, and the frames that follow are counted on top of this one.
   */
  const catchUp = async ({
    withCounts,
    only,
  }: {
    withCounts: boolean;
    /** Only these users (those a wake named); every online user otherwise. */
    only?: ReadonlySet<string>;
  }): Promise<void> => {
    const run = ++runs;
    for (const { userId, after } of hub.catchUpCursors()) {
      if (closing) return;
      if (only && !only.has(userId)) continue;
      await hooks?.beforeRead?.({ kind: 'catch-up', run, userId });
      const summary = withCounts ? await queries.summary(userId) : undefined;
      const until = summary && summary.date.latestId;
      await catchUpPages(
        async (cursor, limit) => {
          await hooks?.beforeRead?.({ kind: 'catch-up', run, userId });
          return queries.after(userId, cursor, limit, until);
        },
        after.toString(),
        (page) => {
          for (const notification of page) hub.publish(userId, notification);
          return true;
        },
      );
      // Dated: counts held during the gap, older, are dropped after them.
      if (summary) hub.publishCounts(userId, summary.counts, summary.date);
    }
  };

  if (deps.settings.type === 'poll') return startPolling(deps.settings, catchUp, log);

  // Payloads are handled in arrival (commit) order; only an oversized one needs a read first.
  let backlog: Promise<void> = Promise.resolve();
  let backlogSize = 0;
  /** Moves on at each gap: what was queued or started before it must not end a later gap. */
  let generation = 0;
  /** No gap open: payloads go to the hub as they arrive. */
  let live = true;
  /** Payloads received on the current connection while a gap is open, in arrival order. */
  let held: ListenerMessage[] = [];
  /** LISTEN is active (set after the LISTEN statements, cleared at a loss). */
  let connected = false;
  /** A catch-up loop runs (at most one at a time); `catchUpLoop` is its promise, for close. */
  let catchingUp = false;
  let catchUpLoop: Promise<void> = Promise.resolve();

  /**
   * Something may have been missed: hold live payloads until a catch-up of this generation
   * completes. Those held so far are dropped: they committed before any catch-up that can end
   * this gap starts reading, so it reads them from the table.
   */
  const openGap = (reason: string): void => {
    generation += 1;
    live = false;
    held = [];
    log.info({ reason, generation }, 'Notification feed gap: catching up from the table');
    ensureCatchingUp();
  };

  /** Runs catch-ups until one started in the current generation, with LISTEN up, completes. */
  const ensureCatchingUp = (): void => {
    if (catchingUp || live || !connected || closing) return;
    catchingUp = true;
    catchUpLoop = (async () => {
      for (let failures = 0; !live && connected && !closing;) {
        const started = generation;
        try {
          await backlog;
          await catchUp({ withCounts: true });
        } catch (error) {
          failures += 1;
          const delayMs = Math.min(CATCH_UP_RETRY.maxMs, CATCH_UP_RETRY.initialMs * 2 ** (failures - 1));
          log.error({ err: error, delayMs }, 'Catch-up from the table failed, retrying');
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          continue;
        }
        failures = 0;
        // Synchronous from this check to the end of the drain: no payload can slip in between.
        if (generation === started && connected && !closing) {
          live = true;
          const waiting = held;
          held = [];
          for (const message of waiting) routeSafely(message);
          log.debug({ users: hub.usersOnline, held: waiting.length }, 'Caught up');
        }
      }
      // In the same synchronous step as the loop's last check: a reconnection after it starts
      // a new loop.
      catchingUp = false;
    })();
  };

  /** A payload that carries all it announces: a notification's wire JSON, or a user's counts. */
  const publishAsSent = (message: ListenerMessage, header: PayloadHeader): void => {
    if (message.channel !== UNREAD_CHANNEL)
      return hub.publish(header.userId, { id: header.id, json: message.payload });
    // A server of an earlier version (a rolling upgrade) announces the unread count alone: its
    // tabs get the next counts (their next mark, or a reconnect) instead of incomplete ones.
    if (header.version === undefined) return;
    const { counts, date } = datedCountsOf(header as unknown as CountsJson);
    hub.publishCounts(header.userId, counts, date);
  };

  const route = (message: ListenerMessage): void => {
    if (!live) {
      held.push(message);
      return;
    }
    const header = JSON.parse(message.payload) as PayloadHeader;
    const needsRead = message.channel === NOTIFICATION_CHANNEL && header.truncated === true;
    if (!needsRead && backlogSize === 0) return publishAsSent(message, header);
    const queuedIn = generation;
    backlogSize += 1;
    backlog = backlog
      .then(async () => {
        // A gap opened since: the catch-up that ends it reads this one from the table.
        if (generation !== queuedIn) return;
        if (!needsRead) return publishAsSent(message, header);
        await hooks?.beforeRead?.({ kind: 'payload', id: header.id });
        const row = await queries.byId(header.id);
        // A row gone since its commit (deleted) is known absent: nothing to wait for.
        if (row && generation === queuedIn) hub.publish(row.userId, { id: header.id, json: row.json });
      })
      .catch((error: Error) => {
        log.error({ err: error, id: header.id }, 'Could not read an oversized notification');
        // Publishing the next ones would leave this one behind for good.
        if (generation === queuedIn) openGap('oversized payload unread');
      })
      .finally(() => {
        backlogSize -= 1;
      });
  };
  const routeSafely = (message: ListenerMessage): void => {
    try {
      route(message);
    } catch (error) {
      log.error({ err: error, channel: message.channel }, 'Unreadable NOTIFY payload');
      // Its user is unknown: every online user's catch-up finds it if it was a notification.
      openGap('unreadable payload');
    }
  };

  const listener = await startNotificationListener({
    databaseUrl: deps.databaseUrl,
    channels: [NOTIFICATION_CHANNEL, UNREAD_CHANNEL],
    logger: log,
    onMessage: (message) => {
      hooks?.received?.(message);
      routeSafely(message);
    },
    onReconnected: ensureCatchingUp,
    onStateChange: (up) => {
      deps.metrics.listenerConnected.set(up ? 1 : 0);
      connected = up;
      if (!up && !closing) openGap('LISTEN connection lost');
    },
    beforeReconnect: hooks?.beforeReconnect,
  });
  return {
    get connected() {
      return listener.connected;
    },
    carriesUnreadCounts: true,
    async close() {
      closing = true;
      await listener.close();
      await backlog;
      await catchUpLoop;
    },
  };
}
