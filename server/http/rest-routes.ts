import type { Client } from '@temporalio/client';
import type { TemplatedApp } from 'uWebSockets.js';
import type { z } from 'zod';
import { createDossierClient } from '../../client/dossier-client.js';
import { parse } from '../../client/dossier-schemas.js';
import type { Logger } from '../../config/logger.js';
import type { AuthError, Principal, TokenVerifier } from '../auth/token-verifier.js';
import { authFailure } from '../auth/auth-failure.js';
import { ClientError } from '../errors.js';
import type { NotificationHub } from '../hub/notification-hub.js';
import type { ServerMetrics } from '../metrics.js';
import type { NotificationQueries } from '../notifications/notification-queries.js';
import {
  assignBody,
  bulkDossiersBody,
  dossierInput,
  dossierUpdateBody,
  eventBody,
  listQuery,
  markReadBody,
  readAllBody,
  rescheduleBody,
  urgentBody,
  userId as userIdSchema,
  userProfileBody,
} from './api-schemas.js';
import { BULK_MAX_BODY_BYTES } from '../../domain/limits.js';
import { jsonRoute, type RequestContext, type RouteOptions } from './http-io.js';
import { openApiDocument } from './openapi.js';
import { clientErrorOf } from './client-errors.js';

export interface RestDependencies {
  verifier: TokenVerifier;
  queries: NotificationQueries;
  hub: NotificationHub;
  metrics: ServerMetrics;
  temporal: { client: Client; taskQueue: string };
  logger: Logger;
}

/** The REST API: a user's own notifications; dossier operations and plans for the service token. */
export function registerRestRoutes(app: TemplatedApp, deps: RestDependencies): void {
  const { queries, logger } = deps;
  const dossiers = createDossierClient(deps.temporal.client, { taskQueue: deps.temporal.taskQueue });
  const route = (
    method: 'get' | 'post' | 'put',
    pattern: string,
    handler: Parameters<typeof jsonRoute>[4],
    options?: RouteOptions,
  ): void => jsonRoute(app, method, pattern, logger, handler, options);

  async function authenticate(context: RequestContext): Promise<Principal> {
    const match = /^Bearer (.+)$/i.exec(context.authorization);
    try {
      return await deps.verifier.verify(match?.[1]);
    } catch (error) {
      throw authFailure(error as AuthError, deps);
    }
  }

  /** The user named in the path must be the token's subject (`me` names it too). */
  async function userOf(context: RequestContext): Promise<string> {
    const principal = await authenticate(context);
    const requested = context.params[0] === 'me' ? principal.subject : context.params[0];
    if (principal.isService || requested !== principal.subject) {
      throw new ClientError('forbidden', 'A user reads and marks only their own notifications');
    }
    return principal.subject;
  }

  async function service(context: RequestContext): Promise<void> {
    const principal = await authenticate(context);
    if (!principal.isService) throw new ClientError('forbidden', 'Dossier operations need the service token');
  }

  const input = <S extends z.ZodType>(schema: S, value: unknown, field = ''): z.output<S> => {
    try {
      return parse(schema, value, field);
    } catch (error) {
      throw clientErrorOf(error) ?? error;
    }
  };
  /** Calls the reminder engine's client API (202: accepted), its refusals mapped by `clientErrorOf`. */
  const engine = async <T>(call: () => Promise<T>, status = 202): Promise<{ status: number; body: T }> => {
    try {
      return { status, body: await call() };
    } catch (error) {
      throw clientErrorOf(error) ?? error;
    }
  };

  route('get', '/api/v1/users/:userId/notifications', async (context) => {
    const userId = await userOf(context);
    const query = input(listQuery, Object.fromEntries(context.query), 'query');
    const page = await queries.list(userId, {
      before: query.before,
      limit: query.limit,
      unreadOnly: query.unread === 'true',
    });
    return { status: 200, body: page };
  });
  route('get', '/api/v1/users/:userId/notifications/unread-count', async (context) => {
    const userId = await userOf(context);
    return { status: 200, body: { count: await queries.unreadCount(userId) } };
  });
  route('post', '/api/v1/users/:userId/notifications/read', async (context) => {
    const userId = await userOf(context);
    const { ids } = input(markReadBody, context.body);
    const { updated, unread } = await queries.markRead(userId, ids);
    return { status: 200, body: { updated, unreadCount: unread } };
  });
  route('post', '/api/v1/users/:userId/notifications/read-all', async (context) => {
    const userId = await userOf(context);
    input(readAllBody, context.body);
    const { updated, unread } = await queries.markAllRead(userId);
    return { status: 200, body: { updated, unreadCount: unread } };
  });

  route('post', '/api/v1/dossiers', async (context) => {
    await service(context);
    return engine(() => dossiers.create(input(dossierInput, context.body)));
  });
  // Onboarding a firm: each dossier as POST /api/v1/dossiers would, 32 at a time; one result per
  // dossier, in order (a dossier not sent is sent again with its eventId). 202 when any was
  // sent, 503 when none was (Temporal unreachable). The token is checked before the 8 MiB body
  // is read.
  route(
    'post',
    '/api/v1/dossiers/bulk',
    async (context) => {
      const { dossiers: batch } = input(bulkDossiersBody, context.body);
      const results = await dossiers.createMany(batch);
      const sent = results.filter((result) => result.sent).length;
      const failed = results.find((result) => !result.sent);
      if (failed) {
        logger.warn(
          { route: '/api/v1/dossiers/bulk', sent, notSent: results.length - sent, firstError: failed.error },
          'Bulk create: some dossiers were not sent',
        );
      }
      return { status: sent === 0 ? 503 : 202, body: { sent, results } };
    },
    { maxBodyBytes: BULK_MAX_BODY_BYTES, authorize: service },
  );
  route('put', '/api/v1/dossiers/:id', async (context) => {
    await service(context);
    const body = input(dossierUpdateBody, context.body);
    return engine(() => dossiers.update({ ...body, id: context.params[0]! }));
  });
  for (const action of ['complete', 'cancel', 'reopen'] as const) {
    route('post', `/api/v1/dossiers/:id/${action}`, async (context) => {
      await service(context);
      const body = input(eventBody, context.body);
      return engine(() => dossiers[action](context.params[0]!, { eventId: body?.eventId }));
    });
  }
  route('post', '/api/v1/dossiers/:id/reschedule', async (context) => {
    await service(context);
    const { eventId, ...newDeadline } = input(rescheduleBody, context.body);
    return engine(() => dossiers.reschedule(context.params[0]!, newDeadline, { eventId }));
  });
  route('post', '/api/v1/dossiers/:id/urgent', async (context) => {
    await service(context);
    const { urgent, eventId } = input(urgentBody, context.body);
    const id = context.params[0]!;
    return engine(() =>
      urgent ? dossiers.markUrgent(id, { eventId }) : dossiers.unmarkUrgent(id, { eventId }),
    );
  });
  route('post', '/api/v1/dossiers/:id/assign', async (context) => {
    await service(context);
    const { ownerId, owner, eventId } = input(assignBody, context.body);
    return engine(() => dossiers.assign(context.params[0]!, ownerId, owner, { eventId }));
  });
  /**
   * A user's profile (name, locale, zone) without a dossier call: the user-profile workflow saves
   * it and moves the reminders of every open dossier of theirs to the new zone.
   */
  route('put', '/api/v1/users/:userId/profile', async (context) => {
    await service(context);
    const userId = input(userIdSchema, context.params[0], 'userId');
    const { eventId, ...profile } = input(userProfileBody, context.body);
    return engine(() => dossiers.updateUserProfile(userId, profile, { eventId }));
  });
  route('get', '/api/v1/dossiers/:id/plan', async (context) => {
    await service(context);
    return engine(() => dossiers.plan(context.params[0]!), 200);
  });

  route('get', '/api/v1/openapi.json', async () => ({ status: 200, body: openApiDocument() }));
}
