/** The largest notification id: PostgreSQL's bigint maximum, as `server/protocol/messages.ts` has it. */
const MAX_NOTIFICATION_ID = 9223372036854775807n;

/**
 * The server's rule for a notification id (`notificationId` in `server/protocol/messages.ts`):
 * digits without leading zeros, at most the bigint maximum. A copy, so that the client library
 * stays alone (the server's is a zod schema); test/unit/notify-client-ids.test.ts keeps the two equal.
 */
export function isNotificationId(value: unknown): value is string {
  return (
    typeof value === 'string' && /^(?:0|[1-9]\d{0,18})$/.test(value) && BigInt(value) <= MAX_NOTIFICATION_ID
  );
}

/** A notification id as a number, or undefined when it is not one (nothing stored, garbage). */
export function readId(value: string | null | undefined): bigint | undefined {
  return isNotificationId(value) ? BigInt(value) : undefined;
}
