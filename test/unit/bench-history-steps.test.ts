import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { stepEvents } from '../../bench/history-events.js';
import { dominantStep, stepTable, updateGaps, type StepEvent } from '../../bench/history-steps.js';

/**
 * bench:latency's step breakdown (bench/history-steps.ts) on a hand-made history: each gap is the
 * one between the right two events, the on-path gaps add up to the latency, and a history that
 * stops early gives a shorter path rather than a wrong one.
 */

/** Update `A`'s path: signal, task 1, its save, task 2, its delivery; update `B` interleaved. */
const history: StepEvent[] = [
  { id: 1, kind: 'signaled', time: 1000, key: 'A' },
  { id: 2, kind: 'taskScheduled', time: 1001 },
  { id: 3, kind: 'taskStarted', time: 1003, scheduledId: 2 },
  { id: 4, kind: 'taskCompleted', time: 1008, scheduledId: 2 },
  {
    id: 5,
    kind: 'activityScheduled',
    time: 1008,
    taskCompletedId: 4,
    activityType: 'saveDossierChanges',
    key: 'A',
  },
  { id: 6, kind: 'activityStarted', time: 1010, scheduledId: 5 },
  // B's signal arrives while A's save runs: its own task schedules nothing yet.
  { id: 7, kind: 'signaled', time: 1012, key: 'B' },
  { id: 8, kind: 'taskScheduled', time: 1012 },
  { id: 9, kind: 'taskStarted', time: 1013, scheduledId: 8 },
  { id: 10, kind: 'taskCompleted', time: 1014, scheduledId: 8 },
  { id: 11, kind: 'activityCompleted', time: 1020, scheduledId: 5 },
  { id: 12, kind: 'taskScheduled', time: 1020 },
  { id: 13, kind: 'taskStarted', time: 1022, scheduledId: 12 },
  { id: 14, kind: 'taskCompleted', time: 1025, scheduledId: 12 },
  {
    id: 15,
    kind: 'activityScheduled',
    time: 1025,
    taskCompletedId: 14,
    activityType: 'deliverNotification',
    key: 'A',
  },
  {
    id: 16,
    kind: 'activityScheduled',
    time: 1025,
    taskCompletedId: 14,
    activityType: 'saveDossierChanges',
    key: 'B',
  },
  { id: 17, kind: 'activityStarted', time: 1027, scheduledId: 15 },
  { id: 18, kind: 'activityStarted', time: 1027.5, scheduledId: 16 },
  { id: 19, kind: 'activityCompleted', time: 1035, scheduledId: 15 },
];

const marksA = { due: 990, sent: 995, answered: 1004, stored: 1030, frame: 1040 };

describe('updateGaps', () => {
  it('gives every gap of an update in path order, the on-path ones adding up to its latency', () => {
    const gaps = updateGaps(history, 'A', marksA)!;
    assert.deepEqual(
      gaps.map(({ step, ms, onPath }) => [step, ms, onPath]),
      [
        ['sender lag (due → sent)', 5, true],
        ['sent → signal recorded (REST, client, dev server)', 5, true],
        ['signal recorded → REST answer', 4, false],
        ["signal → task 1 scheduled (incl. waiting behind the dossier's earlier updates)", 1, true],
        ['task 1 queued (scheduled → started)', 2, true],
        ['task 1 run (started → completed)', 5, true],
        ['task 1 completed → saveDossierChanges scheduled', 0, true],
        ['saveDossierChanges queued (scheduled → started)', 2, true],
        ['saveDossierChanges run (started → completed)', 10, true],
        ['saveDossierChanges completed → task 2 scheduled', 0, true],
        ['task 2 queued (scheduled → started)', 2, true],
        ['task 2 run (started → completed)', 3, true],
        ['task 2 completed → deliverNotification scheduled', 0, true],
        ['deliverNotification queued (scheduled → started)', 2, true],
        ['deliverNotification started → row stored', 3, true],
        ['row stored → deliverNotification completed', 5, false],
        ['row stored → frame on the socket', 10, true],
      ],
    );
    const onPath = gaps.filter((gap) => gap.onPath).reduce((sum, gap) => sum + gap.ms, 0);
    assert.equal(onPath, marksA.frame - marksA.due);
  });

  it('follows the task that scheduled the activity, not the first one after the signal', () => {
    // B's first task (8–10) scheduled nothing: its save came from task 12–14, after A's save.
    const gaps = updateGaps(history, 'B', { due: 1010, sent: 1011 })!;
    const ms = Object.fromEntries(gaps.map((gap) => [gap.step, gap.ms]));
    assert.equal(ms["signal → task 1 scheduled (incl. waiting behind the dossier's earlier updates)"], 8);
    assert.equal(ms['task 1 queued (scheduled → started)'], 2);
    assert.equal(ms['saveDossierChanges queued (scheduled → started)'], 2.5);
    // Its save has not completed in this history: the path stops there.
    assert.equal(gaps.at(-1)!.step, 'saveDossierChanges queued (scheduled → started)');
  });

  it('counts the wait of a task scheduled before the signal from the signal', () => {
    const events: StepEvent[] = [
      { id: 1, kind: 'taskScheduled', time: 999 },
      { id: 2, kind: 'signaled', time: 1000, key: 'C' },
      { id: 3, kind: 'taskStarted', time: 1004, scheduledId: 1 },
      { id: 4, kind: 'taskCompleted', time: 1006, scheduledId: 1 },
      {
        id: 5,
        kind: 'activityScheduled',
        time: 1006,
        taskCompletedId: 4,
        activityType: 'deliverNotification',
        key: 'C',
      },
    ];
    const gaps = updateGaps(events, 'C', { due: 1000, sent: 1000 })!;
    const ms = Object.fromEntries(gaps.map((gap) => [gap.step, gap.ms]));
    assert.equal(ms["signal → task 1 scheduled (incl. waiting behind the dossier's earlier updates)"], 0);
    assert.equal(ms['task 1 queued (scheduled → started)'], 4);
  });

  it('finds nothing for an update whose signal is not in the history', () => {
    assert.equal(updateGaps(history, 'Z', marksA), undefined);
  });
});

describe('stepTable and dominantStep', () => {
  it('gives p50, p99 and the total of each step over updates, and the heaviest on-path step', () => {
    const rows = stepTable([
      [
        { step: 'a', ms: 1, onPath: true },
        { step: 'b', ms: 10, onPath: true },
        { step: 'side', ms: 100, onPath: false },
      ],
      [
        { step: 'a', ms: 3, onPath: true },
        { step: 'b', ms: 30, onPath: true },
      ],
    ]);
    assert.deepEqual(
      rows.map((row) => [row.step, row.count, row.p50, row.p99, row.totalMs]),
      [
        ['a', 2, 1, 3, 4],
        ['b', 2, 10, 30, 40],
        ['side', 1, 100, 100, 100],
      ],
    );
    const top = dominantStep(rows)!;
    assert.equal(top.row.step, 'b');
    assert.equal(top.share, 40 / 44);
  });
});

describe('stepEvents', () => {
  it("reads a fetched history's events: ids, times with their nanoseconds, links and the update carried", () => {
    const long = (value: number) => ({ toNumber: () => value });
    const input = (value: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(value)] });
    const events = [
      {
        eventId: long(1),
        eventTime: { seconds: long(1000), nanos: 500_000 },
        workflowExecutionStartedEventAttributes: {},
      },
      {
        eventId: long(2),
        eventTime: { seconds: long(1001), nanos: 0 },
        workflowExecutionSignaledEventAttributes: {
          signalName: 'upsertDossier',
          input: input({ dossier: { title: 'T1' } }),
        },
      },
      {
        eventId: long(3),
        eventTime: { seconds: long(1001), nanos: 250_000 },
        activityTaskScheduledEventAttributes: {
          activityType: { name: 'deliverNotification' },
          workflowTaskCompletedEventId: long(2),
          input: input({ dossier: { title: 'T1' } }),
        },
      },
      {
        eventId: long(4),
        eventTime: { seconds: long(1002), nanos: 0 },
        activityTaskStartedEventAttributes: { scheduledEventId: long(3) },
      },
    ] as unknown as temporal.api.history.v1.IHistoryEvent[];
    const titleOf = (value: unknown) => (value as { dossier?: { title?: string } }).dossier?.title;
    assert.deepEqual(stepEvents(events, titleOf), [
      { id: 2, time: 1_001_000, kind: 'signaled', key: 'T1' },
      {
        id: 3,
        time: 1_001_000.25,
        kind: 'activityScheduled',
        taskCompletedId: 2,
        activityType: 'deliverNotification',
        key: 'T1',
      },
      { id: 4, time: 1_002_000, kind: 'activityStarted', scheduledId: 3 },
    ]);
  });
});
