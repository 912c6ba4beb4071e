import { deadlineOf, type Deadline } from './deadline.js';
import type { DossierSnapshot } from './dossier.js';
import { deadlineKey } from './reminder-plan.js';

/**
 * Whether a change plans the reminders from scratch (what has passed is skipped): the deadline
 * moved, or the dossier reopened. The save stamps the row when it does (the reminder audit reads it).
 */
export function plansFromScratch(
  before: Partial<Deadline> & { status: DossierSnapshot['status'] },
  after: Partial<Deadline> & { status: DossierSnapshot['status'] },
): boolean {
  const moved = deadlineKey(deadlineOf(before)) !== deadlineKey(deadlineOf(after));
  return moved || (before.status !== 'open' && after.status === 'open');
}

/**
 * Whether a write moves the dossier's reminders: its deadline or its status, or a new owner in
 * another zone (the zone places them; an owner in the same zone keeps every instant). The audit
 * dates what is owed from the last such write (`replanned_at`); a title, an urgent flag or a new
 * owner in the same zone moves none.
 */
export function mayReplan(
  before: Partial<Deadline> & Pick<DossierSnapshot, 'status'>,
  after: Partial<Deadline> & Pick<DossierSnapshot, 'status'>,
  zones: { before: string; after: string },
): boolean {
  return (
    before.status !== after.status ||
    zones.before !== zones.after ||
    deadlineKey(deadlineOf(before)) !== deadlineKey(deadlineOf(after))
  );
}
