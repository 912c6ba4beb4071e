import { activityInfo, heartbeat, log } from '@temporalio/activity';
import type { EntityManager } from '@mikro-orm/postgresql';
import { UNREAD_CHANNEL } from '../db/orm.js';
import { forEachKeysetPage } from '../domain/keyset-pages.js';
import { REMINDER_TYPES } from '../domain/notification-types.js';
import {
  resumeRetention,
  retentionCutoff,
  type RetentionPosition,
  type RetentionProgress,
} from '../domain/retention.js';
import type { ActivityDependencies } from './dependencies.js';

/** Rows looked at per batch: one short transaction each, a few milliseconds of locks. */
const BATCH_SIZE = 1000;
/**
 * How long a run removes, from its instant: a backlog (the first run on a table years old) is
 * removed over several nights instead of one long run; retries count in it.
 */
const RUN_BUDGET_MS = 10 * 60_000;

export interface RetentionOptions {
  /** Rows per batch: 1,000 unless a test wants several batches of a few rows. */
  batchSize?: number;
  /** How long after its instant a run stops (after the batch in progress). */
  runBudgetMs?: number;
}

export interface RetentionResult extends Omit<RetentionProgress, 'after'> {
  /** False when the run stopped at its time budget with rows left: the next run goes on. */
  complete: boolean;
}

/**
 * What the retention keeps whatever its age: the reminders and alerts of a dossier still open.
 * Their idempotency keys are what stops a new plan of the dossier from sending them again: a
 * workflow started afresh for it (the hourly reconciliation after its run was lost) plans the
 * overdue alerts of a past deadline "now", the hourly urgent check alerts an urgent dossier whose
 * owner has no `urgent` alert since `urgent_since`, and the audit restores a reminder whose row
 * is gone. A dossier's reminders are a handful per deadline; they go once it is closed. Updates
 * (one per caller event) and daily reports (one per user and local date) are not asked for again.
 */
const KEPT = `(n.type in (${REMINDER_TYPES.map((type) => `'${type}'`).join(', ')})
  and exists (select 1 from dossiers d where d.id = n.dossier_id and d.status = 'open'))`;

interface Scanned {
  id: string;
  userId: string;
  unread: boolean;
  createdAt: string;
  kept: boolean;
}

interface BatchOutcome {
  /** Rows looked at: fewer than the batch size means the end. */
  scanned: number;
  last: RetentionPosition | undefined;
  removed: number;
  unread: number;
  kept: number;
  /** Locked by a write at that moment (a mark read, the user's lock): left for the next run. */
  skipped: number;
  /** The users who lost a row that was in one of their counts (unread, unseen, archived). */
  countsChanged: Set<string>;
}

/**
 * One batch, one transaction: the next rows created before the cutoff, in `(created_at, id)`
 * order after `after` (the index `notifications_created_at_id_index`), are removed unless kept.
 * - No wait: a row being written (a mark read) is skipped (`skip locked`), and so are the rows of
 *   a user whose lock is held (an insert or a mark of theirs in progress): each user's lock is
 *   only tried (`try_lock_user_notifications`), never waited for, so the batch never waits while
 *   it holds other users' locks. What it skips is left for the next run (the keyset goes past it).
 *   The table is never locked, only the batch's rows, for the transaction's milliseconds.
 * - Under the user's lock because the removal retires the rows' idempotency keys
 *   (`retired_notification_keys`, same transaction): the store's insert, under that lock, reads
 *   them afresh and stores nothing under a retired key (activities/notification-store.ts), so a
 *   reminder removed here is never sent again, even to a dossier reopened since.
 * - Unread rows go too, by age like the others (docs/operations.md, "Retention"). Their users'
 *   tabs get their new unread count, not from the batch: the run announces the counts its
 *   batches changed every few seconds and at its end, one per user (`announceCounts`).
 */
async function removeBatch(
  em: EntityManager,
  { cutoff, after, batchSize }: { cutoff: string; after: RetentionPosition | null; batchSize: number },
): Promise<BatchOutcome> {
  return em.transactional(async (tx) => {
    // The batch first, then what it keeps, row by row (a lateral subquery the planner may not
    // flatten): one index probe of an open dossier per reminder, not a hash of every open dossier.
    const scanned = await tx.execute<Scanned[]>(
      `select n.id::text as id, n.user_id as "userId", n.read_at is null as unread,
              to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "createdAt",
              k.kept
         from (select id, user_id, read_at, created_at, type, dossier_id from notifications
                where created_at < ?::timestamptz and (created_at, id) > (?::timestamptz, ?::bigint)
                order by created_at, id
                limit ?) n
        cross join lateral (select ${KEPT} as kept offset 0) k
        order by n.created_at, n.id`,
      [cutoff, after?.createdAt ?? '-infinity', after?.id ?? '0', batchSize],
    );
    const lastRow = scanned[scanned.length - 1];
    const last = lastRow && { createdAt: lastRow.createdAt, id: lastRow.id };
    const doomed = scanned.filter((row) => !row.kept);
    const kept = scanned.length - doomed.length;
    if (doomed.length === 0)
      return {
        scanned: scanned.length,
        last,
        removed: 0,
        unread: 0,
        kept,
        skipped: 0,
        countsChanged: new Set(),
      };
    // Each user's lock tried once (`offset 0`: the subquery is not flattened into the filter).
    const doomedUsers = [...new Set(doomed.map((row) => row.userId))];
    const locked = new Set(
      (
        await tx.execute<Array<{ userId: string }>>(
          `select u.user_id as "userId"
             from (select distinct jsonb_array_elements_text(?::jsonb) as user_id order by 1 offset 0) u
            where try_lock_user_notifications(u.user_id)`,
          [JSON.stringify(doomedUsers)],
        )
      ).map((row) => row.userId),
    );
    const removable = doomed.filter((row) => locked.has(row.userId));
    const removed =
      removable.length === 0
        ? []
        : await tx.execute<Array<{ id: string; userId: string; unread: boolean; counted: boolean }>>(
            `with doomed as (
               select n.id from notifications n
                where n.id in (select jsonb_array_elements_text(?::jsonb)::bigint)
                  and n.created_at < ?::timestamptz and not ${KEPT}
                for update of n skip locked
             ), removed as (
               delete from notifications n using doomed where n.id = doomed.id
               returning n.id, n.user_id, n.read_at is null as unread, n.archived_at is not null as archived,
                         n.idempotency_key
             ), retired as (
               insert into retired_notification_keys (idempotency_key, retired_at)
               select idempotency_key, now() from removed
               on conflict (idempotency_key) do nothing
             ), newest as (
               -- The newest id removed per user: the user's counts stay dated at or above it.
               insert into notification_inbox_states as s (user_id, newest_id_removed)
               select user_id, max(id) from removed group by user_id
               on conflict (user_id) do update
                 set newest_id_removed = greatest(s.newest_id_removed, excluded.newest_id_removed)
             )
             select r.id::text as id, r.user_id as "userId", r.unread,
                    -- In one of the user's counts: unread or unseen in the inbox, or archived.
                    (r.archived or r.unread or r.id > coalesce(s.last_seen_id, 0)) as counted
               from removed r left join notification_inbox_states s on s.user_id = r.user_id`,
            // One JSON parameter: the query builder would expand an array into a list.
            [JSON.stringify(removable.map((row) => row.id)), cutoff],
          );
    const countsChanged = new Set(removed.filter((row) => row.counted).map((row) => row.userId));
    const unread = removed.filter((row) => row.unread).length;
    return {
      scanned: scanned.length,
      last,
      removed: removed.length,
      unread,
      kept,
      skipped: doomed.length - removed.length,
      countsChanged,
    };
  });
}

/** How often a run announces the counts its batches changed: one announce per user meanwhile. */
const ANNOUNCE_EVERY_MS = 5_000;

/**
 * Announces the counts of the users a run changed (`due`, cleared as they go), as a mark does
 * (server/notifications/notification-queries.ts, markAndAnnounce: `announce_notification_counts`
 * moves the user's version up and NOTIFYs): counted under the user's lock, so the counts are
 * ordered with their notifications and marks, and dated at or above the newest id the run
 * removed (`newest_id_removed`, written by the batch): never older than counts their tabs have.
 * Together, not one per batch: a backlog removes some of a user's rows in many batches, and one
 * announce per batch would be a storm of NOTIFYs (140,000 for 1,400 users on a 200,000-row
 * backlog), each sent to every delivery server. The locks are only tried, all users in one
 * transaction; at the run's end (`waitForLocks`) a user whose lock was held gets one transaction
 * of their own, which waits for that lock only.
 */
async function announceCounts(
  em: EntityManager,
  due: Set<string>,
  { waitForLocks }: { waitForLocks: boolean },
) {
  if (due.size === 0) return;
  const announce = (lock: 'try_lock_user_notifications' | 'lock_user_notifications', userIds: string[]) =>
    em.transactional(async (tx) => {
      // Waiting for one user's lock (nothing else held): at most a few seconds.
      if (lock === 'lock_user_notifications') await tx.execute(`set local lock_timeout = '5s'`);
      return tx.execute<Array<{ userId: string }>>(
        `select a.user_id as "userId", announce_notification_counts(a.user_id, ?)
           from (select distinct jsonb_array_elements_text(?::jsonb) as user_id order by 1 offset 0) a
          where ${lock}(a.user_id)`,
        [UNREAD_CHANNEL, JSON.stringify(userIds)],
      );
    });
  for (const { userId } of await announce('try_lock_user_notifications', [...due])) due.delete(userId);
  if (!waitForLocks) return;
  for (const userId of [...due]) {
    due.delete(userId);
    try {
      await announce('lock_user_notifications', [userId]);
    } catch (error) {
      // Held for more than 5 s (a long write of theirs): their tabs' counts
      // stay as they were until their next mark or reload; the rows are gone all the same.
      log.warn('Notification retention: counts not announced, the user is locked', {
        userId,
        err: error,
      });
    }
  }
}

/**
 * The notification retention, run daily by its schedule: the notifications older than
 * NOTIFICATION_RETENTION are removed in batches (see `removeBatch`), except those still needed
 * (`KEPT`). Each batch heartbeats the run's progress, so a retry goes on after the last batch;
 * the run stops at its time budget and the next one goes on.
 */
export function createRetentionActivities(
  deps: ActivityDependencies,
  { batchSize = BATCH_SIZE, runBudgetMs = RUN_BUDGET_MS }: RetentionOptions = {},
) {
  const { orm, config, retentionMetrics } = deps;

  return {
    async removeOldNotifications({ at }: { at: string }): Promise<RetentionResult> {
      const retention = config.notificationRetention;
      if (retention === undefined) {
        log.info('Notification retention off (NOTIFICATION_RETENTION=off): nothing removed');
        return { removed: 0, unread: 0, kept: 0, skipped: 0, batches: 0, complete: true };
      }
      // From the run's instant, not the attempt's: every attempt removes up to the same cutoff.
      const cutoff = retentionCutoff(at, retention);
      const stopAt = Date.parse(at) + runBudgetMs;
      const progress: RetentionProgress = { ...resumeRetention(activityInfo().heartbeatDetails) };
      if (progress.after !== null) log.info('Notification retention resumed', { ...progress, cutoff });
      const em = orm.em.fork();
      /** The users whose counts the run changed, not announced yet. */
      const due = new Set<string>();
      let announcedAt = Date.now();
      const complete = await forEachKeysetPage((after) => removeBatch(em, { cutoff, after, batchSize }), {
        pageSize: batchSize,
        from: progress.after,
        sizeOf: (batch) => batch.scanned,
        lastOf: (batch) => batch.last!,
        onPage: async (batch) => {
          progress.after = batch.last ?? progress.after;
          progress.removed += batch.removed;
          progress.unread += batch.unread;
          progress.kept += batch.kept;
          progress.skipped += batch.skipped;
          progress.batches += 1;
          retentionMetrics?.removed({ read: batch.removed - batch.unread, unread: batch.unread });
          for (const userId of batch.countsChanged) due.add(userId);
          if (Date.now() - announcedAt >= ANNOUNCE_EVERY_MS) {
            await announceCounts(em, due, { waitForLocks: false });
            announcedAt = Date.now();
          }
          heartbeat(progress);
        },
        readOn: () => Date.now() < stopAt,
      });
      await announceCounts(em, due, { waitForLocks: true });
      const { after: _after, ...counts } = progress;
      if (complete) log.info('Notification retention done', { ...counts, cutoff, retention });
      else {
        log.warn('Notification retention stopped at its time budget: the next run goes on', {
          ...counts,
          cutoff,
          retention,
          after: progress.after,
        });
      }
      return { ...counts, complete };
    },
  };
}
