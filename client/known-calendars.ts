import { createRequire } from 'node:module';

/**
 * Which calendars the holiday library (date-holidays) knows: a country, and a region of it. The one
 * place that loads the library outside the worker: the configuration (BUSINESS_CALENDAR) and the
 * profile schema (a user's `businessCalendar`) both check with it.
 */

/** The service's default calendar: France, nationwide holidays. */
export const DEFAULT_BUSINESS_CALENDAR = 'FR';

type HolidaysLibrary = new () => Catalog;
interface Catalog {
  getCountries(): Record<string, string>;
  getStates(country: string): Record<string, string> | undefined;
}
let library: Catalog | undefined;

/**
 * Whether date-holidays knows the country and region. Loaded only for a value other than the
 * default, once: the library reads every country's data (~0.6 s), which most processes never need.
 */
export function isKnownCalendar(country: string, region: string | undefined): boolean {
  if (country === DEFAULT_BUSINESS_CALENDAR && region === undefined) return true;
  // Its CommonJS build exports the class itself.
  library ??= new (createRequire(import.meta.url)('date-holidays') as HolidaysLibrary)();
  if (!(country in library.getCountries())) return false;
  return region === undefined || region in (library.getStates(country) ?? {});
}
