import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { errorCatalog, type ErrorCode } from '../../server/errors.js';

/**
 * The Python client's table of error codes (clients/python/src/normx_notify/errors.py,
 * `ERROR_CODES`) against the error catalog (server/errors.ts), read as text: every code a REST
 * reply may carry is known to the client, the client knows no other, and each raises the
 * exception of its catalog status. A new code in the catalog fails here until it is placed.
 */

const ERRORS_PY = new URL('../../clients/python/src/normx_notify/errors.py', import.meta.url);

/** The codes only a WebSocket meets (its upgrade or an open socket), which the Python client never opens. */
const SOCKET_ONLY: Partial<Record<ErrorCode, string>> = {
  origin_not_allowed: "the upgrade's Origin check",
  too_many_sockets: 'the upgrade: sockets per user',
  too_many_upgrades: 'the upgrade: attempts per address',
  server_busy: 'the upgrade, and marks waiting on a socket',
  slow_consumer: 'an open socket that does not read',
  shutting_down: 'open sockets when the server stops',
};

/** The `name: Type` pairs of a Python dict literal assigned to `variable`, keys as text. */
function pythonDict(source: string, variable: string): Map<string, string> {
  const start = source.search(new RegExp(`^${variable}\\b[^=]*= \\{$`, 'm'));
  assert.ok(start >= 0, `no ${variable} = { … } in errors.py`);
  const body = source.slice(source.indexOf('{', start) + 1, source.indexOf('\n}', start));
  return new Map(
    [...body.matchAll(/^\s+"?([\w]+)"?:\s*(\w+),$/gm)].map((match) => [match[1]!, match[2]!] as const),
  );
}

const source = readFileSync(ERRORS_PY, 'utf8');
const clientCodes = pythonDict(source, 'ERROR_CODES');
const byStatus = pythonDict(source, '_BY_STATUS');

/** The exception the client raises for a status without a known code (`_kind_of_status`). */
const kindOfStatus = (status: number): string =>
  byStatus.get(String(status)) ??
  (status === 429 || status >= 500 ? 'NotifyUnavailableError' : 'NotifyApiError');

describe('the Python client knows the REST error codes of the catalog', () => {
  it('reads both tables', () => {
    assert.ok(clientCodes.size > 0, 'ERROR_CODES is empty or unreadable');
    assert.ok(byStatus.size > 0, '_BY_STATUS is empty or unreadable');
  });

  it('every code a REST reply may carry is in ERROR_CODES', () => {
    const rest = Object.keys(errorCatalog).filter((code) => !(code in SOCKET_ONLY));
    assert.deepEqual(
      rest.filter((code) => !clientCodes.has(code)),
      [],
      'in server/errors.ts, not in the Python client (or add it to SOCKET_ONLY with its reason)',
    );
  });

  it('ERROR_CODES names no code the REST API cannot send', () => {
    assert.deepEqual(
      [...clientCodes.keys()].filter((code) => !(code in errorCatalog) || code in SOCKET_ONLY),
      [],
      'in the Python client, not a REST code of server/errors.ts',
    );
  });

  it('each code raises the exception of its catalog status, as a reply without a known code would', () => {
    const problems = [...clientCodes]
      .filter(([code]) => code in errorCatalog)
      .map(([code, kind]) => ({ code, kind, status: errorCatalog[code as ErrorCode].status }))
      .filter(({ kind, status }) => kind !== kindOfStatus(status))
      .map(
        ({ code, kind, status }) =>
          `${code}: ${kind}, but its status ${status} raises ${kindOfStatus(status)}`,
      );
    assert.deepEqual(problems, []);
  });
});
