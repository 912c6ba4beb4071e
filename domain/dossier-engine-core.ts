import type {
  CarriedState,
  DossierEvent,
  DossierSnapshot,
  OwnerProfile,
  PendingReminder,
  PlanningContext,
  RejectedEvent,
  ReminderPlanView,
  SentReminder,
} from './dossier.js';
import type { DeliveryRequest, DossierEffects, DossierField } from './dossier-effects.js';
import { armForDeadline, rearmKeeping } from './armed-reminders.js';
import { plansFromScratch } from './replan-rules.js';
import type { SnoozedReminder } from './snooze.js';

/**
 * The dossier engine's state and queue (domain/dossier-engine.ts), and the steps every rule
 * shares: saving a change and re-planning for it, delivering, recording a refusal. What each
 * event does is in dossier-engine-events.ts, the firing of due reminders in
 * dossier-engine-reminders.ts.
 */

/** Rejected events kept in state. */
const REJECTED_HISTORY_LIMIT = 20;

export interface EngineState {
  dossier: DossierSnapshot;
  context: PlanningContext;
  pending: PendingReminder[];
  sent: SentReminder[];
  /**
   * The kinds armed when the deadline was last set, not sent yet. Usually those of `pending`; a
   * j-N that a zone change put at or after the overdue instant is out of `pending` but stays
   * here, and comes back if a later change moves it before (only the zone the owner ends up
   * with decides). Absent in states carried from v1: then `pending`'s kinds.
   */
  armed?: string[];
  /** Reminders snoozed from the bell, in firing order (domain/snooze.ts). */
  snoozed?: SnoozedReminder[];
}

export class EngineCore {
  /** Events received by the signal handlers, in order, waiting for the run loop. */
  readonly queue: DossierEvent[] = [];
  /** Events taken from the queue whose application has not ended (see queuedEvents). */
  applying = 0;
  state: EngineState | undefined;
  rejected: RejectedEvent[] = [];

  constructor(
    readonly dossierId: string,
    readonly effects: DossierEffects,
  ) {}

  view(): ReminderPlanView {
    if (!this.state) throw new Error(`dossier ${this.dossierId} is not loaded yet`);
    const { dossier, context, sent, pending, snoozed } = this.state;
    return {
      dossier,
      timeZone: context.timeZone,
      sent,
      pending,
      rejected: this.rejected,
      ...(snoozed && snoozed.length > 0 && { snoozed }),
    };
  }

  /** What continue-as-new carries: the state and the events not yet applied. */
  carried(): CarriedState {
    return { ...this.loaded(), queued: this.queue.splice(0), rejected: this.rejected };
  }

  /** Writes the changed fields, adopts the row as stored, and re-plans for what moved. */
  async save(
    next: DossierSnapshot,
    fields: DossierField[],
    { owner, eventId }: { owner?: OwnerProfile; eventId: string },
  ): Promise<void> {
    const { dossier, context } = this.loaded();
    const before = { dossier, context };
    const saved = await this.effects.save({ dossier: next, fields, eventId, ...(owner && { owner }) });
    this.replan(before, saved);
    // `ownerProfileChanged` is false on a retry whose first attempt committed the change (the
    // zone is stored already): a zone this dossier had not seen, same owner, announces as well.
    const sameOwner = before.dossier.ownerId === saved.dossier.ownerId;
    const unseenZone = sameOwner && before.context.timeZone !== saved.context.timeZone;
    if (owner && (saved.ownerProfileChanged || unseenZone)) {
      await this.effects.announceOwnerProfile(saved.dossier.ownerId, this.dossierId);
    }
  }

  /**
   * Moves to a new dossier row and planning context, and re-plans: a deadline set or moved (or a
   * dossier opened) plans from now and skips what has passed; a zone change keeps what is armed.
   */
  replan(
    before: { dossier: DossierSnapshot; context: PlanningContext },
    after: { dossier: DossierSnapshot; context: PlanningContext },
  ): void {
    const state = this.loaded();
    state.dossier = after.dossier;
    state.context = after.context;
    // Snoozes end with what they were about: a dossier closed, a deadline moved or reopened, a
    // new owner (a former owner's comeback would show them the dossier as it is now).
    const ownerChanged = before.dossier.ownerId !== after.dossier.ownerId;
    const ended = after.dossier.status !== 'open' || plansFromScratch(before.dossier, after.dossier);
    if (state.snoozed && (ended || ownerChanged)) {
      delete state.snoozed;
    }
    if (plansFromScratch(before.dossier, after.dossier)) return this.armForDeadline();
    if (JSON.stringify(before.context) !== JSON.stringify(after.context)) this.rearmKeeping();
    if (after.dossier.status !== 'open') state.pending = [];
  }

  /** Plans from now; reminders already sent for this deadline are not armed again. */
  armForDeadline(): void {
    Object.assign(this.loaded(), armForDeadline(this.loaded(), this.effects.now()));
  }

  /** The same reminders stay armed, at their instants under the current zone; passed ones fire now. */
  rearmKeeping(): void {
    this.loaded().pending = rearmKeeping(this.loaded());
  }

  deliver(request: Omit<DeliveryRequest, 'dossier'>): Promise<void> {
    return this.effects.deliver({ ...request, dossier: this.loaded().dossier });
  }

  reject(what: string, eventId: string | undefined, reason: string): void {
    const entry: RejectedEvent = { what, ...(eventId && { eventId }), reason, at: this.nowIso() };
    this.rejected = [...this.rejected, entry].slice(-REJECTED_HISTORY_LIMIT);
    this.effects.warn('Refused by the database: recorded as rejected, not retried', {
      dossierId: this.dossierId,
      ...entry,
    });
  }

  loaded(): EngineState {
    if (!this.state) throw new Error(`dossier ${this.dossierId} is not loaded yet`);
    return this.state;
  }

  nowIso(): string {
    return new Date(this.effects.now()).toISOString();
  }
}
