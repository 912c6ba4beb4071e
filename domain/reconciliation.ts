import { mapBounded } from './bounded-concurrency.js';
import { DOSSIER_ID_PATTERN } from './limits.js';

/**
 * The rules of the hourly reconciliation (every open dossier has its workflow running), apart
 * from its I/O: the visibility query of a page, the progress it heartbeats and resumes from, and
 * the in-order completion of work run with bounded concurrency. No I/O.
 */

/** What an attempt has done: every open dossier id up to `after` (in database order) is done. */
export interface ReconcileProgress {
  /** The last dossier id done; '' before the first. */
  after: string;
  checked: number;
  started: number;
  /** Ids the API would refuse (rows written outside it): logged, never started. */
  skipped: number;
}

export const NO_PROGRESS: ReconcileProgress = { after: '', checked: 0, started: 0, skipped: 0 };

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Where an attempt starts: the progress its previous attempt heartbeated (a retry), or the
 * beginning when there is none or it is not a progress of this activity.
 */
export function resumeFrom(heartbeatDetails: unknown): ReconcileProgress {
  if (typeof heartbeatDetails !== 'object' || heartbeatDetails === null) return NO_PROGRESS;
  const { after, checked, started, skipped } = heartbeatDetails as Record<string, unknown>;
  if (typeof after !== 'string' || !isCount(checked) || !isCount(started) || !isCount(skipped)) {
    return NO_PROGRESS;
  }
  return { after, checked, started, skipped };
}

/**
 * An id the visibility query may name: one the API accepts (letters, digits, `. _ : -`), so no
 * quote or backslash to escape. Other ids are rows the API would refuse; they are skipped.
 */
export const isReconcilableId = (dossierId: string): boolean => DOSSIER_ID_PATTERN.test(dossierId);

/**
 * The visibility query for which of these workflows run: one query per page of ids, never a
 * listing of every running workflow. Ids must pass `isReconcilableId` (throws otherwise).
 */
export function runningWorkflowsQuery(workflowType: string, workflowIds: readonly string[]): string {
  for (const id of [workflowType, ...workflowIds]) {
    if (/['"\\]/.test(id))
      throw new RangeError(`cannot be quoted in a visibility query: ${JSON.stringify(id)}`);
  }
  const list = workflowIds.map((id) => `'${id}'`).join(', ');
  return `WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running' AND WorkflowId IN (${list})`;
}

/**
 * Runs `work` on each item, at most `concurrency` at a time (`mapBounded`), and reports completion
 * in order: `onDone(count, results)` each time the items done from the first grow to `count`
 * (`results`: those newly counted). A resumable attempt heartbeats that prefix, never an item done
 * out of order. On a failure no new item starts; the ones running finish, then the first error is
 * thrown (the prefix reported stays true).
 */
export async function forEachInOrder<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
  onDone: (count: number, results: R[]) => void,
): Promise<void> {
  const results: R[] = [];
  const done: boolean[] = [];
  let reported = 0;
  await mapBounded(items, concurrency, async (item, index) => {
    results[index] = await work(item);
    done[index] = true;
    let count = reported;
    while (done[count]) count += 1;
    if (count > reported) {
      const fresh = results.slice(reported, count);
      reported = count;
      onDone(count, fresh);
    }
  });
}
