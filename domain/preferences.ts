import { CLOCK_TIME_PATTERN } from './limits.js';

/**
 * A user's notification preferences: per kind, in the bell or not and browser popup or not, and
 * quiet hours (no popup; the notification still lands in the inbox). Pure: the delivery activity
 * (activities/notification-delivery.ts) applies `deliveryOf` when it stores a notification, the
 * REST routes validate with `preferenceIssues`, the bell's settings panel lists `preferenceKinds`.
 * docs/reminders.md, "Preferences and quiet hours".
 */

/** Kinds with a name: the alerts, the daily report and the dossier's notices. */
export const NAMED_KINDS = [
  'overdue',
  'overdue_critical',
  'urgent',
  'report',
  'created',
  'updated',
  'rescheduled',
  'assigned',
  'completed',
  'reopened',
] as const;

/** `j-N` reminders: N days before the deadline, 0 to 999 as REMINDER_OFFSETS_DAYS allows (config/env-schema.ts). */
const REMINDER_KIND = String.raw`j-(?:0|[1-9]\d{0,2})`;

/** Every kind a preference may name: `j-N` or a named kind (the OpenAPI document shows it). */
export const PREFERENCE_KIND_PATTERN = new RegExp(`^(?:${REMINDER_KIND}|${NAMED_KINDS.join('|')})$`);

/**
 * What cannot be muted: a dossier three days late costs the client penalties, and the owner must
 * see it whatever their settings say (in the bell and as a popup, quiet hours included).
 */
export const UNMUTABLE_KINDS: readonly string[] = ['overdue_critical'];

export interface KindPreference {
  /** In the bell (the inbox and the unread count); off: stored archived, in the Archives view. */
  bell: boolean;
  /** A browser popup when it arrives (never for one out of the bell). */
  popup: boolean;
}

/** Local `HH:mm`, `from` included and `to` excluded; `from` after `to` spans midnight (22:00–07:00). */
export interface QuietHours {
  from: string;
  to: string;
}

export interface NotificationPreferences {
  /** Only the kinds the user changed: any other is in the bell with a popup. */
  kinds: Record<string, KindPreference>;
  quietHours: QuietHours | null;
}

export const DEFAULT_PREFERENCES: NotificationPreferences = Object.freeze({ kinds: {}, quietHours: null });
const DEFAULT_KIND: KindPreference = Object.freeze({ bell: true, popup: true });

/** Why a notification makes no popup (`data.silencedBy`), or is out of the bell. */
export type Silence = 'preference' | 'quiet_hours';

export interface Delivery {
  bell: boolean;
  popup: boolean;
  /** Set when `popup` is false. */
  silencedBy?: Silence;
}

export const isPreferenceKind = (kind: string): boolean => PREFERENCE_KIND_PATTERN.test(kind);

/** The kinds the settings panel lists: the service's `j-N` (nearest the deadline last), then the named ones. */
export function preferenceKinds(offsetsDays: readonly number[]): string[] {
  const reminders = [...new Set(offsetsDays)].sort((a, b) => b - a).map((days) => `j-${days}`);
  return [...reminders, ...NAMED_KINDS];
}

/** Minutes since local midnight of `HH:mm`. */
export const minutesOf = (clock: string): number => {
  const [hours, minutes] = clock.split(':').map(Number);
  return hours! * 60 + minutes!;
};

/** Whether local minute `minute` (0–1439) falls in the quiet hours. */
export function inQuietHours(quiet: QuietHours | null, minute: number): boolean {
  if (!quiet) return false;
  const [from, to] = [minutesOf(quiet.from), minutesOf(quiet.to)];
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

/** The preference that applies to `kind` (a snoozed reminder keeps its kind). */
export function kindPreference(preferences: NotificationPreferences, kind: string): KindPreference {
  if (UNMUTABLE_KINDS.includes(kind)) return DEFAULT_KIND;
  return preferences.kinds[kind] ?? DEFAULT_KIND;
}

/**
 * How a notification of `kind` reaches its user at local minute `minute`: out of the bell when
 * the user turned the kind off there (and then without a popup), without a popup when they turned
 * popups off or it comes in their quiet hours. Unmutable kinds always come in full.
 */
export function deliveryOf(preferences: NotificationPreferences, kind: string, minute: number): Delivery {
  const { bell, popup } = kindPreference(preferences, kind);
  if (!bell) return { bell: false, popup: false, silencedBy: 'preference' };
  if (!popup) return { bell, popup: false, silencedBy: 'preference' };
  if (!UNMUTABLE_KINDS.includes(kind) && inQuietHours(preferences.quietHours, minute))
    return { bell, popup: false, silencedBy: 'quiet_hours' };
  return { bell, popup: true };
}

/** What is wrong with preferences as given: a field path and a message each (the schemas' refinements). */
export function preferenceIssues(
  preferences: NotificationPreferences,
): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  for (const [kind, preference] of Object.entries(preferences.kinds)) {
    if (!isPreferenceKind(kind))
      issues.push({
        path: ['kinds', kind],
        message: `is not a notification kind (j-N, ${NAMED_KINDS.join(', ')})`,
      });
    else if (UNMUTABLE_KINDS.includes(kind) && !(preference.bell && preference.popup))
      issues.push({
        path: ['kinds', kind],
        message: 'cannot be muted: a critically late dossier always reaches its owner',
      });
  }
  const quiet = preferences.quietHours;
  if (quiet && quiet.from === quiet.to)
    issues.push({
      path: ['quietHours', 'to'],
      message: 'must differ from quietHours.from (an empty or whole-day span)',
    });
  return issues;
}

/**
 * Preferences as stored, read defensively: a row another writer left malformed (the API refuses
 * such input) loses only its malformed parts, and an unmutable kind is never muted, so a
 * notification is always stored, whatever the row holds.
 */
export function preferencesFrom(
  stored: { kinds?: unknown; quietHours?: unknown } | undefined,
): NotificationPreferences {
  const kinds: Record<string, KindPreference> = {};
  if (stored?.kinds && typeof stored.kinds === 'object' && !Array.isArray(stored.kinds)) {
    for (const [kind, value] of Object.entries(stored.kinds as Record<string, unknown>)) {
      const { bell, popup } = (value ?? {}) as Partial<KindPreference>;
      if (
        isPreferenceKind(kind) &&
        !UNMUTABLE_KINDS.includes(kind) &&
        typeof bell === 'boolean' &&
        typeof popup === 'boolean'
      )
        kinds[kind] = { bell, popup };
    }
  }
  const quiet = stored?.quietHours as Partial<QuietHours> | null | undefined;
  const quietHours =
    quiet &&
    typeof quiet.from === 'string' &&
    typeof quiet.to === 'string' &&
    CLOCK_TIME_PATTERN.test(quiet.from) &&
    CLOCK_TIME_PATTERN.test(quiet.to) &&
    quiet.from !== quiet.to
      ? { from: quiet.from, to: quiet.to }
      : null;
  return { kinds, quietHours };
}
