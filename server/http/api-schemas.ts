import { z } from 'zod';
import {
  clockTime,
  deadline,
  dossierBatch,
  dossierInput,
  dossierUpdate,
  eventId,
  ownerProfile,
  snoozeWhen,
  userId,
} from '../../client/dossier-schemas.js';
import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import { NAMED_KINDS, PREFERENCE_KIND_PATTERN, preferenceIssues } from '../../domain/preferences.js';
import { notificationId, wireNotification } from '../protocol/messages.js';

/** Request and response schemas of the REST API: they validate input and generate /api/v1/openapi.json. */

export const listQuery = z.strictObject({
  before: notificationId.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  unread: z.enum(['true', 'false']).default('false'),
  /** The inbox (not archived, the default) or the archive. */
  state: z.enum(['inbox', 'archived']).default('inbox'),
});
export const markReadBody = z.strictObject({ ids: z.array(notificationId).min(1).max(MARK_READ_MAX_IDS) });
/** Archive and unarchive take ids like mark-read, as many. */
export const archiveBody = markReadBody;
/** Seen: the newest notification id the list showed (everything up to it is seen). */
export const markSeenBody = z.strictObject({ lastId: notificationId });
/** read-all takes no field: an empty body or `{}` (a client sending `ids` here meant POST read). */
export const readAllBody = z.strictObject({}).optional();
export const eventBody = z.strictObject({ eventId: eventId.optional() }).optional();
export const dossierUpdateBody = dossierUpdate;
/** The new deadline, and the call's event id like every other call (a retry reuses it). */
export const rescheduleBody = deadline.safeExtend({ eventId: eventId.optional() });
export const urgentBody = z.strictObject({
  urgent: z.boolean(),
  eventId: eventId.optional(),
});
export const assignBody = z.strictObject({
  ownerId: userId,
  owner: ownerProfile.optional(),
  eventId: eventId.optional(),
});
/** When a snooze ends (an instant or a preset), plus the call's optional event id. */
export const snoozeBody = snoozeWhen.safeExtend({ eventId: eventId.optional() });
/** A user's profile (the `owner` of the dossier calls), plus the call's optional event id. */
export const userProfileBody = z.strictObject({ ...ownerProfile.shape, eventId: eventId.optional() });

/** In the bell or not, popup or not (domain/preferences.ts). */
export const kindPreference = z.strictObject({ bell: z.boolean(), popup: z.boolean() });
/** Local `HH:mm`, `from` included, `to` excluded; `from` after `to` spans midnight. */
export const quietHours = z
  .strictObject({ from: clockTime, to: clockTime })
  // Checked here, not with the kinds below: a bad kind fails the record and skips those.
  .superRefine((value, ctx) => {
    for (const issue of preferenceIssues({ kinds: {}, quietHours: value }))
      ctx.addIssue({ code: 'custom', path: issue.path.slice(1), message: issue.message });
  });
/**
 * A change of preferences: each field given replaces the stored one (`kinds` whole: a kind left
 * out is back to in the bell with a popup), a field left out keeps it. `reminderTime` is the
 * profile's (null: the service's REMINDER_TIME); a change re-plans the user's open dossiers.
 */
export const preferencesBody = z
  .strictObject({
    kinds: z
      .record(z.string().regex(PREFERENCE_KIND_PATTERN), kindPreference, {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? `is not a notification kind (j-N, ${NAMED_KINDS.join(', ')})`
            : undefined,
      })
      .optional(),
    quietHours: quietHours.nullable().optional(),
    reminderTime: clockTime.nullable().optional(),
  })
  .superRefine((value, ctx) => {
    for (const issue of preferenceIssues({ kinds: value.kinds ?? {}, quietHours: null }))
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
/** A user's preferences: every kind the service sends (and any other the user set), in the panel's order. */
export const preferencesReply = z.object({
  kinds: z.array(kindPreference.extend({ kind: z.string(), mutable: z.boolean() })),
  quietHours: quietHours.nullable(),
  /** The user's own reminder hour; null: the service's (`defaultReminderTime`). */
  reminderTime: clockTime.nullable(),
  defaultReminderTime: clockTime,
});

export const notificationPage = z.object({
  items: z.array(wireNotification),
  nextCursor: z.string().nullable(),
});
export const unreadCount = z.object({ count: z.number().int() });
export const markReadResult = z.object({ updated: z.number().int(), unreadCount: z.number().int() });
/** A user's counts per inbox state (docs/api.md, "Inbox states"). */
export const inboxCounts = z.object({
  unread: z.number().int(),
  unseen: z.number().int(),
  archived: z.number().int(),
  lastSeenId: z.string(),
});
export const inboxCountsReply = inboxCounts.extend({ seenAt: z.string().nullable() });
/** Archive, unarchive, seen: what changed (ids not the user's, unknown or already so: not counted), and the counts. */
export const inboxMarkResult = z.object({ updated: z.number().int(), counts: inboxCounts });
export const accepted = z.object({ workflowId: z.string(), eventId: z.string() });
export const bulkDossiersBody = z.strictObject({ dossiers: dossierBatch });
export const bulkAccepted = z.object({
  sent: z.number().int(),
  results: z.array(
    z.union([
      z.object({ id: z.string(), sent: z.literal(true), workflowId: z.string(), eventId: z.string() }),
      z.object({ id: z.string(), sent: z.literal(false), eventId: z.string(), error: z.string() }),
    ]),
  ),
});
export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});
export { dossierInput, userId };
