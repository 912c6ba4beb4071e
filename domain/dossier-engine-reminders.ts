import { RejectedInput } from './dossier-effects.js';
import type { EngineCore } from './dossier-engine-core.js';
import { applyQueued } from './dossier-engine-events.js';
import type { PendingReminder } from './dossier.js';
import type { SnoozedReminder } from './snooze.js';

/**
 * The firing of a dossier's due reminders (domain/dossier-engine.ts): queued events apply first,
 * so the state that holds when a reminder is actually sent wins.
 */

/** Sent reminders kept in state (and shown by the plan query); older ones stay in the database. */
const SENT_HISTORY_LIMIT = 50;

/**
 * Sends every armed reminder whose instant has come, in order, under the state that holds
 * now. A timer fires on time even when no worker was up; its reminder goes out as soon as one is.
 */
export async function fireDueReminders(core: EngineCore): Promise<void> {
  const state = core.loaded();
  for (;;) {
    // Events that arrived while the previous reminder was being sent apply before the next.
    await applyQueued(core);
    const reminder = state.pending[0];
    const snoozed = state.snoozed?.[0];
    const now = core.effects.now();
    // A snooze due before the next rules' reminder comes first (at the same instant, after it).
    if (
      snoozed &&
      Date.parse(snoozed.at) <= now &&
      (!reminder || Date.parse(snoozed.at) < Date.parse(reminder.at))
    ) {
      await sendSnoozed(core, snoozed);
      state.snoozed = state.snoozed!.slice(1);
      await receiveIfDue(core);
      continue;
    }
    if (!reminder || Date.parse(reminder.at) > now) return;
    try {
      await core.deliver({
        idempotencyKey: reminder.idempotencyKey,
        userId: state.dossier.ownerId,
        type: reminder.type,
        kind: reminder.kind,
        scheduledFor: reminder.dueInstant,
      });
      const { at: _at, ...sent } = reminder;
      state.sent = [...state.sent, { ...sent, sentAt: core.nowIso() }].slice(-SENT_HISTORY_LIMIT);
    } catch (error) {
      if (!(error instanceof RejectedInput)) throw error;
      core.reject(reminder.kind, undefined, error.reason);
    }
    const armed = state.armed ?? state.pending.map((armedReminder) => armedReminder.kind);
    // The kinds it stood for end with it: a later re-plan never brings them back.
    state.armed = armed.filter((kind) => kind !== reminder.kind && !reminder.absorbs?.includes(kind));
    state.pending = state.pending.slice(1);
    await receiveIfDue(core);
  }
}

/** The first of the pending reminders and the snoozes, by instant: what the run wakes for next. */
export function nextWake(core: EngineCore): PendingReminder | undefined {
  const { pending, snoozed } = core.loaded();
  const reminder = pending[0];
  const snooze = snoozed?.[0];
  if (!snooze || (reminder && Date.parse(reminder.at) <= Date.parse(snooze.at))) return reminder;
  return {
    type: snooze.type,
    kind: `${snooze.kind} (snoozed)`,
    at: snooze.at,
    dueInstant: snooze.at,
    idempotencyKey: snooze.idempotencyKey,
  };
}

/** The next one is due already: events that arrived meanwhile apply before it. */
async function receiveIfDue(core: EngineCore): Promise<void> {
  const next = nextWake(core);
  if (next && Date.parse(next.at) <= core.effects.now()) await core.effects.receiveArrivedEvents();
}

/** A snoozed reminder comes again to whoever snoozed it, referring to the first; a refusal is recorded. */
async function sendSnoozed(core: EngineCore, snoozed: SnoozedReminder): Promise<void> {
  try {
    await core.deliver({
      idempotencyKey: snoozed.idempotencyKey,
      userId: snoozed.userId,
      type: snoozed.type,
      kind: snoozed.kind,
      scheduledFor: snoozed.at,
      snoozedFrom: snoozed.notificationId,
    });
  } catch (error) {
    if (!(error instanceof RejectedInput)) throw error;
    core.reject(`${snoozed.kind} (snoozed)`, undefined, error.reason);
  }
}
