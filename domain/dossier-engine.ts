import type {
  CarriedState,
  DossierEvent,
  DossierWorkflowResult,
  ReminderPlanView,
  UpsertDossierEvent,
} from './dossier.js';
import { RejectedInput, type DossierEffects } from './dossier-effects.js';
import { EngineCore } from './dossier-engine-core.js';
import { createDossier } from './dossier-engine-events.js';
import { fireDueReminders, nextWake } from './dossier-engine-reminders.js';

export * from './dossier-effects.js';
export { mayReplan, plansFromScratch } from './replan-rules.js';

/**
 * A dossier's rules, apart from Temporal: what each event does, what is armed, what is sent and
 * when. The engine talks to the world only through `DossierEffects`, which the workflow
 * implements with activities and the workflow clock (workflows/dossier-workflow.ts), and the
 * model-based test with an in-memory database and a simulated clock (test/model/). So the code
 * that the random lives check is the code that runs in production.
 *
 * This file holds the run loop; the state, its queue and the shared steps are in
 * dossier-engine-core.ts, what each event does in dossier-engine-events.ts, the firing of due
 * reminders in dossier-engine-reminders.ts.
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

export type RunEnd = { outcome: DossierWorkflowResult['outcome'] } | 'continue-as-new';

export class DossierEngine {
  private readonly core: EngineCore;

  constructor(
    private readonly dossierId: string,
    private readonly effects: DossierEffects,
  ) {
    this.core = new EngineCore(dossierId, effects);
  }

  /** Called by the signal handlers: events wait in order for the run loop. */
  enqueue(event: DossierEvent): void {
    this.core.queue.push(event);
  }

  view(): ReminderPlanView {
    return this.core.view();
  }

  /**
   * Events received and not fully applied yet: queued, or being applied (its save not back). The
   * plan query shows it; the reminder audit reads it on a terminated run.
   */
  get queuedEvents(): number {
    return this.core.queue.length + this.core.applying;
  }

  /** What continue-as-new carries: the state and the events not yet applied. */
  carried(): CarriedState {
    return this.core.carried();
  }

  /** Runs the dossier until it is done or cancelled, or until continue-as-new is due. */
  async run(carried?: CarriedState): Promise<RunEnd> {
    const core = this.core;
    if (carried) {
      const { queued, rejected, ...state } = carried;
      core.queue.unshift(...queued);
      core.state = state;
      core.rejected = rejected ?? [];
    } else {
      const ended = await this.start();
      if (ended) return ended;
    }
    for (;;) {
      // Applies the queued events first, and again between reminders.
      await fireDueReminders(core);
      this.effects.show(core.view(), core.rejected);
      const { status } = core.loaded().dossier;
      if (status !== 'open') return { outcome: status };
      if (this.effects.continueAsNewSuggested()) return 'continue-as-new';
      const next = nextWake(core);
      await this.effects.waitUntil(() => core.queue.length > 0, next && { at: Date.parse(next.at), next });
    }
  }

  /**
   * A new run: the database copy is the truth when the dossier exists (reconciliation, or a
   * call after its workflow ended). Otherwise only a create brings it into being: it is looked
   * for anywhere in the queue, and calls that came before it apply after it.
   */
  private async start(): Promise<RunEnd | undefined> {
    const core = this.core;
    const loaded = await this.effects.load(this.dossierId);
    if (loaded) {
      core.state = { ...loaded, pending: [], sent: [] };
      core.armForDeadline();
      return undefined;
    }
    const isCreate = (event: DossierEvent) => event.type === 'upsert';
    const found = await this.effects.waitUntil(() => core.queue.some(isCreate), {
      at: this.effects.now() + CREATE_WAIT_MS,
    });
    if (!found) {
      this.effects.warn('Dossier unknown to the service: nothing to plan', {
        dossierId: this.dossierId,
        events: core.queue.map((event) => event.type),
      });
      this.effects.show(null, core.rejected);
      return { outcome: 'unknown-dossier' };
    }
    const [create] = core.queue.splice(core.queue.findIndex(isCreate), 1) as [
      { type: 'upsert' } & UpsertDossierEvent,
    ];
    try {
      await createDossier(core, create);
    } catch (error) {
      if (!(error instanceof RejectedInput)) throw error;
      core.reject('create', create.eventId, error.reason);
      this.effects.show(null, core.rejected);
      return { outcome: 'rejected' };
    }
    return undefined;
  }
}
