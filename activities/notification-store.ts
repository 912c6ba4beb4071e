import type { EntityManager } from '@mikro-orm/postgresql';
import { NOTIFICATION_CHANNEL } from '../db/orm.js';

export interface NotificationDraft {
  idempotencyKey: string;
  userId: string;
  type: string;
  kind: string;
  dossierId: string | null;
  title: string;
  body: string;
  data: Record<string, unknown>;
  scheduledFor: string | null;
  /** Stored archived (the user keeps this kind out of the bell): out of the inbox and the unread count. */
  archived?: boolean;
}

/** A dossier as it must still be for a notification about it to be stored: open, with this deadline, the recipient's. */
export interface OpenDossierGuard {
  id: string;
  dueDate: string | null;
  dueAt: string | null;
}

/**
 * What the store answers. `id` is the row's, or null when there is no row: a retired key
 * (`RetiredKey`) or a guard that no longer holds (`DossierChanged`); tell them apart by their
 * discriminating field (`'retired' in stored`, `'dossierChanged' in stored`), not by the id.
 */
export type StoredNotification = StoredRow | RetiredKey;

/** The row under the draft's key: inserted now (`created`), or already there (a duplicate). */
export interface StoredRow {
  id: string;
  created: boolean;
}

/**
 * Not stored: the key was retired, its notification removed by the retention (docs/
 * operations.md, "Retention"). A duplicate, as if its row were still there: sent once, never
 * again. There is no row, so no id: null, the same sentinel as `DossierChanged`'s.
 */
export interface RetiredKey {
  id: null;
  created: false;
  retired: true;
}

/** Not stored: the guard no longer holds (the dossier was closed or its deadline moved). */
export interface DossierChanged {
  id: null;
  created: false;
  dossierChanged: true;
}

/**
 * Stores a notification once and announces it. One statement: the insert is skipped when the
 * idempotency key exists (a retry, a replay, a second scheduler run), and `pg_notify` runs only
 * for a row actually inserted; a retired key (its row removed by the retention) is skipped
 * the same way, answered `id: null, created: false, retired: true`. The user's lock (`lock_user_notifications`) makes each user's
 * ids commit in increasing order. PostgreSQL delivers the NOTIFY at commit, so listeners never see
 * a notification that is not stored. The payload is the notification as clients receive it;
 * the 8000-byte NOTIFY limit falls back to the id, for listeners to read the row.
 */
export async function storeNotification(
  em: EntityManager,
  draft: NotificationDraft,
): Promise<StoredNotification> {
  return (await insertOnce(em, draft, undefined)) as StoredNotification;
}

/**
 * `storeNotification`, only while the dossier is still open, with the guard's deadline and the
 * recipient as its owner: its row is read FOR SHARE in the insert, so a `complete`, a reschedule
 * or an `assign` committed meanwhile wins, and one still to come waits for this commit. The audit's restores use it: a run answered its query a
 * moment ago, and may have applied a call since.
 */
export async function storeNotificationWhileDossierOpen(
  em: EntityManager,
  draft: NotificationDraft,
  guard: OpenDossierGuard,
): Promise<StoredNotification | DossierChanged> {
  return insertOnce(em, draft, guard);
}

async function insertOnce(
  em: EntityManager,
  draft: NotificationDraft,
  guard: OpenDossierGuard | undefined,
): Promise<StoredNotification | DossierChanged> {
  // `em.execute`, not `em.getConnection().execute`: only the former runs in the EntityManager's
  // transaction (when there is one), so that a rollback drops the row and its NOTIFY.
  const rows = await em.execute<Array<{ id: string }>>(
    `with inserted as (
       insert into notifications (idempotency_key, user_id, type, kind, dossier_id, title, body, data, scheduled_for, archived_at)
       -- The user's lock is taken before the id is drawn and held until commit.
       -- Then, under it, whether the key was retired (the retention removed its row): read
       -- afresh by the function, so a removal that committed while this waited is seen.
       select ?, ?::text, ?, ?, ?, ?, ?, ?::jsonb, ?::timestamptz, case when ? then now() end
        where case when lock_user_notifications(?) then not notification_key_retired(?) else false end
          and (?::text is null or exists (
                select 1 from dossiers d
                 where d.id = ?::text and d.status = 'open' and d.owner_id = ?::text
                   and d.due_date is not distinct from ?::date
                   -- As the snapshot reads it: to the millisecond (a row NormX wrote may hold microseconds).
                   and date_trunc('milliseconds', d.due_at) is not distinct from ?::timestamptz
                   for share))
       on conflict (idempotency_key) do nothing
       returning *
     )
     select n.id::text as id,
            pg_notify(?, case when octet_length(w.payload) < 7900 then w.payload
                              else json_build_object('id', n.id::text, 'userId', n.user_id, 'truncated', true)::text end)
       from inserted n, lateral (select notification_wire(n::notifications) as payload) w`,
    [
      draft.idempotencyKey,
      draft.userId,
      draft.type,
      draft.kind,
      draft.dossierId,
      draft.title,
      draft.body,
      JSON.stringify(draft.data),
      draft.scheduledFor,
      draft.archived === true,
      draft.userId,
      draft.idempotencyKey,
      guard?.id ?? null,
      guard?.id ?? null,
      draft.userId,
      guard?.dueDate ?? null,
      guard?.dueAt ?? null,
      NOTIFICATION_CHANNEL,
    ],
  );
  const inserted = rows[0];
  if (inserted) return { id: inserted.id, created: true };
  const existing = await em.execute<Array<{ id: string }>>(
    'select id::text as id from notifications where idempotency_key = ?',
    [draft.idempotencyKey],
  );
  if (existing[0]) return { id: existing[0].id, created: false };
  const retired = await em.execute<Array<{ retired: boolean }>>(
    'select notification_key_retired(?) as retired',
    [draft.idempotencyKey],
  );
  if (retired[0]?.retired) return { id: null, created: false, retired: true };
  if (guard) return { id: null, created: false, dossierChanged: true };
  throw new Error(`Notification ${draft.idempotencyKey}: neither inserted nor found`);
}
