import type { NotificationType } from '../../domain/notification-types.js';

/**
 * The wire format, as the server has it (`server/protocol/messages.ts`);
 * `web/client/protocol-check.ts` keeps the two equal.
 */

export type { NotificationType };

/** A notification as the server sends it (WebSocket frames and REST lists alike). */
export interface NotifyNotification {
  /** Digits, increasing per user: the resume cursor. */
  id: string;
  userId: string;
  type: NotificationType;
  kind: string;
  dossierId: string | null;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
  /** Archived: out of the inbox and of the unread count. */
  archivedAt: string | null;
}

/**
 * The user's counts per inbox state (docs/protocol.md, "Inbox states and counts"): `unread` in
 * the inbox, `unseen` in the inbox and newer than `lastSeenId` (the newest id the user had when
 * they last opened the list: "new since you last looked"), `archived`.
 */
export interface InboxCounts {
  unread: number;
  unseen: number;
  archived: number;
  lastSeenId: string;
}

/** Frames the server sends. */
export type ServerFrame =
  | { type: 'notification'; notification: NotifyNotification }
  | {
      /** The user's counts: unread (in the inbox), unseen (newer than lastSeenId), archived; dated. */
      type: 'unread_count';
      count: number;
      unseen: number;
      archived: number;
      lastSeenId: string;
      latestId: string | null;
      version: string;
    }
  | { type: 'resumed'; lastId: string | null; count: number }
  | { type: 'cursor_reset'; lastId: string | null }
  | { type: 'token_expiring'; expiresAt: string }
  | { type: 'marked'; ref: string }
  | { type: 'error'; code: string; message: string; ref?: string | undefined };

/** Frames the client sends. */
export type ClientFrame =
  | { type: 'resume'; lastId: string }
  | { type: 'mark_read'; ids: string[]; ref?: string | undefined }
  | { type: 'mark_all_read'; ref?: string | undefined }
  | { type: 'mark_seen'; lastId: string; ref?: string | undefined }
  | { type: 'archive'; ids: string[]; ref?: string | undefined }
  | { type: 'unarchive'; ids: string[]; ref?: string | undefined }
  | { type: 'refresh_token'; token: string };
