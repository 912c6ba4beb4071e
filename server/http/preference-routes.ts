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
/** The same hour sent again (retries) per window: cheap for the workflow (nothing re-plans), still bounded. */
const REMINDER_TIME_RESENDS = { max: 20, windowMs: 10 * 60_000 };

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
  const recentChanges = new RecentChanges<string | null>(REMINDER_TIME_CHANGES);

  /** Hours sent again unchanged (a retry, while the workflow has not saved the last one yet). */
  const resends = new RecentChanges<string | null>(REMINDER_TIME_RESENDS);

  /**
   * Sends a reminder hour to the user's profile workflow, which saves it a moment after the reply.
   * Sent when it differs from the stored hour or from the last one sent from here (a change back
   * before the save must reach the workflow too). It counts as a change when it differs from the
   * last one sent (else the stored one); the same hour sent again, a retry whose answer was lost,
   * takes from a larger budget of resends. A send Temporal refused is taken back.
   */
  async function changeReminderTime(userId: string, reminderTime: string | null): Promise<void> {
    const stored = await queries.reminderTimeOf(userId);
    const asked = recentChanges.last(userId);
    if (reminderTime === stored && (!asked || reminderTime === asked.value)) return;
    const budget = reminderTime === (asked ? asked.value : stored) ? resends : recentChanges;
    const previous = budget.last(userId);
    if (!budget.take(userId, reminderTime)) {
      throw new ClientError(
        'rate_limited',
        `At most ${REMINDER_TIME_CHANGES.max} reminder hour changes per ${REMINDER_TIME_CHANGES.windowMs / 60_000} minutes: each re-plans every open dossier`,
      );
    }
    try {
      await engine(() => dossiers.updateUserProfile(userId, { reminderTime }));
    } catch (error) {
      budget.refund(userId, previous);
      throw error;
    }
  }

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
    if (reminderTime !== undefined) await changeReminderTime(userId, reminderTime);
    const preferences = await queries.write(userId, change);
    // The profile workflow saves the hour a moment later: the reply says what was asked.
    const stored = reminderTime === undefined ? await queries.reminderTimeOf(userId) : reminderTime;
    return { status: 200, body: reply({ preferences, reminderTime: stored }) };
  });
}
