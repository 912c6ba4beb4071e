import { z } from 'zod';
import { isClosedDaySpec, MAX_CLOSED_DAYS, type CalendarSetting } from '../domain/business-days.js';
import { DEFAULT_BUSINESS_CALENDAR, isKnownCalendar } from '../client/known-calendars.js';

/**
 * BUSINESS_CALENDAR and BUSINESS_CLOSED_DAYS: which public holidays (a country that date-holidays
 * knows, and optionally one of its regions) and which days of the firm's own close, or `off`.
 */

export { DEFAULT_BUSINESS_CALENDAR };

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

/** Extra closed days, comma-separated: `2027-08-13,12-24,12-31`. At most 100. */
export const closedDayList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((day) => day.trim())
      .filter(Boolean),
  )
  .refine((days) => days.length <= MAX_CLOSED_DAYS, `must list at most ${MAX_CLOSED_DAYS} days`)
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
