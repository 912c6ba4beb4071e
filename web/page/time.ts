/** Instants as the bell shows them, in French. */

const relative = new Intl.RelativeTimeFormat('fr', { numeric: 'auto' });
/** "lundi 2 mars 2026 à 09:00": the item's tooltip, and beyond a year. */
export const absolute = new Intl.DateTimeFormat('fr', { dateStyle: 'full', timeStyle: 'short' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "il y a 5 minutes", "hier", "dans 2 heures": the largest unit that fits. */
export function relativeTime(instant: Date, now = Date.now()): string {
  let amount = (instant.getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return absolute.format(instant);
}
