// A generated life on the server's clock: moved by whole days (DST changes kept), and its rounds.
import { DateTime } from 'luxon';
import { DST_CHANGES } from './life-choices.js';
import type { Life, LifeAction, LifeStep } from './life.js';
import type { Deadline } from './reference-model.js';

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;

const offsetAt = (t: number, zone: string) => DateTime.fromMillis(t, { zone }).offset;
const DST_ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Sydney'];

/** The first instant (to the hour) from `from` on where `zone` goes from offset `before` to `after`. */
function nextChange(zone: string, before: number, after: number, from: number): number | undefined {
  for (let day = Math.floor(from / DAY) * DAY; day < from + 800 * DAY; day += DAY) {
    if (offsetAt(day, zone) !== before || offsetAt(day + DAY, zone) !== after) continue;
    let hour = day;
    while (offsetAt(hour, zone) === before) hour += HOUR;
    if (hour >= from) return hour;
  }
  return undefined;
}

/**
 * Whole days to add to a life so that it starts after `notBefore`: the fewest, except for a life
 * that starts near a DST change (the generator aims at them), which is moved onto the same change
 * (zone and direction) of a later year, so that it still crosses it at the same point.
 */
export function shiftDays(life: Life, notBefore: number): number {
  const fewest = Math.max(0, Math.ceil((notBefore - life.start) / DAY));
  const near = DST_CHANGES.filter((c) => life.start - c >= -12 * DAY && life.start - c <= 3 * DAY).sort(
    (a, b) => Math.abs(life.start - a) - Math.abs(life.start - b),
  )[0];
  if (near === undefined) return fewest;
  for (const zone of DST_ZONES) {
    const [before, after] = [offsetAt(near - HOUR, zone), offsetAt(near, zone)];
    if (before === after) continue;
    const target = nextChange(zone, before, after, near + (notBefore - life.start));
    if (target === undefined || (target - near) % DAY !== 0) return fewest;
    const days = (target - near) / DAY;
    // Far enough from the API's date limits (2099) however many lives run.
    const fits = life.start + days * DAY >= notBefore && life.end + days * DAY < Date.UTC(2090, 0, 1);
    return fits ? days : fewest;
  }
  return fewest;
}

/**
 * The life moved by `days` whole days (every instant, `dueAt`s by the same milliseconds, `dueDate`s
 * by the same number of days), its dossier and owner ids prefixed so that lives share nothing.
 */
export function rebaseLife(life: Life, days: number, prefix: string): Life {
  const shift = (ms: number) => ms + days * DAY;
  const owner = (id: string) => `${prefix}${id}`;
  // The generator spells every dueAt of a life in UTC or in u1's starting zone: so does the shift.
  const spellZone = life.owners.u1 ?? 'UTC';
  const deadline = (d: Deadline): Deadline => {
    if (d.dueDate !== undefined) {
      return { dueDate: DateTime.fromISO(d.dueDate, { zone: 'utc' }).plus({ days }).toISODate()! };
    }
    const ms = shift(Date.parse(d.dueAt));
    return {
      dueAt: d.dueAt.endsWith('Z')
        ? new Date(ms).toISOString()
        : DateTime.fromMillis(ms, { zone: spellZone }).toISO()!,
    };
  };
  const action = (a: LifeAction): LifeAction => {
    switch (a.type) {
      case 'upsert':
        return { ...a, ownerId: owner(a.ownerId), deadline: deadline(a.deadline) };
      case 'reschedule':
        return { ...a, deadline: deadline(a.deadline) };
      case 'assign':
      case 'ownerZone':
        return { ...a, ownerId: owner(a.ownerId) };
      default:
        return { ...a };
    }
  };
  return {
    label: `${life.label}, shifted ${days} days`,
    dossierId: `${prefix}${life.dossierId}`,
    start: shift(life.start),
    end: shift(life.end),
    owners: Object.fromEntries(Object.entries(life.owners).map(([id, zone]) => [owner(id), zone])),
    steps: life.steps.map((step) => ({ at: shift(step.at), action: action(step.action) })),
    outages: life.outages.map((o) => ({ from: shift(o.from), to: shift(o.to) })),
  };
}

/** Steps grouped by instant (the model's rounds), in order. */
export function roundsOf(steps: LifeStep[]): Array<{ at: number; actions: LifeAction[] }> {
  const rounds: Array<{ at: number; actions: LifeAction[] }> = [];
  for (const { at, action } of steps) {
    const last = rounds[rounds.length - 1];
    if (last?.at === at) last.actions.push(action);
    else rounds.push({ at, actions: [action] });
  }
  return rounds;
}
