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

  /** Hours sent again unchanged (a retry, or the same hour asked again). */
  const resends = new RecentChanges<string | null>(REMINDER_TIME_RESENDS);

  /**
   * Counts a reminder hour about to be sent (429 past the limits). It is a change when it differs
   * from the last hour sent from here (else the stored one); the same hour again takes from the
   * larger budget of resends. Nothing is given back when Temporal then fails: a send that timed
   * out may still have been applied.
   */
  async function countReminderTime(userId: string, reminderTime: string | null): Promise<void> {
    const asked = recentChanges.last(userId);
    const current = asked ? asked.value : await queries.reminderTimeOf(userId);
    const budget = reminderTime === current ? resends : recentChanges;
    if (!budget.take(userId, reminderTime)) {
      const retryAfterSeconds = Math.max(1, Math.ceil(budget.waitMs(userId) / 1000));
      throw new ClientError(
        'rate_limited',
        budget === recentChanges
          ? `At most ${REMINDER_TIME_CHANGES.max} reminder hour changes per ${REMINDER_TIME_CHANGES.windowMs / 60_000} minutes: each re-plans every open dossier`
          : `At most ${REMINDER_TIME_RESENDS.max} reminder hours sent again per ${REMINDER_TIME_RESENDS.windowMs / 60_000} minutes`,
        [],
        { retryAfterSeconds },
      );
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
    // Counted first (a 429 changes nothing); then the kinds and quiet hours, then the hour. The
    // hour is always sent: the profile workflow applies its events in order and saves only a
    // change, while what this process or the table knows may be behind (it saves a moment after
    // the reply; another server or the backend's profile call may have sent one since). A 503
    // (Temporal did not answer) leaves the rest stored and the hour perhaps applied: the same
    // PUT sent again is applied once.
    if (reminderTime !== undefined) await countReminderTime(userId, reminderTime);
    const preferences = await queries.write(userId, change);
    if (reminderTime !== undefined) await engine(() => dossiers.updateUserProfile(userId, { reminderTime }));
    // The profile workflow saves the hour a moment later: the reply says what was asked.
    const stored = reminderTime === undefined ? await queries.reminderTimeOf(userId) : reminderTime;
    return { status: 200, body: reply({ preferences, reminderTime: stored }) };
  });
}
