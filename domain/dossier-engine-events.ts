import type { DossierEvent, UpsertDossierEvent } from './dossier.js';
import { dossierUpdateKey, urgentAlertKey } from './idempotency-keys.js';
import { deadlineOf, withDeadline } from './deadline.js';
import { deadlineKey } from './reminder-plan.js';
import { EVERY_FIELD, RejectedInput, type DossierField } from './dossier-effects.js';
import type { EngineCore } from './dossier-engine-core.js';
import { SNOOZE_MAX_PER_DOSSIER, snoozeInstant, withSnooze } from './snooze.js';

/**
 * What each event does to a dossier (domain/dossier-engine.ts): the create, then each queued
 * call in order; the notices and urgent alerts they send. A save writes only the fields its
 * event changed, and a notice is sent only when something the owner sees changed.
 */

/** The create: the row written whole, the reminders armed, the owner told. */
export async function createDossier(core: EngineCore, event: UpsertDossierEvent): Promise<void> {
  const { title, ownerId, urgent } = event.dossier;
  const urgentSince = urgent ? core.nowIso() : undefined;
  const dossier = withDeadline(
    {
      id: core.dossierId,
      title,
      ownerId,
      urgent: urgent === true,
      status: 'open' as const,
      ...(urgentSince && { urgentSince }),
    },
    deadlineOf(event.dossier),
  );
  const saved = await core.effects.save({
    dossier,
    fields: EVERY_FIELD,
    eventId: event.eventId,
    ...(event.owner && { owner: event.owner }),
  });
  core.state = { dossier: saved.dossier, context: saved.context, pending: [], sent: [] };
  core.armForDeadline();
  if (saved.ownerProfileChanged) await core.effects.announceOwnerProfile(ownerId, core.dossierId);
  await sendNotice(core, 'created', event.eventId);
  await alertUrgentOwner(core);
}

/** Applies the queued events in order; what the database refuses is recorded and skipped. */
export async function applyQueued(core: EngineCore): Promise<void> {
  for (let event = core.queue.shift(); event; event = core.queue.shift()) {
    core.applying += 1;
    try {
      await applyEvent(core, event);
    } catch (error) {
      if (!(error instanceof RejectedInput)) throw error;
      core.reject(event.type, event.eventId, error.reason);
    } finally {
      core.applying -= 1;
    }
  }
}

async function applyEvent(core: EngineCore, event: DossierEvent): Promise<void> {
  const previous = core.loaded().dossier;
  switch (event.type) {
    case 'upsert': {
      const { title, ownerId, urgent } = event.dossier;
      const deadline = deadlineOf(event.dossier);
      const fields: DossierField[] = [];
      if (title !== previous.title) fields.push('title');
      if (ownerId !== previous.ownerId) fields.push('ownerId');
      if (deadlineKey(deadline) !== deadlineKey(deadlineOf(previous))) fields.push('deadline');
      if (fields.length > 0 || event.owner) {
        await core.save(withDeadline({ ...previous, title, ownerId }, deadline), fields, {
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
        if (kind) await sendNotice(core, kind, event.eventId);
      }
      // The urgent flag of the same call applies before the new owner's alert: a call that
      // reassigns and clears urgent alerts nobody.
      const alerted = urgent !== undefined && (await setUrgency(core, urgent, event.eventId));
      if (fields.includes('ownerId') && !alerted) await alertUrgentOwner(core);
      return;
    }
    case 'reschedule':
      if (deadlineKey(event.deadline) === deadlineKey(deadlineOf(previous))) return;
      await core.save(withDeadline(previous, event.deadline), ['deadline'], event);
      await sendNotice(core, 'rescheduled', event.eventId);
      return;
    case 'assign': {
      const changed = event.ownerId !== previous.ownerId;
      if (!changed && !event.owner) return;
      await core.save({ ...previous, ownerId: event.ownerId }, changed ? ['ownerId'] : [], {
        eventId: event.eventId,
        ...(event.owner && { owner: event.owner }),
      });
      if (!changed) return;
      await sendNotice(core, 'assigned', event.eventId);
      await alertUrgentOwner(core);
      return;
    }
    case 'markUrgent':
    case 'unmarkUrgent':
      await setUrgency(core, event.type === 'markUrgent', event.eventId);
      return;
    case 'complete':
    case 'cancel': {
      const status = event.type === 'complete' ? 'done' : 'cancelled';
      if (previous.status === status) return;
      await core.save({ ...previous, status }, ['status'], event);
      if (status === 'done') await sendNotice(core, 'completed', event.eventId);
      return;
    }
    case 'reopen':
      if (previous.status === 'open') return;
      await core.save({ ...previous, status: 'open' }, ['status'], event);
      await sendNotice(core, 'reopened', event.eventId);
      await alertUrgentOwner(core);
      return;
    case 'ownerProfileChanged': {
      if (event.ownerId !== previous.ownerId) return;
      const context = await core.effects.ownerContext(event.ownerId, deadlineOf(previous));
      core.replan({ dossier: previous, context: core.loaded().context }, { dossier: previous, context });
      return;
    }
    case 'snooze':
      return snooze(core, event);
    case 'sync':
      return;
  }
}

/**
 * A reminder snoozed from the bell comes again at its instant, unless the dossier is done or
 * cancelled, or its deadline moves, before then (the rules re-plan; docs/reminders.md, "Snooze").
 * Nothing is saved: the snooze lives in the run's state, and continue-as-new carries it.
 */
function snooze(core: EngineCore, event: Extract<DossierEvent, { type: 'snooze' }>): void {
  const state = core.loaded();
  // Only the owner's own reminders of an open dossier (the route checks it; a call may race a change).
  if (state.dossier.status !== 'open' || event.userId !== state.dossier.ownerId) return;
  const snoozed = state.snoozed ?? [];
  if (
    snoozed.length >= SNOOZE_MAX_PER_DOSSIER &&
    !snoozed.some((s) => s.notificationId === event.notificationId)
  ) {
    core.reject('snooze', event.eventId, `at most ${SNOOZE_MAX_PER_DOSSIER} snoozes at once per dossier`);
    return;
  }
  const { timeZone, policy, calendar } = state.context;
  const at = snoozeInstant(event.until !== undefined ? { until: event.until } : { preset: event.preset }, {
    now: core.effects.now(),
    timeZone,
    reminderTime: policy.reminderTime,
    ...(calendar && { calendar }),
  });
  state.snoozed = withSnooze(snoozed, core.dossierId, {
    eventId: event.eventId,
    notificationId: event.notificationId,
    userId: event.userId,
    type: event.notificationType,
    kind: event.kind,
    at,
  });
}

/** Returns whether it alerted the owner. */
async function setUrgency(core: EngineCore, urgent: boolean, eventId: string): Promise<boolean> {
  const dossier = core.loaded().dossier;
  if (urgent === dossier.urgent) return false;
  const { urgentSince: _cleared, ...rest } = dossier;
  // The database keeps an earlier `urgentSince` if NormX had flagged it already: the alert's
  // key then matches the one the hourly job used, and the owner is not alerted twice.
  await core.save(
    urgent ? { ...rest, urgent, urgentSince: core.nowIso() } : { ...rest, urgent },
    ['urgent'],
    {
      eventId,
    },
  );
  if (!urgent) return false;
  await alertUrgentOwner(core);
  return true;
}

/** The owner of an open urgent dossier gets one `urgent` alert per urgent period (the key dedupes). */
async function alertUrgentOwner(core: EngineCore): Promise<void> {
  const { dossier } = core.loaded();
  if (dossier.status !== 'open' || !dossier.urgent || !dossier.urgentSince) return;
  await core.deliver({
    idempotencyKey: urgentAlertKey(dossier.id, dossier.urgentSince, dossier.ownerId),
    userId: dossier.ownerId,
    type: 'new_alert',
    kind: 'urgent',
  });
}

async function sendNotice(core: EngineCore, kind: string, eventId: string): Promise<void> {
  const { dossier } = core.loaded();
  await core.deliver({
    idempotencyKey: dossierUpdateKey(dossier.id, eventId),
    userId: dossier.ownerId,
    type: 'dossier_update',
    kind,
  });
}
