import { DateTime } from 'luxon';
import type { Delivery, Life, LifeAction } from './life.js';

/**
 * The reference model of a dossier's notifications: a small, direct restatement of the reminder
 * rules (policy: reminders at 08:00 local, j-7, j-1, j-0, `overdue_critical` 3 local days after
 * `overdue`), written without the engine's code. Given a random life, it says which notifications
 * must be stored, for whom and at which instant: a second, independent statement of the rules,
 * so that a bug the engine reintroduces shows up as a difference on random lives.
 */

export type Deadline = Extract<LifeAction, { type: 'reschedule' }>['deadline'];
export type ReminderKind = 'j-7' | 'j-1' | 'j-0' | 'overdue' | 'overdue_critical';

/** Also the order of reminders due at the same instant. */
const KINDS: readonly ReminderKind[] = ['j-7', 'j-1', 'j-0', 'overdue', 'overdue_critical'];
const DAYS_BEFORE = { 'j-7': 7, 'j-1': 1, 'j-0': 0 } as const;
const REMINDER_HOUR = 8;
const CRITICAL_DAYS = 3;
const HOUR = 3600 * 1000;

/** Two deadlines are the same when they are both dates and equal, or both instants and equal. */
export function deadlineKey(deadline: Deadline): string {
  return deadline.dueDate !== undefined
    ? `date ${deadline.dueDate}`
    : `at ${DateTime.fromISO(deadline.dueAt).toMillis()}`;
}

/**
 * France's public holidays of the years the lives span, stated here and not taken from the
 * holiday library the service uses: fixed days, and Easter Monday, Ascension and Whit Monday
 * from each year's Easter Sunday.
 */
const EASTER_SUNDAYS = ['2025-04-20', '2026-04-05', '2027-03-28', '2028-04-16', '2029-04-01', '2030-04-21'];
const FIXED_HOLIDAYS = ['01-01', '05-01', '05-08', '07-14', '08-15', '11-01', '11-11', '12-25'];
const FRENCH_HOLIDAYS = new Set([
  ...EASTER_SUNDAYS.flatMap((sunday) => {
    const easter = DateTime.fromISO(sunday);
    return [1, 39, 50].map((days) => easter.plus({ days }).toISODate()!);
  }),
  ...EASTER_SUNDAYS.flatMap((sunday) => FIXED_HOLIDAYS.map((day) => `${sunday.slice(0, 4)}-${day}`)),
]);

/** A day on which no reminder comes: Saturday, Sunday, a French public holiday. */
const isClosed = (day: DateTime): boolean => day.weekday >= 6 || FRENCH_HOLIDAYS.has(day.toISODate()!);

/**
 * Each reminder's instant for a deadline seen from a zone; a j-N not before `overdue` does not
 * exist. A j-N on a closed day comes on the business day before it, at the same time; of several
 * on the same day, only the one nearest the deadline comes.
 */
export function reminderInstants(deadline: Deadline, zone: string): Map<ReminderKind, number> {
  return reminderPlan(deadline, zone).instants;
}

/**
 * `reminderInstants`, and for each j-N that took another's day (a Sunday deadline's j-0 takes
 * j-1's Friday) the kinds it stands for: they stay armed with it, and end when it is sent.
 */
export function reminderPlan(
  deadline: Deadline,
  zone: string,
): { instants: Map<ReminderKind, number>; absorbs: Map<ReminderKind, ReminderKind[]> } {
  const absorbs = new Map<ReminderKind, ReminderKind[]>();
  const overdue =
    deadline.dueDate !== undefined
      ? DateTime.fromISO(deadline.dueDate, { zone }).plus({ days: 1 }).toMillis()
      : DateTime.fromISO(deadline.dueAt).toMillis();
  // A dueAt belongs to the local day of its last millisecond: one at local midnight, to the day before.
  const dueDay = deadline.dueDate ?? DateTime.fromMillis(overdue - 1, { zone }).toISODate()!;
  const instants = new Map<ReminderKind, number>();
  const taken = new Map<number, ReminderKind>();
  for (const kind of ['j-7', 'j-1', 'j-0'] as const) {
    let day = DateTime.fromISO(dueDay, { zone }).minus({ days: DAYS_BEFORE[kind] });
    while (isClosed(day)) day = day.minus({ days: 1 });
    const at = day.set({ hour: REMINDER_HOUR }).toMillis();
    if (at >= overdue) continue;
    // Later kinds are nearer the deadline: they take the day from an earlier one.
    const earlier = taken.get(at);
    if (earlier !== undefined) {
      instants.delete(earlier);
      absorbs.set(kind, [...(absorbs.get(earlier) ?? []), earlier]);
      absorbs.delete(earlier);
    }
    taken.set(at, kind);
    instants.set(kind, at);
  }
  instants.set('overdue', overdue);
  instants.set(
    'overdue_critical',
    DateTime.fromMillis(overdue, { zone }).plus({ days: CRITICAL_DAYS }).toMillis(),
  );
  return { instants, absorbs };
}

interface Dossier {
  title: string;
  ownerId: string;
  deadline: Deadline;
  status: 'open' | 'done' | 'cancelled';
  urgentSince: number | null;
  armed: Set<ReminderKind>;
}

/** Every notification the life must store, in the order they are stored. */
export function expectedDeliveries(life: Life): Delivery[] {
  const zones: Record<string, string> = { ...life.owners };
  const deliveries: Delivery[] = [];
  const sentReminders = new Set<string>(); // `${deadlineKey} ${kind}`, ever
  const noticedEvents = new Set<string>(); // eventIds that stored a notice
  const urgentAlerts = new Set<string>(); // `${urgentSince} ${ownerId}`: one alert per owner and urgent period
  const held: LifeAction[] = []; // calls that came before the create
  let heldSince = 0; // processing instant of the first held call
  let dossier: Dossier | undefined;
  let now = life.start;

  const processedAt = (t: number): number => life.outages.find((o) => o.from <= t && t < o.to)?.to ?? t;
  const deliver = (userId: string, type: Delivery['type'], kind: string): void => {
    deliveries.push({ userId, type, kind, at: now });
  };

  function apply(action: LifeAction): void {
    if (action.type === 'ownerZone') {
      zones[action.ownerId] = action.timeZone;
    } else if (dossier !== undefined) {
      change(dossier, action);
    } else if (action.type === 'upsert') {
      return create(action);
    } else {
      if (held.length === 0) heldSince = now;
      held.push(action);
    }
    if (dossier !== undefined) afterChange(dossier);
  }

  function create(action: Extract<LifeAction, { type: 'upsert' }>): void {
    if (action.ownerTimeZone !== undefined) zones[action.ownerId] = action.ownerTimeZone;
    const { title, ownerId, deadline } = action;
    const d: Dossier = { title, ownerId, deadline, status: 'open', urgentSince: null, armed: new Set() };
    dossier = d;
    armForNewDeadline(d);
    notice(d, action.eventId, 'created');
    if (action.urgent === true) d.urgentSince = now;
    afterChange(d);
    for (const call of held.splice(0)) apply(call);
  }

  function change(d: Dossier, action: Exclude<LifeAction, { type: 'ownerZone' }>): void {
    if ('ownerTimeZone' in action && action.ownerTimeZone !== undefined) {
      zones[action.ownerId] = action.ownerTimeZone;
    }
    switch (action.type) {
      case 'upsert': {
        const ownerChanged = action.ownerId !== d.ownerId;
        const deadlineChanged = deadlineKey(action.deadline) !== deadlineKey(d.deadline);
        const titleChanged = action.title !== d.title;
        Object.assign(d, { ownerId: action.ownerId, title: action.title, deadline: action.deadline });
        if (deadlineChanged) armForNewDeadline(d);
        if (ownerChanged) notice(d, action.eventId, 'assigned');
        else if (deadlineChanged) notice(d, action.eventId, 'rescheduled');
        else if (titleChanged) notice(d, action.eventId, 'updated');
        if (action.urgent !== undefined) setUrgent(d, action.urgent);
        return;
      }
      case 'reschedule':
        if (deadlineKey(action.deadline) === deadlineKey(d.deadline)) return;
        d.deadline = action.deadline;
        armForNewDeadline(d);
        return notice(d, action.eventId, 'rescheduled');
      case 'assign':
        if (action.ownerId === d.ownerId) return;
        d.ownerId = action.ownerId;
        return notice(d, action.eventId, 'assigned');
      case 'markUrgent':
      case 'unmarkUrgent':
        return setUrgent(d, action.type === 'markUrgent');
      case 'complete':
        if (d.status === 'done') return;
        d.status = 'done';
        d.armed.clear();
        return notice(d, action.eventId, 'completed');
      case 'cancel':
        if (d.status === 'cancelled') return;
        d.status = 'cancelled';
        d.armed.clear();
        return;
      case 'reopen':
        if (d.status === 'open') return;
        d.status = 'open';
        armForNewDeadline(d);
        return notice(d, action.eventId, 'reopened');
    }
  }

  function notice(d: Dossier, eventId: string, kind: string): void {
    if (noticedEvents.has(eventId)) return;
    noticedEvents.add(eventId);
    deliver(d.ownerId, 'dossier_update', kind);
  }

  function setUrgent(d: Dossier, urgent: boolean): void {
    if (!urgent) d.urgentSince = null;
    else if (d.urgentSince === null) d.urgentSince = now;
  }

  const memo = new Map<string, ReturnType<typeof reminderPlan>>();
  const planOf = (d: Dossier) => {
    const key = `${deadlineKey(d.deadline)} ${zones[d.ownerId]}`;
    const plan = memo.get(key) ?? reminderPlan(d.deadline, zones[d.ownerId]!);
    return memo.set(key, plan).get(key)!;
  };
  const instantsOf = (d: Dossier) => planOf(d).instants;

  /** The deadline is set (create, move, reopen): j-N still ahead, overdue and critical always, none sent before. */
  function armForNewDeadline(d: Dossier): void {
    d.armed.clear();
    if (d.status !== 'open') return;
    const unsent = (kind: ReminderKind) => !sentReminders.has(`${deadlineKey(d.deadline)} ${kind}`);
    for (const [kind, at] of instantsOf(d)) {
      const ahead = at > now || kind === 'overdue' || kind === 'overdue_critical';
      if (!ahead || !unsent(kind)) continue;
      d.armed.add(kind);
      for (const absorbed of planOf(d).absorbs.get(kind) ?? []) if (unsent(absorbed)) d.armed.add(absorbed);
    }
  }

  /**
   * After any change: armed kinds are kept, seen from the current owner's zone. A j-N that falls at
   * or after the overdue instant in that zone is not sent while so, but stays armed: the zone
   * the owner ends up with decides, whatever zones came between. Then the urgent alert.
   */
  function afterChange(d: Dossier): void {
    const alertKey = `${d.urgentSince} ${d.ownerId}`;
    if (d.status === 'open' && d.urgentSince !== null && !urgentAlerts.has(alertKey)) {
      urgentAlerts.add(alertKey);
      deliver(d.ownerId, 'new_alert', 'urgent');
    }
  }

  function sendDueReminders(d: Dossier): void {
    const instants = instantsOf(d);
    const due = KINDS.filter((kind) => d.armed.has(kind) && instants.has(kind) && instants.get(kind)! <= now);
    due.sort((a, b) => instants.get(a)! - instants.get(b)! || KINDS.indexOf(a) - KINDS.indexOf(b));
    for (const kind of due) {
      d.armed.delete(kind);
      for (const absorbed of planOf(d).absorbs.get(kind) ?? []) d.armed.delete(absorbed);
      sentReminders.add(`${deadlineKey(d.deadline)} ${kind}`);
      deliver(d.ownerId, kind.startsWith('j-') ? 'deadline_reminder' : 'new_alert', kind);
    }
  }

  let nextStep = 0;
  for (;;) {
    const step = life.steps[nextStep];
    const d = dossier as Dossier | undefined;
    const instants = d && instantsOf(d);
    const reminderTimes = d === undefined ? [] : [...d.armed].flatMap((kind) => instants!.get(kind) ?? []);
    now = Math.min(step === undefined ? Infinity : processedAt(step.at), ...reminderTimes.map(processedAt));
    if (!(now <= life.end)) break;
    // (1) every call made by now, in order; (2) then every reminder due under the resulting state.
    // A profile change goes through the user route, not the dossier's queue: its order against a
    // dossier call of the same round is not defined, so the rule is that it takes effect first.
    const round: LifeAction[] = [];
    while (nextStep < life.steps.length && processedAt(life.steps[nextStep]!.at) <= now) {
      round.push(life.steps[nextStep++]!.action);
    }
    // Calls about a dossier not created yet wait an hour (CREATE_WAIT) for its create, then are dropped;
    // a create processed in the round where that hour ends still finds them (calls come first).
    const holdEnds = processedAt(heldSince + HOUR);
    if (held.length > 0 && holdEnds < now) held.length = 0;
    // A dossier reads its owner's zone when it processes the change: only the round's last zone
    // of each owner is seen.
    const zoneChanges = round.filter((action) => action.type === 'ownerZone');
    for (const change of zoneChanges) zones[change.ownerId] = change.timeZone;
    if (zoneChanges.length > 0 && dossier !== undefined) afterChange(dossier);
    for (const action of round.filter((a) => a.type !== 'ownerZone')) apply(action);
    if (dossier === undefined && held.length > 0 && processedAt(heldSince + HOUR) <= now) held.length = 0;
    if (dossier !== undefined) sendDueReminders(dossier);
  }
  return deliveries;
}
