import type { Orm } from '../../db/orm.js';

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
    /** Notifications after a resume cursor, oldest first (ids follow commit order per user). */
    async after(userId: string, afterId: string, limit: number): Promise<SerializedNotification[]> {
      return execute(
        `select n.id::text as id, notification_wire(n) as json from notifications n
          where n.user_id = ? and n.id > ?::bigint order by n.id limit ?`,
        [userId, afterId, limit],
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

    async unreadCount(userId: string): Promise<number> {
      const rows = await execute<Array<{ count: string }>>(
        'select count(*) as count from notifications where user_id = ? and read_at is null',
        [userId],
      );
      return Number(rows[0]?.count ?? 0);
    },

    /** Marks some of the user's notifications read; ids of other users are ignored. */
    async markRead(userId: string, ids: string[]): Promise<number> {
      const rows = await execute<Array<{ id: string }>>(
        `update notifications set read_at = now()
          where user_id = ? and id = any(?::bigint[]) and read_at is null returning id`,
        [userId, `{${ids.join(',')}}`],
      );
      return rows.length;
    },

    async markAllRead(userId: string): Promise<number> {
      const rows = await execute<Array<{ id: string }>>(
        'update notifications set read_at = now() where user_id = ? and read_at is null returning id',
        [userId],
      );
      return rows.length;
    },
  };
}

export type NotificationQueries = ReturnType<typeof createNotificationQueries>;
