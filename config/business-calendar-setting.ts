import { createRequire } from 'node:module';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { CalendarSetting } from '../domain/business-days.js';

/**
 * BUSINESS_CALENDAR and BUSINESS_CLOSED_DAYS: which public holidays (a country that date-holidays
 * knows, and optionally one of its regions) and which days of the firm's own close, or `off`.
 */

/** The default: France, nationwide holidays. */
export const DEFAULT_BUSINESS_CALENDAR = 'FR';

type HolidaysLibrary = new () => {
  getCountries(): Record<string, string>;
  getStates(country: string): Record<string, string> | undefined;
};

/**
 * Whether date-holidays knows the country and region. Loaded only for a value other than the
 * default: the library reads every country's data (~0.6 s), which the server never needs.
 */
function isKnownCalendar(country: string, region: string | undefined): boolean {
  if (country === DEFAULT_BUSINESS_CALENDAR && region === undefined) return true;
  // Its CommonJS build exports the class itself.
  const Holidays = createRequire(import.meta.url)('date-holidays') as HolidaysLibrary;
  const library = new Holidays();
  if (!(country in library.getCountries())) return false;
  return region === undefined || region in (library.getStates(country) ?? {});
}

const CALENDAR_RULE =
  'must be off, or a country code date-holidays knows with an optional region (FR, FR-57 for Moselle, FR-67, FR-68, FR-GP…)';

/** `off`, `FR`, `FR-57`: parsed, and checked against the holiday library. */
export const businessCalendarName = z.string().transform((value, context) => {
  const trimmed = value.trim();
  if (trimmed === 'off') return null;
  const match = /^([A-Z]{2})(?:-([A-Za-z0-9]{1,8}))?$/.exec(trimmed);
  if (!match || !isKnownCalendar(match[1]!, match[2])) {
    context.addIssue({ code: 'custom', message: CALENDAR_RULE });
    return z.NEVER;
  }
  return { country: match[1]!, ...(match[2] !== undefined && { region: match[2] }) };
});

/** A closed day: `yyyy-MM-dd` once, or `MM-dd` every year. */
export function isClosedDaySpec(value: string): boolean {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return DateTime.fromISO(value).isValid;
  // 29 February is a real day in leap years.
  return /^\d{2}-\d{2}$/.test(value) && DateTime.fromISO(`2024-${value}`).isValid;
}

/** Extra closed days, comma-separated: `2027-08-13,12-24,12-31`. At most 100. */
export const closedDayList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((day) => day.trim())
      .filter(Boolean),
  )
  .refine((days) => days.length <= 100, 'must list at most 100 days')
  .refine(
    (days) => days.every(isClosedDaySpec),
    'must be dates yyyy-MM-dd (once) or MM-dd (every year), separated by commas',
  );

/** The setting as the activities use it, or null when business days are off. */
export function calendarSetting(
  name: { country: string; region?: string } | null,
  closedDays: string[],
): CalendarSetting | null {
  return name && { ...name, closedDays };
}
