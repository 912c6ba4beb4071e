import fc from 'fast-check';

/**
 * Request paths for the raw HTTP fuzzer (test/integration/fuzz-raw-http.test.ts): every route
 * pattern the server registers, each parameter replaced by segments of plain characters, escapes
 * of any byte, bad escapes and raw high bytes, sometimes a segment more or less, with a query.
 */

/**
 * Every route pattern the server registers (server/http/rest-routes.ts, static and socket routes);
 * test/unit/fuzz-paths.test.ts checks it holds every path of the OpenAPI document.
 */
export const ROUTES = [
  '/api/v1/users/:p/notifications',
  '/api/v1/users/:p/notifications/unread-count',
  '/api/v1/users/:p/notifications/counts',
  '/api/v1/users/:p/notifications/read',
  '/api/v1/users/:p/notifications/read-all',
  '/api/v1/users/:p/notifications/seen',
  '/api/v1/users/:p/notifications/archive',
  '/api/v1/users/:p/notifications/unarchive',
  '/api/v1/users/:p/notifications/:p/snooze',
  '/api/v1/users/:p/preferences',
  '/api/v1/users/:p/profile',
  '/api/v1/dossiers',
  '/api/v1/dossiers/bulk',
  '/api/v1/dossiers/:p',
  '/api/v1/dossiers/:p/complete',
  '/api/v1/dossiers/:p/cancel',
  '/api/v1/dossiers/:p/reopen',
  '/api/v1/dossiers/:p/reschedule',
  '/api/v1/dossiers/:p/urgent',
  '/api/v1/dossiers/:p/assign',
  '/api/v1/dossiers/:p/plan',
  '/api/v1/openapi.json',
  '/api/v1/ws/:p',
  '/api/v1/ws',
  '/',
  '/assets/:p',
];

const hex = (byte: number, upper: boolean): string => {
  const text = byte.toString(16).padStart(2, '0');
  return upper ? text.toUpperCase() : text;
};
const PCHAR = [..."abcXYZ019-._~!$&'()*+,;=:@"];
/** A piece of a path segment that HTTP/1.1 allows: plain characters, escapes of any byte, bad escapes. */
const segmentPiece = fc.oneof(
  fc.constantFrom(...PCHAR),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([byte, upper]) => `%${hex(byte, upper)}`),
  fc.constantFrom('%', '%F', '%G1', '%%', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%F4%90%80%80', '%00', '%FF'),
  fc.constantFrom('me', 'fuzz-user', 'fuzz-dossier', '9223372036854775808', '..', '.'),
  // Bytes above 0x7F, unescaped: not allowed by RFC 3986, but uWebSockets.js takes them.
  fc.integer({ min: 0x80, max: 0xff }).map((byte) => String.fromCharCode(byte)),
);
export const segment = fc
  .array(segmentPiece, { minLength: 0, maxLength: 12 })
  .map((pieces) => pieces.join(''));
const queryString = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(segment, segment), { maxLength: 4 })
    .map((pairs) => `?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`),
  fc.constantFrom('?before=9999999999999999999', '?limit=0', '?limit=1e400', '?lastId=-1', '?unread=%FF'),
);
/** A path on one of the route patterns: each parameter replaced, sometimes a segment more or less. */
export const routePath = fc
  .tuple(
    fc.constantFrom(...ROUTES),
    fc.array(segment, { minLength: 2, maxLength: 2 }),
    fc.constantFrom('', '/', '//', '/extra'),
    queryString,
  )
  .map(([route, [first, second], suffix, query]) => {
    let index = 0;
    const path = route.replace(/:p/g, () => (index++ === 0 ? first! : second!));
    return `${path}${suffix}${query}`;
  });
