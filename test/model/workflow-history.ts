// A workflow run's state (idle or not, open timers, broken), read from its Temporal history.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;
const msOf = (t: Timestamp): number => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
export const iso = (ms: number) => new Date(ms).toISOString();

export interface RunState {
  runId: string;
  /** No workflow task and no activity outstanding: the run has done all it can until a signal or timer. */
  idle: boolean;
  /** When each open timer fires (server clock). */
  timers: number[];
  /** Why the run cannot go on (a workflow task failure, a failed run): a bug to report. */
  broken?: string;
  /** The last events, for a report. */
  tail: string[];
}

export function runStateOf(runId: string, events: HistoryEvent[]): RunState {
  let openTasks = 0;
  const activities = new Set<number>();
  const timers = new Map<string, number>();
  let broken: string | undefined;
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        openTasks += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        openTasks -= 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        openTasks -= 1;
        broken = `workflow task failed: ${e.workflowTaskFailedEventAttributes?.failure?.message}`;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        activities.add(Number(e.eventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        activities.delete(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        activities.delete(Number(e.activityTaskFailedEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        activities.delete(Number(e.activityTaskTimedOutEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        activities.delete(Number(e.activityTaskCanceledEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const attributes = e.timerStartedEventAttributes;
        timers.set(attributes?.timerId ?? '', msOf(e.eventTime) + msOf(attributes?.startToFireTimeout));
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        timers.delete(e.timerFiredEventAttributes?.timerId ?? '');
        break;
      case EventType.EVENT_TYPE_TIMER_CANCELED:
        timers.delete(e.timerCanceledEventAttributes?.timerId ?? '');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        broken = `the run failed: ${e.workflowExecutionFailedEventAttributes?.failure?.message}`;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        timers.clear();
        break;
    }
  }
  const tail = events.slice(-12).map((e) => {
    const type = EventType[e.eventType ?? 0]?.replace(/^EVENT_TYPE_/, '') ?? String(e.eventType);
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    const signal = e.workflowExecutionSignaledEventAttributes?.signalName;
    const failure = e.activityTaskFailedEventAttributes?.failure?.message;
    return [iso(msOf(e.eventTime)), type, name, signal, failure].filter(Boolean).join(' ');
  });
  return {
    runId,
    tail,
    idle: openTasks === 0 && activities.size === 0,
    timers: [...timers.values()].sort((a, b) => a - b),
    ...(broken && { broken }),
  };
}

/** The state of the workflow's latest run. */
export async function runState(client: Client, workflowId: string): Promise<RunState> {
  const handle = client.workflow.getHandle(workflowId);
  const { runId } = await handle.describe();
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return runStateOf(runId, history.events ?? []);
}
