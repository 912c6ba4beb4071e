import type { Life, LifeAction } from './life.js';
import { expectedDeliveries, type Deadline } from './reference-model.js';

/**
 * What the hand-computed examples of the reference model share
 * (test/model/reference-model-deadlines.test.ts, test/model/reference-model-calls.test.ts): one
 * dossier's life written as a table of steps, and the model's deliveries for it as lines of text.
 *
 * Hand-computed examples: Paris is UTC+1 until Sunday 28 March 2027 02:00, then UTC+2 until
 * Sunday 31 October 2027 03:00; Montréal is UTC-4 in May; Kathmandu is UTC+5:45.
 */

export const PARIS = 'Europe/Paris';
const ms = (iso: string) => Date.parse(iso);

/** The model's deliveries, in order, as `2027-05-10T08:00Z u1 dossier_update/created`. */
export function deliveries(
  owners: Record<string, string>,
  steps: Array<[string, LifeAction]>,
  end: string,
  outages: Array<[string, string]> = [],
): string[] {
  const life: Life = {
    label: 'table',
    dossierId: 'D1',
    start: ms(steps[0]![0]),
    end: ms(end),
    owners,
    steps: steps.map(([at, action]) => ({ at: ms(at), action })),
    outages: outages.map(([from, to]) => ({ from: ms(from), to: ms(to) })),
  };
  return expectedDeliveries(life).map(
    (d) => `${new Date(d.at).toISOString().replace(':00.000Z', 'Z')} ${d.userId} ${d.type}/${d.kind}`,
  );
}

export const create = (eventId: string, deadline: Deadline, more = {}) =>
  ({ type: 'upsert', eventId, title: 'Bilan', ownerId: 'u1', deadline, ...more }) as LifeAction;
export const reschedule = (eventId: string, dueDate: string): LifeAction => ({
  type: 'reschedule',
  eventId,
  deadline: { dueDate },
});
export const call = (
  type: 'markUrgent' | 'unmarkUrgent' | 'complete' | 'cancel' | 'reopen',
  eventId: string,
) => ({ type, eventId }) as LifeAction;
