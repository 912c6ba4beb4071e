import type { EntityManager } from '@mikro-orm/postgresql';
import {
  preferencesFrom,
  type KindPreference,
  type NotificationPreferences,
  type QuietHours,
} from '../domain/preferences.js';

/**
 * A user's notification preferences in `notification_preferences` (db/migrations/
 * Migration20261207000000NotificationPreferences.ts): the REST server writes them, the delivery
 * activity reads them. No row: the defaults (every kind in the bell, with a popup, no quiet hours).
 */

export async function readPreferences(em: EntityManager, userId: string): Promise<NotificationPreferences> {
  const rows = await em.execute<Array<{ kinds: unknown; quiet_hours: unknown }>>(
    'select kinds, quiet_hours from notification_preferences where user_id = ?',
    [userId],
  );
  const row = rows[0];
  return preferencesFrom(row && { kinds: row.kinds, quietHours: row.quiet_hours });
}

/** What a change sets; a field left undefined keeps its stored value. */
export interface PreferencesChange {
  kinds?: Record<string, KindPreference>;
  quietHours?: QuietHours | null;
}

/** Writes the fields given (one upsert: two writers never lose each other's other field); returns the result. */
export async function writePreferences(
  em: EntityManager,
  userId: string,
  change: PreferencesChange,
): Promise<NotificationPreferences> {
  const rows = await em.execute<Array<{ kinds: unknown; quiet_hours: unknown }>>(
    `insert into notification_preferences as p (user_id, kinds, quiet_hours)
          values (?, coalesce(?::jsonb, '{}'::jsonb), ?::jsonb)
     on conflict (user_id) do update
        set kinds = case when ? then excluded.kinds else p.kinds end,
            quiet_hours = case when ? then excluded.quiet_hours else p.quiet_hours end,
            updated_at = now()
     returning kinds, quiet_hours`,
    [
      userId,
      change.kinds === undefined ? null : JSON.stringify(change.kinds),
      change.quietHours == null ? null : JSON.stringify(change.quietHours),
      change.kinds !== undefined,
      change.quietHours !== undefined,
    ],
  );
  return preferencesFrom({ kinds: rows[0]!.kinds, quietHours: rows[0]!.quiet_hours });
}
