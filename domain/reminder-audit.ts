import type { Deadline } from './deadline.js';
import type { ReminderType } from './notification-types.js';
import { deadlineKey, planReminders, remindersOf, type ReminderPolicy } from './reminder-plan.js';
import { reminderKey } from './idempotency-keys.js';
import type { BusinessCalendar } from './business-days.js';

/**
 * The rules of the reminder audit (docs/reminders.md, "Reminder audit"), apart from its I/O: which reminders
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
 *   write that could re-plan it (the dossier's deadline, status or owner, `replannedAt`; the
 *   owner's zone, `zoneChangedAt`): an unrelated write (a title, a name) changes nothing.
 */

export interface AuditedDossier {
  id: string;
  status: 'open' | 'done' | 'cancelled';
  deadline: Deadline;
  /** Epoch ms: when its reminders were last planned from scratch (create, deadline moved, reopen). */
  plannedAt: number;
  /** The owner's zone at `plannedAt`. */
  plannedZone: string;
  /** Epoch ms: the row's last write of its deadline, status or owner (what can re-plan it). */
  replannedAt: number;
}

export interface AuditedOwner {
  timeZone: string;
  /** Epoch ms: the last change of the owner's zone (it re-plans the owner's dossiers). */
  zoneChangedAt: number;
}

export interface AuditWindow {
  /** Epoch ms: reminders due before are not looked at (the lookback). */
  from: number;
  /** Epoch ms: reminders due from here on are not owed yet (now minus the grace). */
  to: number;
}

export interface OwedReminder {
  idempotencyKey: string;
  type: ReminderType;
  kind: string;
  /** The instant the rules give (ISO), as the workflow stores it in `scheduled_for`. */
  scheduledFor: string;
  /** Epoch ms from which it was owed. */
  owedFrom: number;
}

/** The audit's period (its schedule runs hourly). */
export const AUDIT_PERIOD_MS = 3_600_000;

/**
 * Epoch ms from which a reminder of instant `at` is owed: its instant, never before the plan
 * that armed it (an overdue alert planned after its instant goes out at the plan) nor before the
 * last write that could re-plan it (its deadline, status or owner; the owner's zone).
 */
export function owedSince(
  at: number,
  dossier: Pick<AuditedDossier, 'plannedAt' | 'replannedAt'>,
  owner: Pick<AuditedOwner, 'zoneChangedAt'>,
): number {
  return Math.max(at, dossier.plannedAt, dossier.replannedAt, owner.zoneChangedAt);
}

/**
 * Whether a reminder stored at `now` comes past its grace: the user is told (`data.late`) and ops
 * count it, whoever sends it (a run busy after an outage, a run restarted by the reconciliation,
 * the audit itself).
 */
export function isPastGrace(owedFrom: number, now: number, graceMs: number): boolean {
  return now - owedFrom > graceMs;
}

/** The reminders the dossier should have had, due in `window`, in firing order. */
export function owedReminders(
  dossier: AuditedDossier,
  owner: AuditedOwner,
  {
    policy,
    window,
    planMarginMs,
    calendarIn = () => undefined,
  }: {
    policy: ReminderPolicy;
    window: AuditWindow;
    planMarginMs: number;
    /** The closed days around the deadline, seen from a zone (as the dossier's workflow got them). */
    calendarIn?: (timeZone: string) => BusinessCalendar | undefined;
  },
): OwedReminder[] {
  if (dossier.status !== 'open') return [];
  const { deadline, plannedAt } = dossier;
  const inZone = (timeZone: string) => {
    const calendar = calendarIn(timeZone);
    return { deadline, timeZone, policy, ...(calendar && { calendar }) };
  };
  // Kinds that business days merged into another (`absorbs`) are left out: the rows cannot tell
  // whether the one standing for them was sent (which ends them), and owing one would send it twice.
  const armed = new Set(
    planReminders({ ...inZone(dossier.plannedZone), now: plannedAt + planMarginMs }).map(
      (reminder) => reminder.kind,
    ),
  );
  const key = deadlineKey(deadline);
  return remindersOf(inZone(owner.timeZone))
    .filter((reminder) => armed.has(reminder.kind))
    .map((reminder) => {
      // An overdue alert planned after its instant went out at the plan.
      const due = Math.max(Date.parse(reminder.at), plannedAt);
      return { reminder, due, owedFrom: owedSince(Date.parse(reminder.at), dossier, owner) };
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

/**
 * What the dossier's workflow runs say about a reminder the rows owe and the table lacks. The
 * rows only pick the candidates: a reminder is sent by the audit only when a run decided to send
 * it (the rows cannot see a plan made by a clock, a policy or rules other than today's):
 * - `late`: the running run has it armed and due, and has not sent it (busy after an outage, a
 *   failing task): left to it, so that its queued calls apply first; counted and logged. Checked
 *   before anything else: a `complete` waiting in the running run must win.
 * - `stuck`: the running run has had it armed and due since before `stuckBy` (a whole audit period
 *   past the grace: a lost timer, a wedged run that still answers) with no call left unapplied:
 *   restore it. Its key is the run's, so the run firing it later stores nothing twice.
 * - `sent`: a run sent it and its row is gone (deleted): restore it.
 * - `orphaned`: a run that was terminated, failed or timed out had it armed and due, with no call
 *   left unapplied (a `complete` it never applied may have stopped it): restore it.
 * - `unanswered`: a run that matters could not be asked (no worker for its task queue, a task
 *   failing on replay), or an abandoned run had calls left unapplied: counted, nothing sent.
 * - `no-runs`: Temporal has no run of the dossier (past retention, an id it cannot name): logged.
 * - `not-armed`: no run armed it (the rules skipped it): nothing owed.
 */
export type MissingVerdict = 'late' | 'stuck' | 'sent' | 'orphaned' | 'unanswered' | 'no-runs' | 'not-armed';

export interface RunEvidence {
  /** Temporal's status name: RUNNING, TERMINATED, FAILED, TIMED_OUT, COMPLETED, CONTINUED_AS_NEW… */
  status: string;
  /** The run's reminder plan (its `reminderPlan` query), or undefined when it could not answer. */
  plan?: {
    sent: Array<{ idempotencyKey: string }>;
    pending: Array<{ idempotencyKey: string; at: string }>;
    /** Calls received and not applied (absent from v1 runs: unknown). */
    queued?: number;
  };
}

/** Runs whose armed reminders no later run carries on (continue-as-new does; a completion has none). */
const ABANDONED = new Set(['TERMINATED', 'FAILED', 'TIMED_OUT']);

export function judgeMissing(
  key: string,
  runs: readonly RunEvidence[],
  { dueBy, stuckBy = dueBy - AUDIT_PERIOD_MS }: { dueBy: number; stuckBy?: number },
): MissingVerdict {
  if (runs.length === 0) return 'no-runs';
  const armedDue = (run: RunEvidence, by = dueBy) =>
    run.plan?.pending.some((pending) => pending.idempotencyKey === key && Date.parse(pending.at) <= by) ??
    false;
  const running = runs.find((run) => run.status === 'RUNNING' && armedDue(run));
  if (running) return armedDue(running, stuckBy) && running.plan?.queued === 0 ? 'stuck' : 'late';
  if (runs.some((run) => run.plan?.sent.some((sent) => sent.idempotencyKey === key))) return 'sent';
  const abandoned = runs.filter((run) => ABANDONED.has(run.status) && armedDue(run));
  if (abandoned.some((run) => run.plan?.queued === 0)) return 'orphaned';
  if (abandoned.length > 0) return 'unanswered';
  if (runs.some((run) => run.plan === undefined && (run.status === 'RUNNING' || ABANDONED.has(run.status))))
    return 'unanswered';
  return 'not-armed';
}
