import type { DossierClient } from '../../client/dossier-client.js';
import type { Logger } from '../../config/logger.js';
import { BULK_MAX_BODY_BYTES } from '../../domain/limits.js';
import {
  assignBody,
  bulkDossiersBody,
  dossierInput,
  dossierUpdateBody,
  eventBody,
  rescheduleBody,
  urgentBody,
  userId as userIdSchema,
  userProfileBody,
} from './api-schemas.js';
import type { RestKit } from './rest-kit.js';

/**
 * The service token's calls to the reminder engine: a dossier's events (one or an onboarding
 * batch), a user's profile, a dossier's plan. Each is the client API's call (client/), 202 once
 * Temporal has it; its refusals are mapped by `clientErrorOf` (client-errors.ts).
 */
export function registerDossierRoutes(
  { route, service, input, engine }: RestKit,
  dossiers: DossierClient,
  logger: Logger,
): void {
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
}
