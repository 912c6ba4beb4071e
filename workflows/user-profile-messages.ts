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

/** A dossier call saved a new profile: the user's other open dossiers must be told. */
export interface UserProfileSavedEvent {
  eventId: string;
  /** The dossier that carried the change (it re-planned already). */
  exceptDossierId?: string;
}

export const userProfileSavedSignal = defineSignal<[UserProfileSavedEvent]>('userProfileSaved');
