import type {
  CarriedState,
  DossierEvent,
  DossierSnapshot,
  DossierWorkflowResult,
  OwnerProfile,
  PendingReminder,
  PlanningContext,
  RejectedEvent,
  ReminderPlanView,
  SentReminder,
  UpsertDossierEvent,
} from './dossier.js';
import { dossierUpdateKey, urgentAlertKey } from './idempotency-keys.js';
import { deadlineOf, withDeadline } from './deadline.js';
import { deadlineKey } from './reminder-plan.js';
import {
  EVERY_FIELD,
  RejectedInput,
  type DeliveryRequest,
  type DossierEffects,
  type DossierField,
} from './dossier-effects.js';
import { armForDeadline, rearmKeeping } from './armed-reminders.js';
import { plansFromScratch } from './replan-rules.js';

export * from './dossier-effects.js';
export { mayReplan, plansFromScratch } from './replan-rules.js';

/**
 * A dossier's rules, apart from Temporal: what each event does, what is armed, what is sent and
 * when. The engine talks to the world only through `DossierEffects`, which the workflow
 * implements with activities and the workflow clock (workflows/dossier-workflow.ts), and the
 * model-based test with an in-memory database and a simulated clock (test/model/). So the code
 * that the random lives check is the code that runs in production.
 *
 * The rules (docs/reminders.md):
 * - Queued events apply before due reminders fire: the state that holds when a reminder is
 *   actually sent wins (a `complete` queued at 07:30 while the workers were down stops the 08:00
 *   j-0 they process at 08:30).
 * - "Skip what has passed" applies only when the deadline is set or moved (create, reschedule,
 *   an update of the deadline, reopen); any other re-plan (owner, zone) keeps what is armed and
 *   moves its instants, and a reminder whose instant has passed fires at once.
 * - A save writes only the fields its event changed, and the engine adopts the row as stored
 *   (a flag NormX set in the database survives and is seen).
 * - A notice is sent only when something the owner sees changed.
 * - What the database refuses (RejectedInput) is recorded and skipped, never retried for ever.
 */

/** How long calls about an unknown dossier wait for its create before the run gives up. */
export const CREATE_WAIT_MS = 60 * 60 * 1000;
/** Sent reminders kept in state (and shown by the plan query); older ones stay in the database. */
const SENT_HISTORY_LIMIT = 50;
/** Rejected events kept in state. */
const REJECTED_HISTORY_LIMIT = 20;

interface EngineState {
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
}

export type RunEnd = { outcome: DossierWorkflowResult['outcome'] } | 'continue-as-new';

export class DossierEngine {
  private readonly queue: DossierEvent[] = [];
  /** Events taken from the queue whose application has not ended (see queuedEvents). */
  private applying = 0;
  private state: EngineState | undefined;
  private rejected: RejectedEvent[] = [];

  constructor(
    private readonly dossierId: string,
    private readonly effects: DossierEffects,
  ) {}

  /** Called by the signal handlers: events wait in order for the run loop. */
  enqueue(event: DossierEvent): void {
    this.queue.push(event);
  }

  view(): ReminderPlanView {
    if (!this.state) throw new Error(`dossier ${this.dossierId} is not loaded yet`);
    const { dossier, context, sent, pending } = this.state;
    return { dossier, timeZone: context.timeZone, sent, pending, rejected: this.rejected };
  }

  /**
   * Events received and not fully applied yet: queued, or being applied (its save not back). The
   * plan query shows it; the reminder audit reads it on a terminated run.
   */
  get queuedEvents(): number {
    return this.queue.length + this.applying;
  }

  /** What continue-as-new carries: the state and the events not yet applied. */
  carried(): CarriedState {
    return { ...this.loaded(), queued: this.queue.splice(0), rejected: this.rejected };
  }

  /** Runs the dossier until it is done or cancelled, or until continue-as-new is due. */
  async run(carried?: CarriedState): Promise<RunEnd> {
    if (carried) {
      const { queued, rejected, ...state } = carried;
      this.queue.unshift(...queued);
      this.state = state;
      this.rejected = rejected ?? [];
    } else {
      const ended = await this.start();
      if (ended) return ended;
    }
    for (;;) {
      // Applies the queued events first, and again between reminders.
      await this.fireDueReminders();
      this.effects.show(this.view(), this.rejected);
      const { status } = this.loaded().dossier;
      if (status !== 'open') return { outcome: status };
      if (this.effects.continueAsNewSuggested()) return 'continue-as-new';
      const next = this.loaded().pending[0];
      await this.effects.waitUntil(() => this.queue.length > 0, next && { at: Date.parse(next.at), next });
    }
  }

  /**
   * A new run: the database copy is the truth when the dossier exists (reconciliation, or a
   * call after its workflow ended). Otherwise only a create brings it into being: it is looked
   * for anywhere in the queue, and calls that came before it apply after it.
   */
  private async start(): Promise<RunEnd | undefined> {
    const loaded = await this.effects.load(this.dossierId);
    if (loaded) {
      this.state = { ...loaded, pending: [], sent: [] };
      this.armForDeadline();
      return undefined;
    }
    const isCreate = (event: DossierEvent) => event.type === 'upsert';
    const found = await this.effects.waitUntil(() => this.queue.some(isCreate), {
      at: this.effects.now() + CREATE_WAIT_MS,
    });
    if (!found) {
      this.effects.warn('Dossier unknown to the service: nothing to plan', {
        dossierId: this.dossierId,
        events: this.queue.map((event) => event.type),
      });
      this.effects.show(null, this.rejected);
      return { outcome: 'unknown-dossier' };
    }
    const [create] = this.queue.splice(this.queue.findIndex(isCreate), 1) as [
      { type: 'upsert' } & UpsertDossierEvent,
    ];
    try {
      await this.create(create);
    } catch (error) {
      if (!(error instanceof RejectedInput)) throw error;
      this.reject('create', create.eventId, error.reason);
      this.effects.show(null, this.rejected);
      return { outcome: 'rejected' };
    }
    return undefined;
  }

  private async create(event: UpsertDossierEvent): Promise<void> {
    const { title, ownerId, urgent } = event.dossier;
    const urgentSince = urgent ? this.nowIso() : undefined;
    const dossier = withDeadline(
      {
        id: this.dossierId,
        title,
        ownerId,
        urgent: urgent === true,
        status: 'open' as const,
        ...(urgentSince && { urgentSince }),
      },
      deadlineOf(event.dossier),
    );
    const saved = await this.effects.save({
      dossier,
      fields: EVERY_FIELD,
      eventId: event.eventId,
      ...(event.owner && { owner: event.owner }),
    });
    this.state = { dossier: saved.dossier, context: saved.context, pending: [], sent: [] };
    this.armForDeadline();
    if (saved.ownerProfileChanged) await this.effects.announceOwnerProfile(ownerId, this.dossierId);
    await this.sendNotice('created', event.eventId);
    await this.alertUrgentOwner();
  }

  private async applyQueued(): Promise<void> {
    for (let event = this.queue.shift(); event; event = this.queue.shift()) {
      this.applying += 1;
      try {
        await this.apply(event);
      } catch (error) {
        if (!(error instanceof RejectedInput)) throw error;
        this.reject(event.type, event.eventId, error.reason);
      } finally {
        this.applying -= 1;
      }
    }
  }

  private async apply(event: DossierEvent): Promise<void> {
    const previous = this.loaded().dossier;
    switch (event.type) {
      case 'upsert': {
        const { title, ownerId, urgent } = event.dossier;
        const deadline = deadlineOf(event.dossier);
        const fields: DossierField[] = [];
        if (title !== previous.title) fields.push('title');
        if (ownerId !== previous.ownerId) fields.push('ownerId');
        if (deadlineKey(deadline) !== deadlineKey(deadlineOf(previous))) fields.push('deadline');
        if (fields.length > 0 || event.owner) {
          await this.save(withDeadline({ ...previous, title, ownerId }, deadline), fields, {
            eventId: event.eventId,
            ...(event.owner && { owner: event.owner }),
          });
          const kind = fields.includes('ownerId')
            ? 'assigned'
            : fields.includes('deadline')
              ? 'rescheduled'
              : fields.includes('title')
                ? 'updated'
                : undefined;
          if (kind) await this.sendNotice(kind, event.eventId);
        }
        // The urgent flag of the same call applies before the new owner's alert: a call that
        // reassigns and clears urgent alerts nobody.
        const alerted = urgent !== undefined && (await this.setUrgency(urgent, event.eventId));
        if (fields.includes('ownerId') && !alerted) await this.alertUrgentOwner();
        return;
      }
      case 'reschedule':
        if (deadlineKey(event.deadline) === deadlineKey(deadlineOf(previous))) return;
        await this.save(withDeadline(previous, event.deadline), ['deadline'], event);
        await this.sendNotice('rescheduled', event.eventId);
        return;
      case 'assign': {
        const changed = event.ownerId !== previous.ownerId;
        if (!changed && !event.owner) return;
        await this.save({ ...previous, ownerId: event.ownerId }, changed ? ['ownerId'] : [], {
          eventId: event.eventId,
          ...(event.owner && { owner: event.owner }),
        });
        if (!changed) return;
        await this.sendNotice('assigned', event.eventId);
        await this.alertUrgentOwner();
        return;
      }
      case 'markUrgent':
      case 'unmarkUrgent':
        await this.setUrgency(event.type === 'markUrgent', event.eventId);
        return;
      case 'complete':
      case 'cancel': {
        const status = event.type === 'complete' ? 'done' : 'cancelled';
        if (previous.status === status) return;
        await this.save({ ...previous, status }, ['status'], event);
        if (status === 'done') await this.sendNotice('completed', event.eventId);
        return;
      }
      case 'reopen':
        if (previous.status === 'open') return;
        await this.save({ ...previous, status: 'open' }, ['status'], event);
        await this.sendNotice('reopened', event.eventId);
        await this.alertUrgentOwner();
        return;
      case 'ownerProfileChanged': {
        if (event.ownerId !== previous.ownerId) return;
        const context = await this.effects.ownerContext(event.ownerId);
        this.replan({ dossier: previous, context: this.loaded().context }, { dossier: previous, context });
        return;
      }
      case 'sync':
        return;
    }
  }

  /**
   * Sends every armed reminder whose instant has come, in order, under the state that holds
   * now. A timer fires on time even when no worker was up; its reminder goes out as soon as one is.
   */
  private async fireDueReminders(): Promise<void> {
    const state = this.loaded();
    for (;;) {
      // Events that arrived while the previous reminder was being sent apply before the next.
      await this.applyQueued();
      const reminder = state.pending[0];
      if (!reminder || Date.parse(reminder.at) > this.effects.now()) return;
      try {
        await this.deliver({
          idempotencyKey: reminder.idempotencyKey,
          userId: state.dossier.ownerId,
          type: reminder.type,
          kind: reminder.kind,
          scheduledFor: reminder.dueInstant,
        });
        const { at: _at, ...sent } = reminder;
        state.sent = [...state.sent, { ...sent, sentAt: this.nowIso() }].slice(-SENT_HISTORY_LIMIT);
      } catch (error) {
        if (!(error instanceof RejectedInput)) throw error;
        this.reject(reminder.kind, undefined, error.reason);
      }
      const armed = state.armed ?? state.pending.map((armedReminder) => armedReminder.kind);
      state.armed = armed.filter((kind) => kind !== reminder.kind);
      state.pending = state.pending.slice(1);
      const next = state.pending[0];
      if (next && Date.parse(next.at) <= this.effects.now()) await this.effects.receiveArrivedEvents();
    }
  }

  /** Returns whether it alerted the owner. */
  private async setUrgency(urgent: boolean, eventId: string): Promise<boolean> {
    const dossier = this.loaded().dossier;
    if (urgent === dossier.urgent) return false;
    const { urgentSince: _cleared, ...rest } = dossier;
    // The database keeps an earlier `urgentSince` if NormX had flagged it already: the alert's
    // key then matches the one the hourly job used, and the owner is not alerted twice.
    await this.save(
      urgent ? { ...rest, urgent, urgentSince: this.nowIso() } : { ...rest, urgent },
      ['urgent'],
      {
        eventId,
      },
    );
    if (!urgent) return false;
    await this.alertUrgentOwner();
    return true;
  }

  /** The owner of an open urgent dossier gets one `urgent` alert per urgent period (the key dedupes). */
  private async alertUrgentOwner(): Promise<void> {
    const { dossier } = this.loaded();
    if (dossier.status !== 'open' || !dossier.urgent || !dossier.urgentSince) return;
    await this.deliver({
      idempotencyKey: urgentAlertKey(dossier.id, dossier.urgentSince, dossier.ownerId),
      userId: dossier.ownerId,
      type: 'new_alert',
      kind: 'urgent',
    });
  }

  /** Writes the changed fields, adopts the row as stored, and re-plans for what moved. */
  private async save(
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
  private replan(
    before: { dossier: DossierSnapshot; context: PlanningContext },
    after: { dossier: DossierSnapshot; context: PlanningContext },
  ): void {
    const state = this.loaded();
    state.dossier = after.dossier;
    state.context = after.context;
    if (plansFromScratch(before.dossier, after.dossier)) return this.armForDeadline();
    if (JSON.stringify(before.context) !== JSON.stringify(after.context)) this.rearmKeeping();
    if (after.dossier.status !== 'open') state.pending = [];
  }

  /** Plans from now; reminders already sent for this deadline are not armed again. */
  private armForDeadline(): void {
    Object.assign(this.loaded(), armForDeadline(this.loaded(), this.effects.now()));
  }

  /** The same reminders stay armed, at their instants under the current zone; passed ones fire now. */
  private rearmKeeping(): void {
    this.loaded().pending = rearmKeeping(this.loaded());
  }

  private async sendNotice(kind: string, eventId: string): Promise<void> {
    const { dossier } = this.loaded();
    await this.deliver({
      idempotencyKey: dossierUpdateKey(dossier.id, eventId),
      userId: dossier.ownerId,
      type: 'dossier_update',
      kind,
    });
  }

  private deliver(request: Omit<DeliveryRequest, 'dossier'>): Promise<void> {
    return this.effects.deliver({ ...request, dossier: this.loaded().dossier });
  }

  private reject(what: string, eventId: string | undefined, reason: string): void {
    const entry: RejectedEvent = { what, ...(eventId && { eventId }), reason, at: this.nowIso() };
    this.rejected = [...this.rejected, entry].slice(-REJECTED_HISTORY_LIMIT);
    this.effects.warn('Refused by the database: recorded as rejected, not retried', {
      dossierId: this.dossierId,
      ...entry,
    });
  }

  private loaded(): EngineState {
    if (!this.state) throw new Error(`dossier ${this.dossierId} is not loaded yet`);
    return this.state;
  }

  private nowIso(): string {
    return new Date(this.effects.now()).toISOString();
  }
}
