import { RestError, snoozeNotification } from '../client/notify-client.js';
import { currentToken } from './session.js';

/**
 * Snoozing a reminder or alert from the bell ("Reporter"): the three presets the server knows
 * (docs/reminders.md, "Snooze"), what the menu and the confirmation say, and the call, retried
 * with its event id when no answer came.
 */

export type SnoozePreset = 'tomorrow' | 'in-2-hours' | 'next-business-day';

/** The menu, in the order shown, and the confirmation on the item once the server has it. */
export const SNOOZE_PRESETS: ReadonlyArray<{ preset: SnoozePreset; label: string; done: string }> = [
  { preset: 'tomorrow', label: 'Demain 08:00', done: 'Reporté à demain 08:00' },
  { preset: 'in-2-hours', label: 'Dans 2 heures', done: 'Reporté dans 2 heures' },
  { preset: 'next-business-day', label: 'Prochain jour ouvré', done: 'Reporté au prochain jour ouvré' },
];

/** Tries of one snooze: a lost answer or a busy server is tried again, with the same event id. */
const SNOOZE_TRIES = 3;
/** Before the second try, doubled before the third: a restarting server is back within seconds. */
const SNOOZE_RETRY_MS = 1_000;

/** The event id of each snooze not yet answered, by notification and preset: a retry reuses it. */
const pending = new Map<string, string>();

const eventIdOf = (id: string, preset: SnoozePreset): string => {
  const key = `${id}:${preset}`;
  let eventId = pending.get(key);
  if (eventId === undefined) {
    // One event per choice; the page is served over https or loopback, where randomUUID exists.
    eventId = `bell-snooze-${crypto.randomUUID()}`;
    pending.set(key, eventId);
  }
  return eventId;
};

/** Worth trying again: no answer, a busy or unavailable server, or a rate limit. */
const passing = (error: unknown): boolean =>
  error instanceof RestError && (error.status === 0 || error.status === 429 || error.status >= 500);

/**
 * Snoozes notification `id`: resolves once the server accepted it (and marked it read), rejects
 * with the reason it was refused. The same choice made again after a failure reuses its event id.
 */
export async function snooze(id: string, preset: SnoozePreset): Promise<void> {
  const eventId = eventIdOf(id, preset);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await snoozeNotification({ token: await currentToken(), id, when: { preset }, eventId });
      pending.delete(`${id}:${preset}`);
      return;
    } catch (error) {
      if (attempt >= SNOOZE_TRIES || !passing(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, SNOOZE_RETRY_MS * 2 ** (attempt - 1)));
    }
  }
}

/** A notification that is a snoozed one coming back (`data.snoozedFrom`: the id of the first). */
export const snoozedFrom = (data: Record<string, unknown>): string | undefined =>
  typeof data.snoozedFrom === 'string' ? data.snoozedFrom : undefined;
