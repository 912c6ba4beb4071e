import type { Orm } from './orm.js';

/** True when PostgreSQL answers `select 1` within `timeoutMs`: health endpoints never hang on it. */
export async function databaseAnswers(orm: Orm, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = orm.em
    .fork()
    .execute('select 1')
    .then(() => true)
    .catch(() => false);
  return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
}
