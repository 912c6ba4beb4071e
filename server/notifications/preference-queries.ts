import type { Orm } from '../../db/orm.js';
import { readPreferences, writePreferences, type PreferencesChange } from '../../db/preferences.js';
import type { NotificationPreferences } from '../../domain/preferences.js';

/** A user's preferences as the REST routes read them: the stored ones, and the profile's reminder time. */
export interface StoredPreferences {
  preferences: NotificationPreferences;
  /** `users.reminder_time`: the user's own j-N hour, null for the service's (or no users row yet). */
  reminderTime: string | null;
}

/** The server's reads and writes of `notification_preferences` (db/preferences.ts), one user at a time. */
export function createPreferenceQueries(orm: Orm) {
  async function reminderTimeOf(userId: string): Promise<string | null> {
    const rows = await orm.em
      .fork()
      .execute<Array<{ reminder_time: string | null }>>('select reminder_time from users where id = ?', [
        userId,
      ]);
    return rows[0]?.reminder_time ?? null;
  }
  return {
    async read(userId: string): Promise<StoredPreferences> {
      const [preferences, reminderTime] = await Promise.all([
        readPreferences(orm.em.fork(), userId),
        reminderTimeOf(userId),
      ]);
      return { preferences, reminderTime };
    },
    reminderTimeOf,
    write: (userId: string, change: PreferencesChange): Promise<NotificationPreferences> =>
      writePreferences(orm.em.fork(), userId, change),
  };
}

export type PreferenceQueries = ReturnType<typeof createPreferenceQueries>;
