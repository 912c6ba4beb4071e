import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { DossierActivities } from '../activities/index.js';
import { INVALID_DATA_FAILURE } from '../domain/failures.js';
import {
  updateUserProfileSignal,
  type UpdateUserProfileEvent,
  type UserProfileWorkflowInput,
} from './user-profile-messages.js';

const { saveUserProfile, announceOwnerProfile } = proxyActivities<DossierActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [INVALID_DATA_FAILURE],
  },
});

/**
 * A user's profile change made without a dossier call (id `user:<userId>`): saves it, then tells
 * each of the user's open dossiers, whose workflows move their reminders to the new zone.
 * Changes signalled while it runs are applied in order; it ends when none is left.
 */
export async function userProfileWorkflow({
  userId,
}: UserProfileWorkflowInput): Promise<{ applied: number }> {
  const queued: UpdateUserProfileEvent[] = [];
  setHandler(updateUserProfileSignal, (event) => void queued.push(event));
  let applied = 0;
  for (let event = queued.shift(); event; event = queued.shift()) {
    const { changed } = await saveUserProfile.executeWithOptions(
      { summary: `save the profile of ${userId}` },
      [{ userId, profile: event.profile }],
    );
    if (changed) {
      await announceOwnerProfile.executeWithOptions({ summary: `re-plan the open dossiers of ${userId}` }, [
        { ownerId: userId },
      ]);
    }
    applied += 1;
  }
  return { applied };
}
