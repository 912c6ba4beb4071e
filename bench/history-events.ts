import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { mapBounded } from '../domain/bounded-concurrency.js';
import type { StepEvent } from './history-steps.js';

/**
 * A workflow's Temporal history as the `StepEvent`s bench/history-steps.ts reads: fetched through
 * the client API (`handle.fetchHistory()`), the runs a continue-as-new left behind included, each
 * signal's and activity's first input decoded to find the update it carries.
 */

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Numberish = number | { toNumber(): number } | null | undefined;

const toNumber = (value: Numberish): number =>
  typeof value === 'number' ? value : value ? value.toNumber() : NaN;

/** Epoch ms of a protobuf Timestamp, keeping the nanoseconds (the gaps are a few ms). */
const epochMs = (time: { seconds?: Numberish; nanos?: number | null } | null | undefined): number =>
  toNumber(time?.seconds) * 1000 + (time?.nanos ?? 0) / 1e6;

const firstInput = (payloads: temporal.api.common.v1.IPayloads | null | undefined): unknown => {
  const payload = payloads?.payloads?.[0];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    // not JSON: carries no update of the bench's
    return undefined;
  }
};

/**
 * The events of `history` the breakdown reads; `keyOf` names the update a signal's or an
 * activity's first argument carries (undefined: none).
 */
export function stepEvents(
  events: HistoryEvent[],
  keyOf: (input: unknown) => string | undefined,
): StepEvent[] {
  const steps: StepEvent[] = [];
  for (const event of events) {
    const base = { id: toNumber(event.eventId), time: epochMs(event.eventTime) };
    const key = (payloads: temporal.api.common.v1.IPayloads | null | undefined) => {
      const found = keyOf(firstInput(payloads));
      return found === undefined ? {} : { key: found };
    };
    if (event.workflowExecutionSignaledEventAttributes) {
      steps.push({ ...base, kind: 'signaled', ...key(event.workflowExecutionSignaledEventAttributes.input) });
    } else if (event.workflowTaskScheduledEventAttributes) {
      steps.push({ ...base, kind: 'taskScheduled' });
    } else if (event.workflowTaskStartedEventAttributes) {
      const scheduledId = toNumber(event.workflowTaskStartedEventAttributes.scheduledEventId);
      steps.push({ ...base, kind: 'taskStarted', scheduledId });
    } else if (event.workflowTaskCompletedEventAttributes) {
      const scheduledId = toNumber(event.workflowTaskCompletedEventAttributes.scheduledEventId);
      steps.push({ ...base, kind: 'taskCompleted', scheduledId });
    } else if (event.activityTaskScheduledEventAttributes) {
      const attributes = event.activityTaskScheduledEventAttributes;
      steps.push({
        ...base,
        kind: 'activityScheduled',
        taskCompletedId: toNumber(attributes.workflowTaskCompletedEventId),
        activityType: attributes.activityType?.name ?? undefined,
        ...key(attributes.input),
      });
    } else if (event.activityTaskStartedEventAttributes) {
      const scheduledId = toNumber(event.activityTaskStartedEventAttributes.scheduledEventId);
      steps.push({ ...base, kind: 'activityStarted', scheduledId });
    } else if (event.activityTaskCompletedEventAttributes) {
      const scheduledId = toNumber(event.activityTaskCompletedEventAttributes.scheduledEventId);
      steps.push({ ...base, kind: 'activityCompleted', scheduledId });
    }
  }
  return steps;
}

/**
 * The step events of each workflow of `workflowIds` (by id), `concurrency` fetched at a time.
 * Each workflow's latest run, then the runs it continued from, back to one started before
 * `since` (epoch ms; at most `maxRuns` runs): a long run continues as new, and the updates of
 * a rate may sit in the run before. Event ids restart with each run: they are kept apart by a
 * run offset so that ids stay unique within the list.
 */
export async function fetchStepEvents(
  client: Client,
  workflowIds: string[],
  keyOf: (input: unknown) => string | undefined,
  { since, concurrency = 4, maxRuns = 5 }: { since: number; concurrency?: number; maxRuns?: number },
): Promise<Map<string, StepEvent[]>> {
  const byWorkflow = new Map<string, StepEvent[]>();
  await mapBounded(workflowIds, concurrency, async (workflowId) => {
    const runs: StepEvent[][] = [];
    let runId: string | undefined;
    for (let index = 0; index < maxRuns; index += 1) {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      const events = history.events ?? [];
      runs.unshift(stepEvents(events, keyOf));
      const started = events[0];
      const previous = started?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (!previous || epochMs(started.eventTime) < since) break;
      runId = previous;
    }
    // Run k's ids are offset by k × 10^9: no history comes near that many events.
    byWorkflow.set(
      workflowId,
      runs.flatMap((events, run) =>
        events.map((event) => ({
          ...event,
          id: event.id + run * 1e9,
          ...(event.scheduledId !== undefined && { scheduledId: event.scheduledId + run * 1e9 }),
          ...(event.taskCompletedId !== undefined && { taskCompletedId: event.taskCompletedId + run * 1e9 }),
        })),
      ),
    );
  });
  return byWorkflow;
}
