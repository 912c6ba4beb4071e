import { isSnoozable } from '../../domain/notification-types.js';
import type { DossierClient } from '../../client/dossier-client.js';
import type { NotificationQueries } from '../notifications/notification-queries.js';
import { ClientError, validationFailed } from '../errors.js';
import { snoozeBody } from './api-schemas.js';
import { notificationId } from '../protocol/messages.js';
import type { RestKit } from './rest-kit.js';
import { SNOOZE_MAX_PER_DOSSIER } from '../../domain/snooze.js';

/**
 * Snoozing a reminder or alert from the bell (docs/reminders.md, "Snooze"), with the user's token:
 * the notification must be theirs and come from a dossier's reminders; it is marked read, and the
 * dossier's workflow sends it again then (domain/snooze.ts), unless the dossier is done by then.
 */
export function registerSnoozeRoutes(
  { route, userOf, input, engine }: RestKit,
  queries: NotificationQueries,
  dossiers: DossierClient,
): void {
  route('post', '/api/v1/users/:userId/notifications/:id/snooze', async (context) => {
    const userId = await userOf(context);
    const id = input(notificationId, context.params[1], 'id');
    const { eventId, ...when } = input(snoozeBody, context.body);
    const notification = await queries.ownedForSnooze(userId, id);
    // Another user's notification is answered as missing: ids never tell what others have.
    if (!notification) throw new ClientError('not_found', `No notification ${id} of yours`);
    if (!isSnoozable(notification)) {
      throw validationFailed([
        { field: 'id', message: "only a dossier's reminders and alerts can be snoozed" },
      ]);
    }
    const { type, kind, dossierId, dossierOpenAndOwned } = notification;
    // A closed dossier, or one given to someone else since, has nothing to send again to this user.
    if (!dossierOpenAndOwned) {
      throw validationFailed([
        { field: 'id', message: 'its dossier is closed or no longer yours: nothing to snooze' },
      ]);
    }
    // The run's plan says whether it can take the snooze: a run of the frozen v1 code ignores it
    // (its plan has no `queued`), and a dossier keeps at most SNOOZE_MAX_PER_DOSSIER.
    const plan = (await engine(() => dossiers.plan(dossierId, { waitMs: 0 }), 200)).body;
    if (plan.queued === undefined) {
      throw validationFailed([
        {
          field: 'id',
          message: "its dossier's workflow predates snoozing and would ignore it",
        },
      ]);
    }
    const snoozed = plan.snoozed ?? [];
    if (snoozed.length >= SNOOZE_MAX_PER_DOSSIER && !snoozed.some((s) => s.notificationId === id)) {
      throw new ClientError('rate_limited', `At most ${SNOOZE_MAX_PER_DOSSIER} snoozes at once per dossier`);
    }
    const accepted = await engine(() =>
      dossiers.snooze(dossierId, { notificationId: id, type, kind, userId, ...when }, { eventId }),
    );
    // Read once the workflow has it: a snooze Temporal refused leaves the notification as it was.
    await queries.markRead(userId, [id]);
    return accepted;
  });
}
