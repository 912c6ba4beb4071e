import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  updateUserProfileSignal,
  userProfileSavedSignal,
  userProfileWorkflowId,
} from '../workflows/user-profile-messages.js';
import type { EventOptions } from './dossier-signal.js';
import {
  eventId as eventIdSchema,
  ownerProfile,
  parse,
  userId as userIdSchema,
  type OwnerProfileInput,
} from './dossier-schemas.js';

export const USER_PROFILE_WORKFLOW_TYPE = 'userProfileWorkflow';

/** The calls to a user's profile workflow (`user:<userId>`), signal-with-start as the dossiers'. */
export function userProfileCalls(client: Client, taskQueue: string) {
  return {
    /**
     * Changes a user's profile (zone, locale, name) without touching a dossier: every open
     * dossier of theirs re-plans in the new zone, and the daily report follows it.
     */
    async updateUserProfile(
      userId: string,
      profile: OwnerProfileInput,
      opts: EventOptions = {},
    ): Promise<{ workflowId: string; eventId: string }> {
      const id = parse(userIdSchema, userId, 'userId');
      const event = {
        userId: id,
        profile: parse(ownerProfile, profile, 'profile'),
        eventId: opts.eventId === undefined ? randomUUID() : parse(eventIdSchema, opts.eventId, 'eventId'),
      };
      const workflowId = userProfileWorkflowId(id);
      await client.workflow.signalWithStart(USER_PROFILE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [{ userId: id }],
        signal: updateUserProfileSignal,
        signalArgs: [event],
        staticSummary: `Profile of user ${id}`,
      });
      return { workflowId, eventId: event.eventId };
    },

    /** A dossier call saved a new profile of the user: their other open dossiers are told (by `user:<userId>`). */
    async announceUserProfileSaved(userId: string, exceptDossierId: string): Promise<void> {
      await client.workflow.signalWithStart(USER_PROFILE_WORKFLOW_TYPE, {
        workflowId: userProfileWorkflowId(userId),
        taskQueue,
        args: [{ userId }],
        signal: userProfileSavedSignal,
        signalArgs: [{ eventId: randomUUID(), exceptDossierId }],
        staticSummary: `Profile of user ${userId}`,
      });
    },
  };
}
