import { percentile } from '../support/percentile.js';

/**
 * Where one update's time goes, step by step, from its dossier workflow's Temporal history and the
 * bench's own clocks: the schedule's intended send, the actual send, the signal recorded, each
 * workflow task and activity that acted on the update (scheduled, started, completed), the row
 * stored and the frame on the owner's socket. Pure: bench/history-events.ts turns a fetched
 * history into `StepEvent`s; test/unit/bench-history-steps.test.ts runs this on a hand-made list.
 */

/** The history events the breakdown reads; every other event type is left out. */
export interface StepEvent {
  id: number;
  /** Epoch ms, sub-millisecond (the dev server's clock: the same machine's as the bench's). */
  time: number;
  kind:
    | 'signaled'
    | 'taskScheduled'
    | 'taskStarted'
    | 'taskCompleted'
    | 'activityScheduled'
    | 'activityStarted'
    | 'activityCompleted';
  /** taskStarted, taskCompleted, activityStarted, activityCompleted: the id of their scheduled event. */
  scheduledId?: number;
  /** activityScheduled: the id of the workflow task completion that scheduled it. */
  taskCompletedId?: number;
  /** activityScheduled: the activity's type (e.g. `deliverNotification`). */
  activityType?: string;
  /** signaled, activityScheduled: the update its input carries (the bench's unique title), if any. */
  key?: string;
}

/** What the bench itself saw of one update (epoch ms). */
export interface UpdateMarks {
  /** When the open-loop schedule meant to send it. */
  due: number;
  sent: number;
  /** The REST answer received. */
  answered?: number;
  /** The row's `created_at`, as its frame carries it. */
  stored?: number;
  /** Its frame on the owner's socket. */
  frame?: number;
}

export interface Gap {
  step: string;
  ms: number;
  /**
   * On the path from the intended send to the frame: the on-path gaps of an update add up to
   * its latency. Off-path ones run beside it (the REST answer, the activity's own completion).
   */
  onPath: boolean;
}

/**
 * The gaps of update `key` (a signal whose input carries it, then the activities whose input
 * carries it, in the order they were scheduled) in one workflow's `events`, in path order;
 * undefined when no signal carries `key`. Each activity is preceded by the workflow task that
 * scheduled it. A path the history does not finish (an activity still running, an update split
 * by a continue-as-new) stops at its last known point.
 */
export function updateGaps(events: StepEvent[], key: string, marks: UpdateMarks): Gap[] | undefined {
  const signal = events.find((event) => event.kind === 'signaled' && event.key === key);
  if (!signal) return undefined;
  const byId = new Map(events.map((event) => [event.id, event]));
  const after = (kind: StepEvent['kind'], scheduledId: number) =>
    events.find((event) => event.kind === kind && event.scheduledId === scheduledId);

  const gaps: Gap[] = [];
  let last = marks.due;
  const to = (step: string, time: number) => {
    gaps.push({ step, ms: time - last, onPath: true });
    last = time;
  };
  to('sender lag (due → sent)', marks.sent);
  to('sent → signal recorded (REST, client, dev server)', signal.time);
  if (marks.answered !== undefined)
    gaps.push({ step: 'signal recorded → REST answer', ms: marks.answered - signal.time, onPath: false });

  const activities = events.filter(
    (event) => event.kind === 'activityScheduled' && event.key === key && event.id > signal.id,
  );
  let previous = 'signal';
  for (const [index, activity] of activities.entries()) {
    const task = `task ${index + 1}`;
    const completed = byId.get(activity.taskCompletedId ?? -1);
    const scheduled = completed && byId.get(completed.scheduledId ?? -1);
    const started = scheduled && after('taskStarted', scheduled.id);
    if (!completed || !scheduled || !started) return gaps;
    // A task scheduled before the previous point (one already pending when the signal came) can
    // only act on it from then: its wait counts from that point, so that the gaps add up.
    // The workflow applies a dossier's updates one at a time: before task 1, an update waits
    // behind the earlier ones of its dossier, which is not Temporal being slow to schedule.
    to(
      index === 0
        ? `signal → ${task} scheduled (incl. waiting behind the dossier's earlier updates)`
        : `${previous} → ${task} scheduled`,
      Math.max(scheduled.time, last),
    );
    to(`${task} queued (scheduled → started)`, started.time);
    to(`${task} run (started → completed)`, completed.time);
    const name = activity.activityType ?? 'activity';
    to(`${task} completed → ${name} scheduled`, activity.time);
    const activityStarted = after('activityStarted', activity.id);
    const activityCompleted = after('activityCompleted', activity.id);
    if (!activityStarted) return gaps;
    to(`${name} queued (scheduled → started)`, activityStarted.time);
    const isLast = index === activities.length - 1;
    if (isLast && marks.stored !== undefined) {
      // The last activity stores the row; its frame follows the row, not the activity's end.
      to(`${name} started → row stored`, marks.stored);
      if (activityCompleted)
        gaps.push({
          step: `row stored → ${name} completed`,
          ms: activityCompleted.time - marks.stored,
          onPath: false,
        });
      if (marks.frame !== undefined) to('row stored → frame on the socket', marks.frame);
      return gaps;
    }
    if (!activityCompleted) return gaps;
    to(`${name} run (started → completed)`, activityCompleted.time);
    previous = `${name} completed`;
  }
  return gaps;
}

export interface StepRow {
  step: string;
  onPath: boolean;
  count: number;
  p50: number;
  p99: number;
  /** Sum over the updates, ms: what the step weighs in their total latency. */
  totalMs: number;
}

/** p50, p99 and total of each step over many updates' gaps, in the order the steps first appear. */
export function stepTable(updates: Gap[][]): StepRow[] {
  const steps = new Map<string, { onPath: boolean; values: number[] }>();
  for (const gaps of updates)
    for (const gap of gaps) {
      const entry = steps.get(gap.step);
      if (entry) entry.values.push(gap.ms);
      else steps.set(gap.step, { onPath: gap.onPath, values: [gap.ms] });
    }
  return [...steps.entries()].map(([step, { onPath, values }]) => ({
    step,
    onPath,
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    totalMs: values.reduce((sum, value) => sum + value, 0),
  }));
}

/** The on-path step that weighs most (largest total), with its share of all on-path time; undefined when none. */
export function dominantStep(rows: StepRow[]): { row: StepRow; share: number } | undefined {
  const onPath = rows.filter((row) => row.onPath);
  const total = onPath.reduce((sum, row) => sum + row.totalMs, 0);
  const row = onPath.reduce<StepRow | undefined>(
    (best, candidate) => (best === undefined || candidate.totalMs > best.totalMs ? candidate : best),
    undefined,
  );
  return row && total > 0 ? { row, share: row.totalMs / total } : undefined;
}
