import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { DossierActivities } from '../activities/index.js';
import {
  updateUserProfileSignal,
  userProfileSavedSignal,
  type UpdateUserProfileEvent,
  type UserProfileSavedEvent,
  type UserProfileWorkflowInput,
} from './user-profile-messages.js';
import { databaseRetry } from './activity-retry.js';

const { saveUserProfile } = proxyActivities<DossierActivities>({
  startToCloseTimeout: '30 seconds',
  retry: databaseRetry,
});
// Thousands of dossiers take a while: it heartbeats its progress and a retry resumes from it.
const { announceOwnerProfile } = proxyActivities<DossierActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: databaseRetry,
});

type ProfileEvent =
  ({ type: 'update' } & UpdateUserProfileEvent) | ({ type: 'saved' } & UserProfileSavedEvent);

/**
 * A user's profile (id `user:<userId>`): a change made without a dossier call is saved, then
 * each of the user's open dossiers is told, whose workflows move their reminders to the new
 * zone; a change a dossier call saved is announced the same way (but to that dossier). Events
 * signalled while it runs are handled in order; it ends when none is left.
 */
export async function userProfileWorkflow({
  userId,
}: UserProfileWorkflowInput): Promise<{ applied: number }> {
  const queued: ProfileEvent[] = [];
  setHandler(updateUserProfileSignal, (event) => void queued.push({ type: 'update', ...event }));
  setHandler(userProfileSavedSignal, (event) => void queued.push({ type: 'saved', ...event }));
  const summary = { summary: `re-plan the open dossiers of ${userId}` };
  let applied = 0;
  for (let event = queued.shift(); event; event = queued.shift()) {
    if (event.type === 'saved') {
      const { exceptDossierId } = event;
      await announceOwnerProfile.executeWithOptions(summary, [
        { ownerId: userId, ...(exceptDossierId && { exceptDossierId }) },
      ]);
    } else {
      const { changed } = await saveUserProfile.executeWithOptions(
        { summary: `save the profile of ${userId}` },
        [{ userId, profile: event.profile, eventId: event.eventId }],
      );
      if (changed) await announceOwnerProfile.executeWithOptions(summary, [{ ownerId: userId }]);
    }
    applied += 1;
  }
  return { applied };
}
