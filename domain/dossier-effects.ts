import type {
  DossierSnapshot,
  OwnerProfile,
  PendingReminder,
  PlanningContext,
  RejectedEvent,
  ReminderPlanView,
} from './dossier.js';
import type { DossierNotificationType } from './notification-types.js';
import type { Deadline } from './deadline.js';

/**
 * What the dossier engine (domain/dossier-engine.ts) asks of the world, and in which words: the
 * saves, the deliveries, the clock and the timers. The workflow implements it with activities and
 * the workflow clock (workflows/dossier-workflow.ts); the model-based test with an in-memory
 * database and a simulated clock (test/model/).
 */

/** Columns a save may write; the others keep the database's value. */
export type DossierField = 'title' | 'ownerId' | 'deadline' | 'status' | 'urgent';
export const EVERY_FIELD: DossierField[] = ['title', 'ownerId', 'deadline', 'status', 'urgent'];

export interface SaveRequest {
  /** The dossier as the event leaves it (written whole when the row does not exist yet). */
  dossier: DossierSnapshot;
  /** The columns this event changed. `urgent` keeps the stored `urgentSince` of a dossier already urgent. */
  fields: DossierField[];
  /** A profile sent with the call, for the owner the dossier ends up with. */
  owner?: OwnerProfile;
  /** The call's event id: a retried save still reports the profile change it committed. */
  eventId?: string;
}

export interface SaveResult {
  /** The row as stored after the save. */
  dossier: DossierSnapshot;
  /** The owner's zone and the reminder policy. */
  context: PlanningContext;
  /** The profile changed the owner's stored zone or locale: their other dossiers must re-read it. */
  ownerProfileChanged: boolean;
}

export interface DeliveryRequest {
  idempotencyKey: string;
  userId: string;
  type: DossierNotificationType;
  kind: string;
  dossier: DossierSnapshot;
  /** The instant a reminder was planned for. */
  scheduledFor?: string;
  /** A snoozed reminder coming again: the id of the notification snoozed. */
  snoozedFrom?: string;
}

/** The database refused the data (it cannot be stored): retrying cannot help. */
export class RejectedInput extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RejectedInput';
  }
}

/** How the engine reaches the world. Each may throw RejectedInput. */
export interface DossierEffects {
  /** Epoch ms: the workflow clock. */
  now(): number;
  load(dossierId: string): Promise<{ dossier: DossierSnapshot; context: PlanningContext } | null>;
  save(request: SaveRequest): Promise<SaveResult>;
  /** Stores the notification once (by its key) and announces it. */
  deliver(request: DeliveryRequest): Promise<void>;
  /** The owner's current zone, the policy and the closed days around `deadline`, from the database. */
  ownerContext(ownerId: string, deadline: Deadline): Promise<PlanningContext>;
  /** Tells the owner's other open dossiers that the profile changed. */
  announceOwnerProfile(ownerId: string, exceptDossierId: string): Promise<void>;
  /**
   * Resolves true as soon as `ready()` holds, or false at `wake.at` (epoch ms) if it comes first;
   * without `wake`, waits for `ready()` only. `wake.next`: the reminder it wakes for, if any.
   */
  waitUntil(ready: () => boolean, wake?: { at: number; next?: PendingReminder }): Promise<boolean>;
  /** Shows the dossier's state (search attributes, current details); `null`: not created. */
  show(view: ReminderPlanView | null, rejected: RejectedEvent[]): void;
  continueAsNewSuggested(): boolean;
  warn(message: string, attributes: Record<string, unknown>): void;
  /**
   * Lets the events that arrived while a reminder was being sent reach the queue before the
   * next due one is sent: deliveries run inside one workflow task, whose signals wait for the
   * next task.
   */
  receiveArrivedEvents(): Promise<void>;
}
