import {
  deadlineKey,
  planReminders,
  remindersOf,
  type Deadline,
  type ReminderPolicy,
} from '../workflows/reminder-plan.js';
import { reminderKey } from '../workflows/idempotency-keys.js';

/**
 * The rules of the reminder audit (README, "Reminder audit"), apart from its I/O: which reminders
 * a dossier should have had by now, computed from its row alone, so that a loss anywhere (a
 * wedged or terminated workflow, a lost timer, a deleted row) shows as a missing key. No I/O.
 *
 * The audit must never invent a reminder that the rules did not send. So it reads, from the row:
 * - what was armed: the reminders planned when the deadline was last set or moved, or the dossier
 *   reopened (`plannedAt`, in the owner's zone of that instant, `plannedZone`); a reminder whose
 *   instant had passed then was skipped, not owed. The save that plans stamps the row before the
 *   workflow's clock plans, so the reminders within `planMarginMs` after the stamp are left out.
 * - when each armed one was due: its instant in the owner's current zone (a zone change moves
 *   what is armed, and one moved into the past fires at the change), and never before the last
 *   write that could re-plan it (the dossier row's or the owner's `updatedAt`).
 */

export interface AuditedDossier {
  id: string;
  status: 'open' | 'done' | 'cancelled';
  deadline: Deadline;
  /** Epoch ms: when its reminders were last planned from scratch (create, deadline moved, reopen). */
  plannedAt: number;
  /** The owner's zone at `plannedAt`. */
  plannedZone: string;
  /** Epoch ms: the row's last write. */
  updatedAt: number;
}

export interface AuditedOwner {
  timeZone: string;
  /** Epoch ms: the profile's last write (a zone change re-plans the owner's dossiers). */
  updatedAt: number;
}

export interface AuditWindow {
  /** Epoch ms: reminders due before are not looked at (the lookback). */
  from: number;
  /** Epoch ms: reminders due from here on are not owed yet (now minus the grace). */
  to: number;
}

export interface OwedReminder {
  idempotencyKey: string;
  type: 'deadline_reminder' | 'new_alert';
  kind: string;
  /** The instant the rules give (ISO), as the workflow stores it in `scheduled_for`. */
  scheduledFor: string;
  /** Epoch ms from which it was owed. */
  owedFrom: number;
}

/** The reminders the dossier should have had, due in `window`, in firing order. */
export function owedReminders(
  dossier: AuditedDossier,
  owner: AuditedOwner,
  { policy, window, planMarginMs }: { policy: ReminderPolicy; window: AuditWindow; planMarginMs: number },
): OwedReminder[] {
  if (dossier.status !== 'open') return [];
  const { deadline, plannedAt } = dossier;
  const armed = new Set(
    planReminders({ deadline, timeZone: dossier.plannedZone, policy, now: plannedAt + planMarginMs }).map(
      (reminder) => reminder.kind,
    ),
  );
  const replannedAt = Math.max(dossier.updatedAt, owner.updatedAt);
  const key = deadlineKey(deadline);
  return remindersOf({ deadline, timeZone: owner.timeZone, policy })
    .filter((reminder) => armed.has(reminder.kind))
    .map((reminder) => {
      // An overdue alert planned after its instant went out at the plan.
      const due = Math.max(Date.parse(reminder.at), plannedAt);
      return { reminder, due, owedFrom: Math.max(due, replannedAt) };
    })
    .filter(({ due, owedFrom }) => due >= window.from && owedFrom < window.to)
    .map(({ reminder, owedFrom }) => ({
      idempotencyKey: reminderKey(dossier.id, key, reminder.kind),
      type: reminder.type,
      kind: reminder.kind,
      scheduledFor: reminder.dueInstant,
      owedFrom,
    }));
}
