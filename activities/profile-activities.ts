import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { createDossierClient } from '../client/dossier-client.js';
import { DossierSchema } from '../db/entities.js';
import { profileChangeKey } from '../domain/idempotency-keys.js';
import { forEachPage, PAGE_SIZE } from '../domain/keyset-pages.js';
import { forEachInOrder, isReconcilableId } from '../domain/reconciliation.js';
import type { OwnerProfile } from '../workflows/dossier-messages.js';
import type { ActivityDependencies } from './dependencies.js';
import type { createDossierRows } from './dossier-rows.js';

/** Logs a dossier id that cannot be signalled; returns false (to filter it out). */
function skipped(dossierId: string): boolean {
  log.warn('Dossier id the API would refuse: not told of the profile change', { dossierId });
  return false;
}
/** Signals sent at once when a profile change is announced to an owner's dossiers. */
const SIGNAL_CONCURRENCY = 16;

/**
 * The activities of a user's profile: saving it, and telling their other open dossiers that it
 * changed (the profile announcement, docs/architecture.md), directly or through the user's
 * workflow. Apart from the dossier's own rows (activities/dossier-activities.ts), which build them
 * with their `rows`, so that both share one holiday catalog.
 */
export function createProfileActivities(
  { orm, temporal }: Pick<ActivityDependencies, 'orm' | 'temporal'>,
  { applyProfile }: Pick<ReturnType<typeof createDossierRows>, 'applyProfile'>,
) {
  const dossierClient = () => createDossierClient(temporal.client, { taskQueue: temporal.taskQueue });

  return {
    /** Saves a user's profile; returns whether their zone or locale changed. */
    async saveUserProfile({
      userId,
      profile,
      eventId,
    }: {
      userId: string;
      profile: OwnerProfile;
      eventId?: string;
    }): Promise<{ changed: boolean }> {
      const em = orm.em.fork();
      const changeKey = eventId && profileChangeKey.ofUserCall(userId, eventId);
      return em.transactional(async (tx) => ({
        changed: (await applyProfile(tx, userId, profile, changeKey)).changed,
      }));
    },

    /**
     * Tells each open dossier of the owner (but one) that the profile changed, so that its
     * reminders move to the new zone: a signal each, SIGNAL_CONCURRENCY at a time. Idempotent (a
     * re-plan that finds nothing moved does nothing). Heartbeats the last dossier id done, and a
     * retry resumes after it: an owner with thousands of dossiers takes several heartbeats, never
     * a restart from the first.
     */
    async announceOwnerProfile({
      ownerId,
      exceptDossierId,
    }: {
      ownerId: string;
      exceptDossierId?: string;
    }): Promise<{ signalled: number }> {
      const em = orm.em.fork();
      const client = dossierClient();
      const details = activityInfo().heartbeatDetails as { after?: unknown; signalled?: unknown } | undefined;
      let signalled = typeof details?.signalled === 'number' ? details.signalled : 0;
      await forEachPage(
        (after) =>
          em.find(
            DossierSchema,
            { ownerId, status: 'open', id: { $gt: after } },
            { orderBy: { id: 'asc' }, limit: PAGE_SIZE, fields: ['id'] },
          ),
        {
          pageSize: PAGE_SIZE,
          from: typeof details?.after === 'string' ? details.after : '',
          onPage: async (page) => {
            // Ids the API would refuse (rows NormX wrote) cannot be signalled: skipped and logged,
            // as reconciliation does, instead of failing the whole announcement for ever.
            const ids = page
              .map(({ id }) => id)
              .filter((id) => id !== exceptDossierId && (isReconcilableId(id) || skipped(id)));
            await forEachInOrder(
              ids,
              SIGNAL_CONCURRENCY,
              (id) => client.ownerProfileChanged(id, ownerId),
              (count) => heartbeat({ after: ids[count - 1], signalled: signalled + count }),
            );
            signalled += ids.length;
          },
          onNext: (after) => {
            heartbeat({ after, signalled });
            em.clear();
          },
        },
      );
      return { signalled };
    },

    /**
     * Hands the announcement of a profile change to the user's workflow (`user:<ownerId>`), so
     * that the dossier that carried the change is not held while thousands of others are told.
     */
    async requestOwnerProfileAnnouncement({
      ownerId,
      exceptDossierId,
    }: {
      ownerId: string;
      exceptDossierId: string;
    }): Promise<void> {
      await dossierClient().announceUserProfileSaved(ownerId, exceptDossierId);
    },
  };
}
