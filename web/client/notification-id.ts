import { isNotificationId } from '../../domain/notification-id.js';

/**
 * The server's rule for a notification id (domain/notification-id.ts, which the server's
 * `notificationId` schema uses too): digits without leading zeros, at most the bigint maximum.
 */
export { isNotificationId };

/** A notification id as a number, or undefined when it is not one (nothing stored, garbage). */
export function readId(value: string | null | undefined): bigint | undefined {
  return isNotificationId(value) ? BigInt(value) : undefined;
}
