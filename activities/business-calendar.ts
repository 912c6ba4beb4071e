import Holidays from 'date-holidays';
import { DateTime } from 'luxon';
import type { Deadline } from '../domain/deadline.js';
import { localDueDate } from '../domain/reminder-plan.js';
import {
  calendarSpan,
  type BusinessCalendar,
  type CalendarSetting,
  type ClosedDay,
} from '../domain/business-days.js';

/** The name of a firm's own closed day (BUSINESS_CLOSED_DAYS, a user's `closedDays`). */
export const FIRM_CLOSED_DAY = 'fermeture du cabinet';

/**
 * The closed days around a deadline, for the planning context (domain/business-days.ts): public
 * holidays from date-holidays (the country's own names: `Lundi de Pâques`) and the firm's closed
 * days. An activity computes them and the workflow's history records them, so that a newer holiday
 * table never changes what a replay decides. Holidays are computed once per calendar and year.
 */
export function createBusinessCalendars() {
  const libraries = new Map<string, Holidays>();
  const years = new Map<string, ClosedDay[]>();

  function publicHolidays(setting: CalendarSetting, year: number): ClosedDay[] {
    const name = calendarName(setting);
    const cached = years.get(`${name} ${year}`);
    if (cached) return cached;
    let library = libraries.get(name);
    if (!library) {
      library = setting.region
        ? new Holidays(setting.country, setting.region)
        : new Holidays(setting.country);
      libraries.set(name, library);
    }
    // A holiday may last several days (Eid al-Fitr, 8 to 12 March): each of them is closed.
    const days = library
      .getHolidays(year)
      .filter((holiday) => holiday.type === 'public')
      .flatMap((holiday) => {
        const length = Math.max(
          1,
          Math.round((holiday.end.getTime() - holiday.start.getTime()) / 86_400_000),
        );
        const first = DateTime.fromISO(holiday.date.slice(0, 10));
        return Array.from({ length }, (_, i) => ({
          date: first.plus({ days: i }).toISODate()!,
          name: holiday.name,
        }));
      });
    years.set(`${name} ${year}`, days);
    return days;
  }

  /** The calendar of a deadline due on `dueDay` (local `yyyy-MM-dd`) with these reminder offsets. */
  function calendarFor(
    setting: CalendarSetting,
    { dueDay, offsetsDays }: { dueDay: string; offsetsDays: readonly number[] },
  ): BusinessCalendar {
    const { from, to } = calendarSpan(dueDay, offsetsDays);
    const first = Number(from.slice(0, 4));
    const last = Number(to.slice(0, 4));
    const byDate = new Map<string, string>();
    for (let year = first; year <= last; year += 1) {
      for (const holiday of publicHolidays(setting, year)) {
        if (!byDate.has(holiday.date)) byDate.set(holiday.date, holiday.name);
      }
      for (const spec of setting.closedDays) {
        const date = spec.length === 5 ? `${year}-${spec}` : spec;
        // 29 February of a year that has none is no day.
        if (DateTime.fromISO(date).isValid && !byDate.has(date)) byDate.set(date, FIRM_CLOSED_DAY);
      }
    }
    const closed = [...byDate]
      .filter(([date]) => date >= from && date <= to)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([date, name]) => ({ date, name }));
    return { name: calendarName(setting), from, to, closed };
  }

  /**
   * The calendar a dossier plans with: its deadline's local due day in `timeZone`, the policy's
   * offsets; none when business days are off (`setting` null).
   */
  function forDeadline(
    setting: CalendarSetting | null,
    {
      deadline,
      timeZone,
      offsetsDays,
    }: { deadline: Deadline; timeZone: string; offsetsDays: readonly number[] },
  ): BusinessCalendar | undefined {
    if (!setting) return undefined;
    return calendarFor(setting, { dueDay: localDueDate(deadline, timeZone).toISODate()!, offsetsDays });
  }

  return { calendarFor, forDeadline };
}

/** `FR`, `FR-57`, with ` + closed days` when the firm adds its own. */
export function calendarName(setting: CalendarSetting): string {
  const base = setting.region ? `${setting.country}-${setting.region}` : setting.country;
  return setting.closedDays.length > 0 ? `${base} + closed days` : base;
}
