/**
 * The one rule for a notification id, shared by the server's schemas (server/protocol/messages.ts)
 * and the browser client (web/client/notification-id.ts): decimal digits without leading zeros,
 * at most PostgreSQL's bigint maximum, so that the database never sees one it cannot cast.
 * Pure, no I/O.
 */

/** The largest notification id: PostgreSQL's bigint maximum (2^63 - 1). */
export const MAX_NOTIFICATION_ID = 9223372036854775807n;

/**
 * Decimal numbers from 0 to `max`, without leading zeros: one alternative per length below
 * max's, then one per digit of max that a smaller number may have lower (the digits before it
 * equal). A pattern rather than a refinement, so that the published JSON Schema (OpenAPI) states it.
 */
function decimalUpTo(max: bigint): RegExp {
  const digits = max.toString();
  const alternatives = ['0', `[1-9]\\d{0,${digits.length - 2}}`];
  for (let index = 0; index < digits.length; index += 1) {
    const lowest = index === 0 ? 1 : 0;
    const below = Number(digits[index]) - 1;
    if (below < lowest) continue;
    const rest = digits.length - index - 1;
    alternatives.push(`${digits.slice(0, index)}[${lowest}-${below}]${rest > 0 ? `\\d{${rest}}` : ''}`);
  }
  alternatives.push(digits);
  return new RegExp(`^(?:${alternatives.join('|')})$`);
}

/** A notification id, as a pattern: digits from 0 to `MAX_NOTIFICATION_ID`, without leading zeros. */
export const NOTIFICATION_ID_PATTERN = decimalUpTo(MAX_NOTIFICATION_ID);

/** Whether `value` is a notification id (a string matching `NOTIFICATION_ID_PATTERN`). */
export const isNotificationId = (value: unknown): value is string =>
  typeof value === 'string' && NOTIFICATION_ID_PATTERN.test(value);
