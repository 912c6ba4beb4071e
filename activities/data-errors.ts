import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_DATA_FAILURE } from '../domain/failures.js';

/**
 * Data errors: what PostgreSQL refuses because of the data itself, so that the same call fails
 * the same way however often it is retried. The API's limits (domain/limits.ts) keep such data
 * out; what still gets through (an old workflow's history, a row written by someone else) must
 * not make an activity retry for ever and wedge its workflow behind it.
 */

/** What the failure carries about the refused statement (no values: they may be personal data). */
export interface DataErrorFacts {
  sqlState: string;
  /** PostgreSQL's own message, without the statement MikroORM prefixes it with. */
  reason: string;
  table?: string;
  column?: string;
  constraint?: string;
}

/** SQLSTATE shape: five digits or upper-case letters (node's own codes, like EPIPE, are not). */
const SQLSTATE = /^[0-9][0-9A-Z]{4}$/;

/**
 * Whether a PostgreSQL error is deterministic for its data:
 * - class 22 (data exception: 22021 NUL byte, 22P05 untranslatable character, 22008 datetime out
 *   of range, 22001 too long…) and class 54 (program limit: an index row too large…);
 * - class 23 (integrity constraint) except 23505 unique_violation, which two writers racing on
 *   one key can cause and a retry resolves;
 * - 08P01 at severity ERROR: class 08 is about the connection, but this one is PostgreSQL
 *   refusing a malformed message on a connection that goes on (a NUL byte in a statement whose
 *   values MikroORM inlined, instead of 22021); a broken connection reports FATAL.
 * Everything else (connection loss, 57P01 shutdown, serialization failures, timeouts) is transient.
 */
function isDataError(sqlState: string, severity: unknown): boolean {
  const kind = sqlState.slice(0, 2);
  if (kind === '22' || kind === '54') return true;
  if (kind === '23') return sqlState !== '23505';
  return sqlState === '08P01' && severity === 'ERROR';
}

/**
 * The facts of a data error, or `undefined` for any other error. MikroORM's DriverException
 * copies the pg error's own fields, SQLSTATE in `code`; the chain of `cause`s is searched too.
 */
export function dataErrorOf(error: unknown): DataErrorFacts | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const fields = current as Error & Record<string, unknown>;
    const sqlState = [fields.code, fields.sqlState].find(
      (value): value is string => typeof value === 'string' && SQLSTATE.test(value),
    );
    if (sqlState !== undefined) {
      if (!isDataError(sqlState, fields.severity)) return undefined;
      const text = (key: string) => (typeof fields[key] === 'string' ? { [key]: fields[key] } : {});
      return {
        sqlState,
        reason: reasonOf(current.message),
        ...text('table'),
        ...text('column'),
        ...text('constraint'),
      };
    }
    current = current.cause;
  }
  return undefined;
}

/**
 * knex prefixes PostgreSQL's message with the statement and its inlined values (`<sql> - <message>`)
 * and MikroORM appends `\n - detail: …`: keep PostgreSQL's message alone, bounded, for the
 * failure that the workflow history and the Temporal UI show.
 */
function reasonOf(message: string): string {
  const main = message.split('\n - detail:')[0]!.split('\n - hint:')[0]!;
  const at = main.lastIndexOf(' - ');
  return (at >= 0 ? main.slice(at + 3) : main).slice(0, 300);
}

/** Any activity function: the wrapper keeps each one's own signature. */
type Activity = (...args: never[]) => Promise<unknown>;

/**
 * Wraps every activity so that a data error fails it non-retryably with INVALID_DATA_FAILURE
 * (details: the DataErrorFacts), logged once with the original error and its stack. Any other
 * error is rethrown as is, so outages keep being retried by the activity's retry policy.
 */
export function failDataErrorsNonRetryably<T extends Record<string, Activity>>(activities: T): T {
  const wrapped: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        const facts = dataErrorOf(error);
        if (!facts) throw error;
        log.error('The database refused the data of this activity: failed without retry', {
          err: error,
          activity: name,
          ...facts,
        });
        throw ApplicationFailure.create({
          message: `The database refused the data (SQLSTATE ${facts.sqlState}): ${facts.reason}`,
          type: INVALID_DATA_FAILURE,
          nonRetryable: true,
          details: [{ ...facts, activity: name }],
        });
      }
    };
  }
  return wrapped as T;
}
