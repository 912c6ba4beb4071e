import { z } from 'zod';
import { DOSSIER_ID_PATTERN } from '../../domain/limits.js';
import { NOTIFICATION_ID_PATTERN } from '../../domain/notification-id.js';
import { clientMessage, serverMessage } from '../protocol/messages.js';
import {
  accepted,
  archiveBody,
  snoozeBody,
  assignBody,
  bulkAccepted,
  bulkDossiersBody,
  dossierInput,
  dossierUpdateBody,
  errorBody,
  inboxCountsReply,
  inboxMarkResult,
  listQuery,
  markReadBody,
  markReadResult,
  markSeenBody,
  notificationPage,
  preferencesBody,
  preferencesReply,
  rescheduleBody,
  unreadCount,
  urgentBody,
  userProfileBody,
} from './api-schemas.js';

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests: one
 * source of truth for validation and documentation. Built once, on first request.
 */
let document: object | undefined;

export function openApiDocument(): object {
  document ??= build();
  return document;
}

function build(): object {
  const schema = (value: z.ZodType, io: 'input' | 'output' = 'output') =>
    z.toJSONSchema(value, { io, unrepresentable: 'any' });
  const json = (value: z.ZodType, io: 'input' | 'output' = 'output') => ({
    'application/json': { schema: schema(value, io) },
  });
  const errors = {
    400: { description: 'Invalid input: the body names each bad field', content: json(errorBody) },
    401: { description: 'Missing, invalid or expired token', content: json(errorBody) },
    403: { description: 'The token may not do that', content: json(errorBody) },
  };
  const userPath = {
    name: 'userId',
    in: 'path',
    required: true,
    description: "The token's subject, or `me`",
    schema: { type: 'string' },
  };
  const dossierPath = {
    name: 'id',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: DOSSIER_ID_PATTERN.source },
  };
  const accepted202 = {
    202: { description: 'Sent to the dossier workflow', content: json(accepted) },
    ...errors,
  };
  const body = (value: z.ZodType) => ({ required: true, content: json(value, 'input') });
  const queryParameters = Object.entries(
    (schema(listQuery, 'input') as { properties: Record<string, object> }).properties,
  ).map(([name, value]) => ({ name, in: 'query', required: false, schema: value }));

  return {
    openapi: '3.1.0',
    info: {
      title: 'normx-notify',
      version: '1',
      description:
        'Notifications and reminders of NormX Docs. Users read their own notifications; the NormX backend (service token, scope `notify:service`) creates and updates dossiers. WebSocket: `/api/v1/ws/{token}` or `/api/v1/ws` with the token in `Sec-WebSocket-Protocol`; its messages are the `ClientMessage` and `ServerMessage` schemas.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ClientMessage: schema(clientMessage, 'input'),
        ServerMessage: schema(serverMessage),
        Error: schema(errorBody),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/users/{userId}/notifications': {
        get: {
          summary:
            'My notifications, newest first (keyset pagination with `before`): the inbox by default, the archive with `state=archived`',
          parameters: [userPath, ...queryParameters],
          responses: { 200: { description: 'A page', content: json(notificationPage) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/unread-count': {
        get: {
          summary: 'My unread count',
          parameters: [userPath],
          responses: { 200: { description: 'Count', content: json(unreadCount) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/read': {
        post: {
          summary: 'Mark some of my notifications read',
          parameters: [userPath],
          requestBody: body(markReadBody),
          responses: { 200: { description: 'Marked', content: json(markReadResult) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/read-all': {
        post: {
          summary: 'Mark all my notifications in the inbox read (archived ones stay as they are)',
          parameters: [userPath],
          responses: { 200: { description: 'Marked', content: json(markReadResult) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/counts': {
        get: {
          summary:
            'My counts per inbox state: unread (in the inbox), unseen (in the inbox, newer than `lastSeenId`), archived; `seenAt`: when I last opened the list',
          parameters: [userPath],
          responses: { 200: { description: 'Counts', content: json(inboxCountsReply) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/seen': {
        post: {
          summary:
            'I opened the list and saw everything up to `lastId`: my seen mark moves up to my newest notification at or below it, never down',
          parameters: [userPath],
          requestBody: body(markSeenBody),
          responses: { 200: { description: 'Marked', content: json(inboxMarkResult) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/archive': {
        post: {
          summary:
            'Archive some of my notifications: out of the inbox and the unread count (ids already archived, unknown or not mine: left, not counted)',
          parameters: [userPath],
          requestBody: body(archiveBody),
          responses: { 200: { description: 'Archived', content: json(inboxMarkResult) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/unarchive': {
        post: {
          summary:
            'Bring archived notifications of mine back to the inbox, read or unread as they were (ids not archived, unknown or not mine: left, not counted)',
          parameters: [userPath],
          requestBody: body(archiveBody),
          responses: { 200: { description: 'Unarchived', content: json(inboxMarkResult) }, ...errors },
        },
      },
      '/api/v1/users/{userId}/notifications/{id}/snooze': {
        post: {
          summary:
            "Snooze one of my reminders or alerts: marked read, it comes again at `until` or at the preset's instant in my zone (tomorrow and next-business-day at my reminder time), unless its dossier is done, cancelled or rescheduled by then",
          parameters: [
            userPath,
            {
              name: 'id',
              in: 'path',
              required: true,
              description: 'The notification to snooze (mine, a reminder or alert of a dossier)',
              schema: { type: 'string', pattern: NOTIFICATION_ID_PATTERN.source },
            },
          ],
          requestBody: body(snoozeBody),
          responses: {
            202: { description: "Sent to the dossier's workflow", content: json(accepted) },
            404: { description: 'No such notification of mine', content: json(errorBody) },
            ...errors,
          },
        },
      },
      '/api/v1/users/{userId}/preferences': {
        get: {
          summary:
            "A user's notification preferences (their own token with `me`, or the service token with their id): each kind in the bell or not and popup or not, quiet hours, the reminder hour",
          parameters: [
            { ...userPath, description: "`me` (the user's token) or the user's id (the service token)" },
          ],
          responses: { 200: { description: 'The preferences', content: json(preferencesReply) }, ...errors },
        },
        put: {
          summary:
            'Change them: each field given replaces the stored one, a field left out is kept. `overdue_critical` cannot be muted (400). A new `reminderTime` re-plans every open dossier of the user (their profile workflow), at most 3 changes per 10 minutes and 20 resends of the same hour (429, nothing stored)',
          parameters: [
            { ...userPath, description: "`me` (the user's token) or the user's id (the service token)" },
          ],
          requestBody: body(preferencesBody),
          responses: {
            200: { description: 'The preferences after the change', content: json(preferencesReply) },
            429: { description: 'The reminder hour changed too often', content: json(errorBody) },
            503: {
              description:
                '`unavailable`: a new reminder hour may not have reached Temporal (the kinds and quiet hours are stored); send the same change again',
              content: json(errorBody),
            },
            ...errors,
          },
        },
      },
      '/api/v1/users/{userId}/profile': {
        put: {
          summary:
            "Change a user's profile without a dossier call (service token): every open dossier of theirs moves its reminders to the new zone",
          parameters: [{ ...userPath, description: 'The user whose profile changes' }],
          requestBody: body(userProfileBody),
          responses: {
            202: { description: "Sent to the user's profile workflow", content: json(accepted) },
            ...errors,
          },
        },
      },
      '/api/v1/dossiers': {
        post: {
          summary: 'Create a dossier (service token)',
          requestBody: body(dossierInput),
          responses: accepted202,
        },
      },
      '/api/v1/dossiers/bulk': {
        post: {
          summary: 'Onboard up to 1,000 dossiers in one call (service token)',
          description:
            'Validated whole first (a 400 names `dossiers.<index>.<field>`; nothing is sent), then each dossier is sent as by POST /api/v1/dossiers. One result per dossier, in order: a dossier not sent (`sent: false`) is sent again with its `eventId` and is then stored once. 202 when any dossier was sent, 503 (same body) when none was, e.g. Temporal unreachable: after a failure no further dossier is started. Body up to 8 MiB, read only for a service token.',
          requestBody: body(bulkDossiersBody),
          responses: {
            202: { description: 'Each dossier sent, or not', content: json(bulkAccepted) },
            413: { description: 'The body is larger than 8 MiB', content: json(errorBody) },
            503: { description: 'No dossier could be sent', content: json(bulkAccepted) },
            ...errors,
          },
        },
      },
      '/api/v1/dossiers/{id}': {
        put: {
          summary: 'Update a dossier (service token)',
          parameters: [dossierPath],
          requestBody: body(dossierUpdateBody),
          responses: accepted202,
        },
      },
      '/api/v1/dossiers/{id}/complete': {
        post: { summary: 'Complete a dossier', parameters: [dossierPath], responses: accepted202 },
      },
      '/api/v1/dossiers/{id}/cancel': {
        post: { summary: 'Cancel a dossier', parameters: [dossierPath], responses: accepted202 },
      },
      '/api/v1/dossiers/{id}/reopen': {
        post: { summary: 'Reopen a dossier', parameters: [dossierPath], responses: accepted202 },
      },
      '/api/v1/dossiers/{id}/reschedule': {
        post: {
          summary: 'Move the deadline',
          parameters: [dossierPath],
          requestBody: body(rescheduleBody),
          responses: accepted202,
        },
      },
      '/api/v1/dossiers/{id}/urgent': {
        post: {
          summary: 'Mark or unmark urgent',
          parameters: [dossierPath],
          requestBody: body(urgentBody),
          responses: accepted202,
        },
      },
      '/api/v1/dossiers/{id}/assign': {
        post: {
          summary: 'Assign to another owner',
          parameters: [dossierPath],
          requestBody: body(assignBody),
          responses: accepted202,
        },
      },
      '/api/v1/dossiers/{id}/plan': {
        get: {
          summary: "The dossier's reminder plan: sent and pending, with instants",
          parameters: [dossierPath],
          responses: {
            200: { description: 'The plan' },
            404: { description: 'Unknown dossier', content: json(errorBody) },
            409: {
              description:
                '`dossier_not_ready`: the dossier is being created and its workflow has not loaded it within 5 s; ask again',
              content: json(errorBody),
            },
            ...errors,
          },
        },
      },
    },
  };
}
