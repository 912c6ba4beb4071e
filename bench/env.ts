/** The benches' settings come from BENCH_* environment variables, read and checked here. */

/** A positive integer (≥ 1), or `fallback` when unset or empty. */
export function envPositiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got ${raw})`);
  return value;
}

/** A whole number (≥ 0), or `fallback` when unset or empty. */
export function envWholeNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number (got ${raw})`);
  return value;
}

/** A non-negative number (fractions allowed), or `fallback` when unset or empty. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number (got ${raw})`);
  return value;
}

/** A comma-separated list of positive numbers (`integers`: counts, such as a herd's sizes). */
export function envList(name: string, fallback: string, { integers = false } = {}): number[] {
  const raw = process.env[name] || fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (
    values.some((value) => !Number.isFinite(value) || value <= 0 || (integers && !Number.isInteger(value)))
  ) {
    throw new Error(
      `${name} must be a comma-separated list of positive ${integers ? 'integers' : 'numbers'} (got ${raw})`,
    );
  }
  return values;
}

/** The PostgreSQL server the benches create their databases on (BENCH_DATABASE_ADMIN_URL). */
export const benchAdminUrl = (variable = 'BENCH_DATABASE_ADMIN_URL'): string =>
  process.env[variable] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
