import { RejectedInput } from './dossier-effects.js';
import type { EngineCore } from './dossier-engine-core.js';
import { applyQueued } from './dossier-engine-events.js';

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
    if (!reminder || Date.parse(reminder.at) > core.effects.now()) return;
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
    state.armed = armed.filter((kind) => kind !== reminder.kind);
    state.pending = state.pending.slice(1);
    const next = state.pending[0];
    if (next && Date.parse(next.at) <= core.effects.now()) await core.effects.receiveArrivedEvents();
  }
}
