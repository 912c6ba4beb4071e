import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { dossierLives, uniqueId } from '../support/dossier-lives.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createTimeSkippingEnv } from '../support/temporal.js';

/**
 * What a dossier costs Temporal (the 08:00 herd, docs/performance.md): each persisted step is a
 * write on the server. Read from the real history of a whole life on the time-skipping server, so
 * that a change that adds steps fails here. With regular activities (local ones are off, see
 * workflows/dossier-workflow.ts): a reminder is one activity task and two workflow tasks, a create
 * three activity tasks.
 */

const EventType = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
/** The whole life's events today (create, five reminders, complete), measured; lower it when it drops. */
const MAX_EVENTS = 104;

let env: TestWorkflowEnvironment;
let engine: ReminderEngine;
const { rowsOnceSettled, advanceTo, endOf } = dossierLives(
  () => engine,
  () => env,
);

before(async () => {
  env = await createTimeSkippingEnv();
  engine = await startReminderEngine(env);
});
after(async () => {
  await engine?.close();
  await env?.teardown();
});

const activityTypes = (events: HistoryEvent[]): string[] =>
  events
    .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');

/** The events from each fired timer up to the next one started (or the end). */
function afterEachTimer(events: HistoryEvent[]): HistoryEvent[][] {
  const rounds: HistoryEvent[][] = [];
  let round: HistoryEvent[] | undefined;
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_TIMER_FIRED) rounds.push((round = []));
    round?.push(event);
    if (event.eventType === EventType.EVENT_TYPE_TIMER_STARTED) round = undefined;
  }
  return rounds;
}

describe('cost of a dossier in Temporal events (time-skipping, real worker and PostgreSQL)', () => {
  it('a reminder costs one activity task and two workflow tasks; a create three activity tasks', async () => {
    const id = uniqueId('cost');
    const start = await env.currentTimeMs();
    // Due in 10 days at 12:00 UTC: j-7, j-1, j-0, overdue and overdue_critical all fire.
    const dueAt = new Date(start + 10 * 86_400_000).toISOString().slice(0, 10) + 'T12:00:00Z';
    await engine.dossiers.create({ id, title: 'Coût', ownerId: 'alice', dueAt });
    await rowsOnceSettled(id, 1);
    await advanceTo(new Date(Date.parse(dueAt) + 4 * 86_400_000).toISOString());
    const rows = await rowsOnceSettled(id, 6);
    assert.deepEqual(
      rows.map((row) => row.kind),
      ['created', 'j-7', 'j-1', 'j-0', 'overdue', 'overdue_critical'],
    );
    await engine.dossiers.complete(id);
    await endOf(id);

    const events =
      (await engine.client.workflow.getHandle(dossierWorkflowId(id)).fetchHistory()).events ?? [];
    assert.deepEqual(activityTypes(events), [
      'loadDossier',
      'saveDossierChanges',
      'deliverNotification', // created
      ...rows.slice(1).map(() => 'deliverNotification'), // one per reminder
      'saveDossierChanges', // complete
      'deliverNotification', // completed
    ]);
    const rounds = afterEachTimer(events);
    assert.equal(rounds.length, 5, 'one fired timer per reminder');
    for (const round of rounds.slice(0, -1)) {
      const tasks = round.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
      assert.equal(
        tasks.length,
        2,
        `two workflow tasks per reminder: ${round.map((e) => e.eventType).join()}`,
      );
    }
    // The whole life, as a ceiling: a change that adds events fails here.
    assert.ok(events.length <= MAX_EVENTS, `${events.length} events, at most ${MAX_EVENTS}`);
  });
});
