import { z } from 'zod';
import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import type { CountsDate, InboxCounts } from '../notifications/inbox-counts.js';
import { MAX_NOTIFICATION_ID, NOTIFICATION_ID_PATTERN } from '../../domain/notification-id.js';
import { NOTIFICATION_TYPES } from '../../domain/notification-types.js';

/**
 * The WebSocket protocol: JSON text frames, one `type` each. Documented in docs/protocol.md; the
 * schemas validate what clients send and generate the JSON Schema published with OpenAPI.
 */

/** Re-exported for the tests and callers that read it here. */
export { MAX_NOTIFICATION_ID };

/**
 * A notification id, as every route and message takes it (REST paths, queries and bodies, the
 * socket's `?lastId=` and messages): digits up to the bigint maximum, so that the database never
 * sees one it cannot cast (a 500 before; a reconnect loop on the socket). The rule itself is
 * domain/notification-id.ts, which the browser client uses too.
 */
export const notificationId = z
  .string()
  .regex(NOTIFICATION_ID_PATTERN, `must be a notification id (digits, at most ${MAX_NOTIFICATION_ID})`);

/**
 * A client's name for one of its marks, echoed by the server's `marked` (done) or `error` (refused):
 * the client keeps each mark until it is acknowledged, and sends again what was refused.
 */
const messageRef = z.string().min(1).max(64);

export const clientMessage = z.discriminatedUnion('type', [
  /** Sends every notification after `lastId`, in order, then the live stream. */
  z.strictObject({ type: z.literal('resume'), lastId: notificationId }),
  z.strictObject({
    type: z.literal('mark_read'),
    ids: z.array(notificationId).min(1).max(MARK_READ_MAX_IDS),
    ref: messageRef.optional(),
  }),
  z.strictObject({ type: z.literal('mark_all_read'), ref: messageRef.optional() }),
  /** The user opened the list and saw everything up to `lastId` (the newest id it shows). */
  z.strictObject({ type: z.literal('mark_seen'), lastId: notificationId, ref: messageRef.optional() }),
  /** Out of the inbox and of the unread count; `unarchive` brings them back. */
  z.strictObject({
    type: z.literal('archive'),
    ids: z.array(notificationId).min(1).max(MARK_READ_MAX_IDS),
    ref: messageRef.optional(),
  }),
  z.strictObject({
    type: z.literal('unarchive'),
    ids: z.array(notificationId).min(1).max(MARK_READ_MAX_IDS),
    ref: messageRef.optional(),
  }),
  /** A fresh token for the same user, before the current one expires. */
  z.strictObject({ type: z.literal('refresh_token'), token: z.string().min(1).max(8192) }),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

/** A notification as clients receive it (also the NOTIFY payload the activities send). */
export const wireNotification = z.object({
  id: z.string(),
  userId: z.string(),
  type: z.enum(NOTIFICATION_TYPES),
  kind: z.string(),
  dossierId: z.string().nullable(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  readAt: z.string().nullable(),
  /** Archived: out of the inbox (docs/protocol.md, "Inbox states and counts"). */
  archivedAt: z.string().nullable(),
});
export type WireNotification = z.infer<typeof wireNotification>;

export const serverMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('notification'), notification: wireNotification }),
  /**
   * The user's counts: `count` unread in the inbox, `unseen` newer than `lastSeenId`, `archived`;
   * dated by `latestId` (the user's newest id then) and `version` (moves up with every mark):
   * between two frames, the later has both at least as high.
   */
  z.object({
    type: z.literal('unread_count'),
    count: z.number().int(),
    unseen: z.number().int(),
    archived: z.number().int(),
    lastSeenId: z.string(),
    latestId: z.string().nullable(),
    version: z.string(),
  }),
  /** Catch-up after `resume` is complete: live notifications follow. */
  z.object({ type: z.literal('resumed'), lastId: z.string().nullable(), count: z.number().int() }),
  /**
   * The resume cursor is above the user's newest id (a cursor kept from before a database restore,
   * say): nothing could ever be sent after it. The catch-up starts from `lastId`, the user's newest
   * id (null: none yet); the client replaces its cursor with it. `resumed` follows.
   */
  z.object({ type: z.literal('cursor_reset'), lastId: z.string().nullable() }),
  /** `expiresAt`: when the server closes the socket with 4401 (the token's exp + the clock tolerance). */
  z.object({ type: z.literal('token_expiring'), expiresAt: z.string() }),
  /** A mark (read, seen, archive, unarchive) with a `ref` is stored (the new counts follow as `unread_count`). */
  z.object({ type: z.literal('marked'), ref: z.string() }),
  /** `ref`: the refused message's, when it had one (a frame over the rate limit is refused unread: none). */
  z.object({ type: z.literal('error'), code: z.string(), message: z.string(), ref: z.string().optional() }),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

/**
 * The `notification` frame around a payload already serialized once per notification (the
 * NOTIFY text): sockets share the same string, nothing is re-serialized per socket.
 */
export const notificationFrame = (notificationJson: string): string =>
  `{"type":"notification","notification":${notificationJson}}`;

export const frame = (message: ServerMessage): string => JSON.stringify(message);

/** The `unread_count` frame of a user's counts (undated: the polling feed's, version "0"). */
export const countsFrame = (counts: InboxCounts, date?: CountsDate): string =>
  frame({
    type: 'unread_count',
    count: counts.unread,
    unseen: counts.unseen,
    archived: counts.archived,
    lastSeenId: counts.lastSeenId,
    latestId: date && date.latestId > 0n ? date.latestId.toString() : null,
    version: (date?.version ?? 0n).toString(),
  });
