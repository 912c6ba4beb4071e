import { defineSignal } from '@temporalio/workflow';
import type { OwnerProfile } from './dossier-messages.js';

/** The user-profile workflow's contract, shared by it and the client. */

export const userProfileWorkflowId = (userId: string): string => `user:${userId}`;

export interface UpdateUserProfileEvent {
  eventId: string;
  userId: string;
  profile: OwnerProfile;
}

export const updateUserProfileSignal = defineSignal<[UpdateUserProfileEvent]>('updateUserProfile');

export interface UserProfileWorkflowInput {
  userId: string;
}
