import type { Deadline } from '../../domain/deadline.js';

/**
 * A dossier's random life, as the NormX backend and the world would live it: calls through the
 * API at given instants, owners changing their time zone, and worker outages during which
 * nothing is processed (events queue, timers fire unseen). Shared by the reference model
 * (test/model/reference-model.ts) and the drivers that run the engine on the same life.
 */

export type LifeAction =
  /** `create`/`update` of the client API (one call: creates when new, updates otherwise). */
  | {
      type: 'upsert';
      eventId: string;
      title: string;
      ownerId: string;
      deadline: Deadline;
      urgent?: boolean;
      /** An owner profile attached to the call, carrying the owner's zone. */
      ownerTimeZone?: string;
    }
  | { type: 'reschedule'; eventId: string; deadline: Deadline }
  | { type: 'assign'; eventId: string; ownerId: string; ownerTimeZone?: string }
  | { type: 'markUrgent' | 'unmarkUrgent' | 'complete' | 'cancel' | 'reopen'; eventId: string }
  /** The owner's profile changed through the user route (no dossier call): a new zone. */
  | { type: 'ownerZone'; ownerId: string; timeZone: string };

export interface LifeStep {
  /** Epoch ms at which the call is made (signals are queued at once, even while workers are down). */
  at: number;
  action: LifeAction;
}

export interface Life {
  /** The seed and index it came from, printed on failure to replay it. */
  label: string;
  dossierId: string;
  /** Epoch ms: the clock starts here. */
  start: number;
  /** Epoch ms: deliveries up to this instant (inclusive) are compared. */
  end: number;
  /** Each owner's zone at the start (every ownerId used by the life is a key). */
  owners: Record<string, string>;
  /** In increasing `at` order (equal instants keep their order). */
  steps: LifeStep[];
  /** Half-open [from, to) windows with no worker: work due inside runs at `to`. Disjoint, sorted. */
  outages: Array<{ from: number; to: number }>;
}

/** One notification stored for the dossier, as the model predicts or the engine produced it. */
export interface Delivery {
  userId: string;
  type: 'dossier_update' | 'new_alert' | 'deadline_reminder';
  kind: string;
  /** Epoch ms at which it was stored (the processing instant). */
  at: number;
}

/** Runs one life through an implementation and returns every notification it stored, in order. */
export type LifeRunner = (life: Life) => Promise<Delivery[]>;
