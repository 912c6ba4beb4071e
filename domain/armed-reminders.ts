import { deadlineOf } from './deadline.js';
import type { DossierSnapshot, PendingReminder, PlanningContext, SentReminder } from './dossier.js';
import { reminderKey } from './idempotency-keys.js';
import { deadlineKey, planReminders, remindersOf } from './reminder-plan.js';

/**
 * Which reminders a dossier has armed, from its state: the engine's two ways of planning
 * (domain/dossier-engine.ts), as pure functions of the state and the clock.
 */

/** What the planning reads of the engine's state. */
export interface PlanningState {
  dossier: DossierSnapshot;
  context: PlanningContext;
  pending: PendingReminder[];
  sent: SentReminder[];
  armed?: string[];
}

/**
 * Plans from `now` (a deadline set or moved, a dossier reopened): what has passed is skipped, and
 * reminders already sent for this deadline are not armed again. A dossier not open arms nothing.
 */
export function armForDeadline(
  state: PlanningState,
  now: number,
): { pending: PendingReminder[]; armed?: string[] } {
  if (state.dossier.status !== 'open') return { pending: [] };
  const sentKeys = new Set(state.sent.map((reminder) => reminder.idempotencyKey));
  const { timeZone, policy, calendar } = state.context;
  const planned = planReminders({ deadline: deadlineOf(state.dossier), timeZone, policy, now, calendar })
    .map((reminder) => keyed(state.dossier, reminder))
    .filter((reminder) => !sentKeys.has(reminder.idempotencyKey));
  // The kinds a reminder stands for stay armed with it (a re-plan may part them again), unless sent.
  const sentKind = (kind: string) =>
    sentKeys.has(reminderKey(state.dossier.id, deadlineKey(deadlineOf(state.dossier)), kind));
  const armed = planned.flatMap((reminder) => [
    reminder.kind,
    ...(reminder.absorbs ?? []).filter((kind) => !sentKind(kind)),
  ]);
  return { pending: planned, armed };
}

/**
 * The same reminders stay armed (an owner or zone change), at their instants under the current
 * context; a passed one fires at once.
 */
export function rearmKeeping(state: PlanningState): PendingReminder[] {
  const armed = new Set(state.armed ?? state.pending.map((reminder) => reminder.kind));
  const { timeZone, policy, calendar } = state.context;
  return remindersOf({ deadline: deadlineOf(state.dossier), timeZone, policy, calendar })
    .filter((planned) => armed.has(planned.kind))
    .map((planned) => keyed(state.dossier, planned));
}

/** A reminder with its key: one per dossier, deadline and kind. */
function keyed(dossier: DossierSnapshot, planned: Omit<PendingReminder, 'idempotencyKey'>): PendingReminder {
  return {
    ...planned,
    idempotencyKey: reminderKey(dossier.id, deadlineKey(deadlineOf(dossier)), planned.kind),
  };
}
