import type { EntityManager } from '@mikro-orm/postgresql';
import { UNREAD_CHANNEL, type Orm } from '../../db/orm.js';
import {
  datedCountsOf,
  type CountsDate,
  type CountsJson,
  type DatedCounts,
  type InboxCounts,
} from './inbox-counts.js';

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

    /**
     * A user's own notification with what a snooze needs of it, and whether its dossier is open
     * and still theirs; undefined when the notification is not theirs.
     */
    async ownedForSnooze(
      userId: string,
      id: string,
    ): Promise<
      { type: string; kind: string; dossierId: string | null; dossierOpenAndOwned: boolean } | undefined
    > {
      const rows = await execute<
        Array<{ type: string; kind: string; dossierId: string | null; dossierOpenAndOwned: boolean }>
      >(
        `select n.type, n.kind, n.dossier_id as "dossierId",
                exists (select 1 from dossiers d
                         where d.id = n.dossier_id and d.status = 'open' and d.owner_id = n.user_id) as "dossierOpenAndOwned"
           from notifications n
          where n.id = ?::bigint and n.user_id = ?`,
        [id, userId],
      );
      return rows[0];
    },

    /** One notification by id, for a NOTIFY payload that was too large to carry it. */
    async byId(id: string): Promise<{ userId: string; json: string } | undefined> {
      const rows = await execute<Array<{ userId: string; json: string }>>(
        `select n.user_id as "userId", notification_wire(n) as json from notifications n where n.id = ?::bigint`,
        [id],
      );
      return rows[0];
    },

    /**
     * Newest first, keyset-paginated by id: the inbox (not archived) or the archive. The archive
     * reads its partial index (`notifications_archived_index`), the inbox the user's id index.
     */
    async list(
      userId: string,
      options: { before?: string; limit: number; unreadOnly: boolean; state: InboxState },
    ): Promise<NotificationPage> {
      const rows = await execute<Array<{ id: string; json: string }>>(
        `select n.id::text as id, notification_wire(n) as json from notifications n
          where n.user_id = ? and (?::bigint is null or n.id < ?::bigint) and (not ? or n.read_at is null)
            and (n.archived_at is not null) = ?
          order by n.id desc limit ?`,
        [
          userId,
          options.before ?? null,
          options.before ?? null,
          options.unreadOnly,
          options.state === 'archived',
          options.limit + 1,
        ],
      );
      const page = rows.slice(0, options.limit);
      return {
        items: page.map((row) => JSON.parse(row.json) as unknown),
        nextCursor: rows.length > options.limit ? page[page.length - 1]!.id : null,
      };
    },

    /** The counts per state and their date, in one read (a socket's opening count, a catch-up's). */
    async summary(userId: string): Promise<DatedCounts> {
      const rows = await execute<Array<{ counts: CountsJson }>>('select notification_counts(?) as counts', [
        userId,
      ]);
      return datedCountsOf(rows[0]!.counts);
    },

    /** The counts, with when the user last opened the list (REST). */
    async counts(userId: string): Promise<InboxCounts & { seenAt: string | null }> {
      const rows = await execute<Array<{ counts: CountsJson; seenAt: string | null }>>(
        `select notification_counts(?) as counts,
                (select to_char(seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                   from notification_inbox_states where user_id = ?) as "seenAt"`,
        [userId, userId],
      );
      return { ...datedCountsOf(rows[0]!.counts).counts, seenAt: rows[0]?.seenAt ?? null };
    },

    /** The user's newest notification id (0n: none yet). */
    async latestId(userId: string): Promise<bigint> {
      const rows = await execute<Array<{ latest: string | null }>>(
        'select max(id)::text as latest from notifications where user_id = ?',
        [userId],
      );
      return BigInt(rows[0]?.latest ?? 0);
    },

    /** Unread in the inbox: archived notifications do not count. */
    async unreadCount(userId: string): Promise<number> {
      const rows = await execute<Array<{ count: string }>>(
        `select count(*) as count from notifications
          where user_id = ? and read_at is null and archived_at is null`,
        [userId],
      );
      return Number(rows[0]?.count ?? 0);
    },

    /** Marks some of the user's notifications read (ids of other users are ignored); announces the counts. */
    markRead(userId: string, ids: string[]): Promise<MarkResult> {
      return markAndAnnounce(orm, userId, (em) =>
        em.execute<Array<{ id: string }>>(
          `update notifications set read_at = now()
            where user_id = ? and id = any(?::bigint[]) and read_at is null returning id`,
          [userId, idArray(ids)],
        ),
      );
    },

    /** Marks all the user's notifications in the inbox read (not the archived ones); announces the counts. */
    markAllRead(userId: string): Promise<MarkResult> {
      return markAndAnnounce(orm, userId, (em) =>
        em.execute<Array<{ id: string }>>(
          `update notifications set read_at = now()
            where user_id = ? and read_at is null and archived_at is null returning id`,
          [userId],
        ),
      );
    },

    /**
     * Archives some of the user's notifications: they leave the inbox and the unread count.
     * Idempotent by its filter: an archived one, another user's or an unknown id is left as it
     * is and not counted in `updated`.
     */
    archive(userId: string, ids: string[]): Promise<MarkResult> {
      return markAndAnnounce(orm, userId, (em) =>
        em.execute<Array<{ id: string }>>(
          `update notifications set archived_at = now()
            where user_id = ? and id = any(?::bigint[]) and archived_at is null returning id`,
          [userId, idArray(ids)],
        ),
      );
    },

    /** Brings archived notifications back to the inbox, read or unread as they were; idempotent like `archive`. */
    unarchive(userId: string, ids: string[]): Promise<MarkResult> {
      return markAndAnnounce(orm, userId, (em) =>
        em.execute<Array<{ id: string }>>(
          `update notifications set archived_at = null
            where user_id = ? and id = any(?::bigint[]) and archived_at is not null returning id`,
          [userId, idArray(ids)],
        ),
      );
    },

    /**
     * The user opened the list and saw every notification up to `lastId`: the user's seen
     * watermark moves up to their newest id at or below it, never down, never past an id that
     * exists (an id from the future marks only what is there now). `updated`: 1 when it moved.
     */
    markSeen(userId: string, lastId: string): Promise<MarkResult> {
      return markAndAnnounce(orm, userId, (em) =>
        em.execute<Array<{ id: string }>>(
          `insert into notification_inbox_states as s (user_id, last_seen_id, seen_at)
           select ?, m.latest, now()
             from (select max(id) as latest from notifications where user_id = ? and id <= ?::bigint) m
            where m.latest is not null
           on conflict (user_id) do update set last_seen_id = excluded.last_seen_id, seen_at = excluded.seen_at
            where s.last_seen_id < excluded.last_seen_id
           returning last_seen_id::text as id`,
          [userId, userId, lastId],
        ),
      );
    },
  };
}

export type InboxState = 'inbox' | 'archived';

/** Ids as one `bigint[]` literal parameter (validated ids: digits only). */
const idArray = (ids: string[]): string => `{${ids.join(',')}}`;

export type NotificationQueries = ReturnType<typeof createNotificationQueries>;

export interface MarkResult {
  /** Notifications whose state the mark changed (for a seen mark: 1 when the watermark moved). */
  updated: number;
  /** The user's counts after the mark, and their date. */
  counts: InboxCounts;
  date: CountsDate;
}

/**
 * Runs a mark under the user's lock, then announces the user's counts on UNREAD_CHANNEL
 * (`announce_notification_counts`: the version moves up, the counts are NOTIFYed), so that every
 * tab of the user, on every server process, gets them. The lock orders the marks of a user (a
 * mark-read and an archive of the same rows, from two tabs, apply one after the other) and the
 * counts with the user's notifications (each statement of the transaction sees every commit
 * made before the lock was granted): a tab never gets counts that miss a notification it already
 * received, and counts every notification after them on top.
 */
async function markAndAnnounce(
  orm: Orm,
  userId: string,
  mark: (em: EntityManager) => Promise<unknown[]>,
): Promise<MarkResult> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute('select lock_user_notifications(?)', [userId]);
    const updated = (await mark(em)).length;
    // Dated by the user's newest id and the version this announce moves up: the hub drops a
    // count older than one it already published (a held count went out last).
    const [row] = await em.execute<Array<{ counts: CountsJson }>>(
      'select announce_notification_counts(?, ?) as counts',
      [userId, UNREAD_CHANNEL],
    );
    return { updated, ...datedCountsOf(row!.counts) };
  });
}

/**
 * For a feed that does not carry UNREAD_CHANNEL (polling, the embedded development database):
 * the process that marks publishes the new counts to its own hub, dated like the NOTIFY.
 */
export function announcingUnreadCounts(
  queries: NotificationQueries,
  hub: { publishCounts(userId: string, counts: InboxCounts, date?: CountsDate): void },
): NotificationQueries {
  const announcing =
    <Args extends unknown[]>(mark: (userId: string, ...args: Args) => Promise<MarkResult>) =>
    async (userId: string, ...args: Args): Promise<MarkResult> => {
      const result = await mark(userId, ...args);
      hub.publishCounts(userId, result.counts, result.date);
      return result;
    };
  return {
    ...queries,
    markRead: announcing(queries.markRead),
    markAllRead: announcing(queries.markAllRead),
    archive: announcing(queries.archive),
    unarchive: announcing(queries.unarchive),
    markSeen: announcing(queries.markSeen),
  };
}
