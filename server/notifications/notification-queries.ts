import type { EntityManager } from '@mikro-orm/postgresql';
import { UNREAD_CHANNEL, type Orm } from '../../db/orm.js';

/** A notification already serialized by the database (`notification_wire`), with its id. */
export interface SerializedNotification {
  id: string;
  json: string;
}

export interface NotificationPage {
  items: unknown[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/**
 * The server's reads and writes of a user's notifications. Every query is scoped to one user:
 * a user reaches only their own rows. Each call forks its own EntityManager.
 */
export function createNotificationQueries(orm: Orm) {
  const execute = <T>(sql: string, params: unknown[]): Promise<T> =>
    orm.em.fork().execute(sql, params) as Promise<T>;

  return {
    /**
     * Notifications after a resume cursor (and up to `until`, when given), oldest first. Each
     * user's ids commit in increasing order, so reading to the end leaves no gap behind.
     */
    async after(
      userId: string,
      afterId: string,
      limit: number,
      until?: bigint,
    ): Promise<SerializedNotification[]> {
      return execute(
        `select n.id::text as id, notification_wire(n) as json from notifications n
          where n.user_id = ? and n.id > ?::bigint and (?::bigint is null or n.id <= ?::bigint)
          order by n.id limit ?`,
        [userId, afterId, until?.toString() ?? null, until?.toString() ?? null, limit],
      );
    },

    /** One notification by id, for a NOTIFY payload that was too large to carry it. */
    async byId(id: string): Promise<{ userId: string; json: string } | undefined> {
      const rows = await execute<Array<{ userId: string; json: string }>>(
        `select n.user_id as "userId", notification_wire(n) as json from notifications n where n.id = ?::bigint`,
        [id],
      );
      return rows[0];
    },

    /** Newest first, keyset-paginated by id. */
    async list(
      userId: string,
      options: { before?: string; limit: number; unreadOnly: boolean },
    ): Promise<NotificationPage> {
      const rows = await execute<Array<{ id: string; json: string }>>(
        `select n.id::text as id, notification_wire(n) as json from notifications n
          where n.user_id = ? and (?::bigint is null or n.id < ?::bigint) and (not ? or n.read_at is null)
          order by n.id desc limit ?`,
        [userId, options.before ?? null, options.before ?? null, options.unreadOnly, options.limit + 1],
      );
      const page = rows.slice(0, options.limit);
      return {
        items: page.map((row) => JSON.parse(row.json) as unknown),
        nextCursor: rows.length > options.limit ? page[page.length - 1]!.id : null,
      };
    },

    /** The unread count and the newest id, in one read. */
    async summary(userId: string): Promise<{ unread: number; latestId: bigint }> {
      const rows = await execute<Array<{ unread: string; latest: string | null }>>(
        `select count(*) filter (where read_at is null) as unread, max(id)::text as latest
           from notifications where user_id = ?`,
        [userId],
      );
      return { unread: Number(rows[0]?.unread ?? 0), latestId: BigInt(rows[0]?.latest ?? 0) };
    },

    /** The user's newest notification id (0n: none yet). */
    async latestId(userId: string): Promise<bigint> {
      const rows = await execute<Array<{ latest: string | null }>>(
        'select max(id)::text as latest from notifications where user_id = ?',
        [userId],
      );
      return BigInt(rows[0]?.latest ?? 0);
    },

    async unreadCount(userId: string): Promise<number> {
      const rows = await execute<Array<{ count: string }>>(
        'select count(*) as count from notifications where user_id = ? and read_at is null',
        [userId],
      );
      return Number(rows[0]?.count ?? 0);
    },

    /** Marks some of the user's notifications read (ids of other users are ignored); announces the count. */
    markRead(userId: string, ids: string[]): Promise<MarkResult> {
      return markAndAnnounce(orm, userId, (em) =>
        em.execute<Array<{ id: string }>>(
          `update notifications set read_at = now()
            where user_id = ? and id = any(?::bigint[]) and read_at is null returning id`,
          [userId, `{${ids.join(',')}}`],
        ),
      );
    },

    /** Marks all the user's notifications read; announces the count. */
    markAllRead(userId: string): Promise<MarkResult> {
      return markAndAnnounce(orm, userId, (em) =>
        em.execute<Array<{ id: string }>>(
          'update notifications set read_at = now() where user_id = ? and read_at is null returning id',
          [userId],
        ),
      );
    },
  };
}

export type NotificationQueries = ReturnType<typeof createNotificationQueries>;

export interface MarkResult {
  /** Notifications that were unread and now are read. */
  updated: number;
  /** The user's unread count after the mark. */
  unread: number;
}

/**
 * Runs a mark-read under the user's lock, then counts what is left unread and NOTIFYs it on
 * UNREAD_CHANNEL, so that every tab of the user, on every server process, gets the new count.
 * The lock orders the count with the user's notifications (each statement of the transaction
 * sees every commit made before the lock was granted): a tab never gets a count that misses a
 * notification it already received, and counts every notification after it on top.
 */
async function markAndAnnounce(
  orm: Orm,
  userId: string,
  mark: (em: EntityManager) => Promise<unknown[]>,
): Promise<MarkResult> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute('select lock_user_notifications(?)', [userId]);
    const updated = (await mark(em)).length;
    // latestId, the user's newest id under the same lock, dates the count: the hub drops a count
    // older than one it already published (a held count went out last).
    const [row] = await em.execute<Array<{ unread: string }>>(
      `select c.unread,
              pg_notify(?, json_build_object('userId', ?::text, 'unread', c.unread, 'latestId', c.latest)::text)
         from (select count(*) as unread,
                      (select max(id)::text from notifications where user_id = ?) as latest
                 from notifications where user_id = ? and read_at is null) c`,
      [UNREAD_CHANNEL, userId, userId, userId],
    );
    return { updated, unread: Number(row?.unread ?? 0) };
  });
}

/**
 * For a feed that does not carry UNREAD_CHANNEL (polling, the embedded development database):
 * the process that marks publishes the new count to its own hub. A notification committed just
 * before the mark and polled just after it is then counted twice until the next count.
 */
export function announcingUnreadCounts(
  queries: NotificationQueries,
  hub: { publishUnread(userId: string, unread: number): void },
): NotificationQueries {
  return {
    ...queries,
    async markRead(userId, ids) {
      const result = await queries.markRead(userId, ids);
      hub.publishUnread(userId, result.unread);
      return result;
    },
    async markAllRead(userId) {
      const result = await queries.markAllRead(userId);
      hub.publishUnread(userId, result.unread);
      return result;
    },
  };
}
