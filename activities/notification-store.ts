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
}

export interface StoredNotification {
  id: string;
  created: boolean;
}

/**
 * Stores a notification once and announces it. One statement: the insert is skipped when the
 * idempotency key exists (a retry, a replay, a second scheduler run), and `pg_notify` runs only
 * for a row actually inserted. The user's lock (`lock_user_notifications`) makes each user's
 * ids commit in increasing order. PostgreSQL delivers the NOTIFY at commit, so listeners never see
 * a notification that is not stored. The payload is the notification as clients receive it;
 * the 8000-byte NOTIFY limit falls back to the id, for listeners to read the row.
 */
export async function storeNotification(
  em: EntityManager,
  draft: NotificationDraft,
): Promise<StoredNotification> {
  // `em.execute`, not `em.getConnection().execute`: only the former runs in the EntityManager's
  // transaction (when there is one), so that a rollback drops the row and its NOTIFY.
  const rows = await em.execute<Array<{ id: string }>>(
    `with inserted as (
       insert into notifications (idempotency_key, user_id, type, kind, dossier_id, title, body, data, scheduled_for)
       -- The user's lock is taken before the id is drawn and held until commit.
       select ?, ?::text, ?, ?, ?, ?, ?, ?::jsonb, ?::timestamptz where lock_user_notifications(?)
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
      draft.userId,
      NOTIFICATION_CHANNEL,
    ],
  );
  const inserted = rows[0];
  if (inserted) return { id: inserted.id, created: true };
  const existing = await em.execute<Array<{ id: string }>>(
    'select id::text as id from notifications where idempotency_key = ?',
    [draft.idempotencyKey],
  );
  return { id: existing[0]!.id, created: false };
}
