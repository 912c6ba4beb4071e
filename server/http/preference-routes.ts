import type { DossierClient } from '../../client/dossier-client.js';
import {
  kindPreference as kindPreferenceOf,
  preferenceKinds,
  UNMUTABLE_KINDS,
} from '../../domain/preferences.js';
import { ClientError } from '../errors.js';
import type { PreferenceQueries, StoredPreferences } from '../notifications/preference-queries.js';
import { preferencesBody, userId as userIdSchema } from './api-schemas.js';
import { RecentChanges } from './recent-changes.js';
import type { RestKit } from './rest-kit.js';

/**
 * Changes of the reminder hour a user may make per window: each re-plans every open dossier of
 * theirs (a signal and a workflow task each), so a user toggling it in a loop would keep the
 * workers busy for everyone. Three per ten minutes leaves room to correct a slip.
 */
export const REMINDER_TIME_CHANGES = { max: 3, windowMs: 10 * 60_000 };

/**
 * A user's notification preferences (docs/reminders.md, "Preferences and quiet hours"), for the
 * user's own token (`me`) or the service token (the user's id): per kind in the bell or not and
 * popup or not, quiet hours, and the reminder hour, which is the profile's (`users.reminder_time`):
 * a change goes to the user's profile workflow, which re-plans their open dossiers.
 */
export function registerPreferenceRoutes(
  { route, userOrService, input, engine }: RestKit,
  {
    queries,
    dossiers,
    reminders,
  }: {
    queries: PreferenceQueries;
    dossiers: DossierClient;
    reminders: { defaultReminderTime: string; offsetsDays: number[] };
  },
): void {
  const recentChanges = new RecentChanges(REMINDER_TIME_CHANGES);

  /** Every kind the service sends, then any other the user set (an offset the service no longer uses). */
  const reply = ({ preferences, reminderTime }: StoredPreferences) => {
    const kinds = [
      ...new Set([...preferenceKinds(reminders.offsetsDays), ...Object.keys(preferences.kinds)]),
    ];
    return {
      kinds: kinds.map((kind) => ({
        kind,
        ...kindPreferenceOf(preferences, kind),
        mutable: !UNMUTABLE_KINDS.includes(kind),
      })),
      quietHours: preferences.quietHours,
      reminderTime,
      defaultReminderTime: reminders.defaultReminderTime,
    };
  };

  route('get', '/api/v1/users/:userId/preferences', async (context) => {
    const userId = input(userIdSchema, await userOrService(context), 'userId');
    return { status: 200, body: reply(await queries.read(userId)) };
  });

  route('put', '/api/v1/users/:userId/preferences', async (context) => {
    const userId = input(userIdSchema, await userOrService(context), 'userId');
    const { reminderTime, ...change } = input(preferencesBody, context.body);
    // The reminder hour first: when Temporal refuses it (503), nothing is changed.
    if (reminderTime !== undefined && reminderTime !== (await queries.reminderTimeOf(userId))) {
      if (!recentChanges.take(userId)) {
        throw new ClientError(
          'rate_limited',
          `At most ${REMINDER_TIME_CHANGES.max} reminder hour changes per ${REMINDER_TIME_CHANGES.windowMs / 60_000} minutes: each re-plans every open dossier`,
        );
      }
      await engine(() => dossiers.updateUserProfile(userId, { reminderTime }));
    }
    const preferences = await queries.write(userId, change);
    // The profile workflow saves the hour a moment later: the reply says what was asked.
    const stored = reminderTime === undefined ? await queries.reminderTimeOf(userId) : reminderTime;
    return { status: 200, body: reply({ preferences, reminderTime: stored }) };
  });
}
