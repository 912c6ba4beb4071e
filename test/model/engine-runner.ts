import {
  DossierEngine,
  mayReplan,
  plansFromScratch,
  type DossierEffects,
  type SaveRequest,
  type SaveResult,
} from '../../domain/dossier-engine.js';
import type { DossierEvent, DossierSnapshot, PlanningContext } from '../../workflows/dossier-messages.js';
import type { ReminderPolicy } from '../../domain/reminder-plan.js';
import { deadlineOf, withDeadline, type Deadline } from '../../domain/deadline.js';
import { localDueDate } from '../../domain/reminder-plan.js';
import { createBusinessCalendars } from '../../activities/business-calendar.js';
import type { Delivery, Life, LifeAction, LifeRunner } from './life.js';

/** The default policy (docs/reminders.md), as the model states it. */
export const DEFAULT_POLICY: ReminderPolicy = {
  reminderTime: { hour: 8, minute: 0 },
  offsetsDays: [7, 1, 0],
  criticalDelay: 'P3D',
};

/** Business days as the service runs them by default: France, no closed day of the firm's own. */
const FRANCE = { country: 'FR', closedDays: [] };
const calendars = createBusinessCalendars();

/**
 * The database as the dossier activities use it, in memory: a row per dossier written field by
 * field (as `saveDossierChanges` does), users with their zone, notifications unique by key.
 */
export class MemoryDatabase {
  private readonly dossiers = new Map<string, DossierSnapshot>();
  private readonly zones: Map<string, string>;
  private readonly keys = new Set<string>();
  /** The audit's columns (domain/reminder-audit.ts), stamped as the activities stamp them. */
  readonly stamps = new Map<string, { plannedAt: number; plannedZone: string; replannedAt: number }>();
  /** Each user's profile write (users.updated_at), for the users created or changed during the life. */
  /** The last change of each user's zone (`users.zone_changed_at`). */
  readonly userZoneChangedAt = new Map<string, number>();

  constructor(
    owners: Record<string, string>,
    private readonly clock: () => number,
  ) {
    this.zones = new Map(Object.entries(owners));
  }

  /** Whether the notification of this key is stored. */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  dossier(id: string): DossierSnapshot | undefined {
    return this.dossiers.get(id);
  }

  /** The owner's zone and the policy, with France's closed days around `deadline` (as the activities). */
  context(ownerId: string, deadline?: Deadline): PlanningContext {
    if (!this.zones.has(ownerId)) {
      this.zones.set(ownerId, 'Europe/Paris');
      this.userZoneChangedAt.set(ownerId, this.clock());
    }
    const timeZone = this.zones.get(ownerId)!;
    if (!deadline) return { timeZone, policy: DEFAULT_POLICY };
    return { timeZone, policy: DEFAULT_POLICY, calendar: this.calendarIn(timeZone, deadline) };
  }

  /** France's closed days around a deadline seen from a zone. */
  calendarIn(timeZone: string, deadline: Deadline) {
    const dueDay = localDueDate(deadline, timeZone).toISODate()!;
    return calendars.calendarFor(FRANCE, { dueDay, offsetsDays: DEFAULT_POLICY.offsetsDays });
  }

  /** Returns whether an existing user's zone changed. */
  setZone(ownerId: string, timeZone: string | undefined): boolean {
    const before = this.zones.get(ownerId);
    if (timeZone !== undefined) {
      if (before !== timeZone) this.userZoneChangedAt.set(ownerId, this.clock());
      this.zones.set(ownerId, timeZone);
    } else this.context(ownerId);
    return before !== undefined && before !== this.zones.get(ownerId);
  }

  save({ dossier, fields, owner }: SaveRequest): SaveResult {
    const ownerProfileChanged = this.setZone(dossier.ownerId, owner?.timezone);
    const row = this.dossiers.get(dossier.id);
    let next: DossierSnapshot = { ...dossier };
    if (row) {
      next = { ...row };
      if (fields.includes('title')) next.title = dossier.title;
      if (fields.includes('ownerId')) next.ownerId = dossier.ownerId;
      if (fields.includes('deadline')) next = withDeadline(next, dossier);
      if (fields.includes('status')) next.status = dossier.status;
      if (fields.includes('urgent')) {
        const since = dossier.urgent && row.urgent ? row.urgentSince : dossier.urgentSince;
        const { urgentSince: _old, ...rest } = next;
        next = { ...rest, urgent: dossier.urgent, ...(since && { urgentSince: since }) };
      }
    }
    this.dossiers.set(dossier.id, next);
    const context = this.context(next.ownerId, deadlineOf(next));
    const now = this.clock();
    const stamp = this.stamps.get(dossier.id);
    if (!row || !stamp || plansFromScratch(row, next))
      this.stamps.set(dossier.id, { plannedAt: now, plannedZone: context.timeZone, replannedAt: now });
    else if (mayReplan(row, next, { before: this.zones.get(row.ownerId)!, after: context.timeZone }))
      stamp.replannedAt = now;
    // A new owner in the same zone: the previous owner's last zone change is carried (as the activity does).
    else if (row.ownerId !== next.ownerId)
      stamp.replannedAt = Math.max(stamp.replannedAt, this.userZoneChangedAt.get(row.ownerId) ?? 0);
    return { dossier: { ...next }, context, ownerProfileChanged };
  }

  /** Stores a key once: true when it was new. */
  store(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    return true;
  }
}

/** The signal a life's call sends to the dossier's workflow (none for a profile change). */
function toEvent(action: LifeAction, dossierId: string): DossierEvent | undefined {
  const owner = (zone: string | undefined) => (zone === undefined ? {} : { owner: { timezone: zone } });
  switch (action.type) {
    case 'upsert': {
      const { eventId, title, ownerId, deadline, urgent, ownerTimeZone } = action;
      return {
        type: 'upsert',
        eventId,
        dossier: { id: dossierId, title, ownerId, ...deadline, ...(urgent !== undefined && { urgent }) },
        ...owner(ownerTimeZone),
      };
    }
    case 'reschedule':
      return { type: 'reschedule', eventId: action.eventId, deadline: action.deadline };
    case 'assign':
      return {
        type: 'assign',
        eventId: action.eventId,
        ownerId: action.ownerId,
        ...owner(action.ownerTimeZone),
      };
    case 'ownerZone':
      return undefined;
    default:
      return { type: action.type, eventId: action.eventId };
  }
}

/**
 * Runs a life through the real `DossierEngine` with a simulated clock: the driver plays the
 * Temporal server (durable timers, signals queued while no worker runs, a new run for a call
 * after the dossier's run ended) and the activities (an in-memory database). Nothing is
 * processed inside an outage: whatever falls due there, call or timer, is processed at its end.
 */
export async function runLifeOnEngine(
  life: Life,
  { onSettled }: { onSettled?: (clock: number, db: MemoryDatabase) => void } = {},
): Promise<Delivery[]> {
  let clock = life.start;
  const db = new MemoryDatabase(life.owners, () => clock);
  const deliveries: Delivery[] = [];
  const processedAt = (at: number): number =>
    life.outages.find((outage) => outage.from <= at && at < outage.to)?.to ?? at;
  let waiting: { ready: () => boolean; at?: number; resolve: (ready: boolean) => void } | undefined;
  let blocked: () => void = () => {};

  const effects: DossierEffects = {
    // Events arrive in the model only between steps: nothing is waiting.
    receiveArrivedEvents: async () => undefined,
    now: () => clock,
    load: async (id) => {
      const row = db.dossier(id);
      return row ? { dossier: { ...row }, context: db.context(row.ownerId, deadlineOf(row)) } : null;
    },
    save: async (request) => db.save(request),
    deliver: async ({ idempotencyKey, userId, type, kind }) => {
      if (db.store(idempotencyKey)) deliveries.push({ userId, type, kind, at: clock });
    },
    ownerContext: async (ownerId, deadline) => db.context(ownerId, deadline),
    // One dossier per life: there is no other dossier to tell.
    announceOwnerProfile: async () => {},
    waitUntil: (ready, wake) => {
      if (ready()) return Promise.resolve(true);
      if (wake && wake.at <= clock) return Promise.resolve(false);
      return new Promise((resolve) => {
        waiting = { ready, ...(wake && { at: wake.at }), resolve };
        blocked();
      });
    },
    show: () => {},
    continueAsNewSuggested: () => false,
    warn: () => {},
  };

  let engine: DossierEngine | undefined;
  let run: Promise<unknown> | undefined;
  let next = 0;
  /** Whether the engine has work to do (just started, or its wait just ended). */
  let runnable = false;
  /** Queues every call made by `clock`; starts a run for a call when none is running. */
  const queueCalls = () => {
    for (; next < life.steps.length && processedAt(life.steps[next]!.at) <= clock; next += 1) {
      const { action } = life.steps[next]!;
      let event = toEvent(action, life.dossierId);
      if (action.type === 'ownerZone') {
        // The user route saves the profile, then signals each open dossier of that owner.
        const changed = db.setZone(action.ownerId, action.timeZone);
        const row = db.dossier(life.dossierId);
        if (!changed || row?.ownerId !== action.ownerId || row.status !== 'open') continue;
        event = { type: 'ownerProfileChanged', eventId: `zone-${next}`, ownerId: action.ownerId };
      }
      if (!engine) {
        const started = new DossierEngine(life.dossierId, effects);
        engine = started;
        runnable = true;
        run = started.run().then(() => {
          if (engine === started) engine = undefined;
        });
      }
      engine.enqueue(event!);
    }
  };

  for (;;) {
    if (engine && runnable) {
      // Let the run go until it blocks on a wait or ends.
      await Promise.race([new Promise<void>((resolve) => (blocked = resolve)), run]);
    }
    runnable = false;
    // The engine has done all that was due by `clock`.
    onSettled?.(clock, db);
    const timerAt = engine && waiting?.at !== undefined ? processedAt(waiting.at) : Infinity;
    const callAt = next < life.steps.length ? processedAt(life.steps[next]!.at) : Infinity;
    const wakeAt = Math.min(timerAt, callAt);
    if (wakeAt > life.end) break;
    clock = wakeAt;
    const woken = engine ? waiting : undefined;
    queueCalls();
    // As Temporal's `condition(ready, timeout)`: a signal that leaves `ready` false does not end the wait.
    if (woken && (woken.ready() || (woken.at !== undefined && woken.at <= clock))) {
      waiting = undefined;
      runnable = true;
      woken.resolve(woken.ready());
    }
  }
  return deliveries;
}
runLifeOnEngine satisfies LifeRunner;
