import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { temporalCliPath } from '../../scripts/tool-paths.js';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import {
  DossierIdAttribute,
  DossierStatusAttribute,
  DueDateAttribute,
  NextReminderAtAttribute,
  OwnerIdAttribute,
} from '../../workflows/search-attributes.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * What ops see of a dossier in the Temporal Web UI and CLI, on the real dev server (started by
 * the same launcher as `npm start`, so with the search attributes registered) with the real
 * worker and PostgreSQL: search attributes, summary and details, read back through the client
 * as the UI reads them, following a reschedule and a completion; the event history names each
 * timer and activity after its reminder; the CLI finds the dossier by `DossierId`.
 */

const PARIS = 'Europe/Paris';
const run = promisify(execFile);

let env: TestWorkflowEnvironment;
let engine: ReminderEngine;

before(async () => {
  env = await createDevServerEnv();
  engine = await startReminderEngine(env);
});
after(async () => {
  await engine?.close();
  await env?.teardown();
});

const describeDossier = (id: string): Promise<WorkflowExecutionDescription> =>
  engine.client.workflow.getHandle(dossierWorkflowId(id)).describe();

/** 08:00 Paris on a date, as an instant. */
const eightOClock = (date: string): number => DateTime.fromISO(`${date}T08:00`, { zone: PARIS }).toMillis();

/** Waits until the workflow's search attributes satisfy a check, and returns its description. */
async function attributesWhen(
  id: string,
  label: string,
  check: (description: WorkflowExecutionDescription) => boolean,
): Promise<WorkflowExecutionDescription> {
  let last: WorkflowExecutionDescription | undefined;
  return waitFor(`${id}: ${label}`, async () => {
    last = await describeDossier(id);
    return check(last) && last;
  }).catch((error: Error) => {
    throw new Error(`${error.message}; have ${JSON.stringify(last?.typedSearchAttributes)}`);
  });
}

/**
 * The summaries of the timers started, activities scheduled and local activities recorded
 * (markers) in the event history, in order.
 */
async function historySummaries(id: string): Promise<string[]> {
  const history = await engine.client.workflow.getHandle(dossierWorkflowId(id)).fetchHistory();
  const { EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EVENT_TYPE_TIMER_STARTED, EVENT_TYPE_MARKER_RECORDED } =
    proto.temporal.api.enums.v1.EventType;
  const named = new Set([
    EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EVENT_TYPE_TIMER_STARTED,
    EVENT_TYPE_MARKER_RECORDED,
  ]);
  return (history.events ?? []).flatMap((event) => {
    const summary = event.userMetadata?.summary;
    return summary && named.has(event.eventType!)
      ? [defaultPayloadConverter.fromPayload<string>(summary)]
      : [];
  });
}

async function cliList(query: string): Promise<Array<{ execution: { workflowId: string } }>> {
  const { stdout } = await run(temporalCliPath, [
    'workflow',
    'list',
    '--query',
    query,
    '--address',
    env.address,
    '--namespace',
    env.namespace ?? 'default',
    '-o',
    'json',
  ]);
  const text = stdout.trim();
  if (!text) return [];
  // An array, or one JSON object per line, depending on the CLI version.
  return text.startsWith('[') ? JSON.parse(text) : text.split('\n').map((line) => JSON.parse(line));
}

describe('the Temporal UI tells a dossier story (dev server, real worker and PostgreSQL)', () => {
  it('sets search attributes, summary and details, and keeps them current through reschedule and completion', async () => {
    const id = `D-sa-${randomBytes(3).toString('hex')}`;
    const today = DateTime.fromMillis(Date.now(), { zone: PARIS }).startOf('day');
    const due = today.plus({ days: 20 }).toISODate()!;
    const later = today.plus({ days: 40 }).toISODate()!;
    await engine.dossiers.create({ id, title: 'Bilan 2026 SARL Dupont', ownerId: 'lea', dueDate: due });

    const created = await attributesWhen(
      id,
      'open with its first reminder',
      (d) => d.typedSearchAttributes.get(DossierStatusAttribute) === 'open',
    );
    const sa = created.typedSearchAttributes;
    assert.equal(sa.get(DossierIdAttribute), id);
    assert.equal(sa.get(OwnerIdAttribute), 'lea');
    assert.equal(sa.get(DueDateAttribute)?.toISOString(), `${due}T00:00:00.000Z`);
    // j-7 at 08:00 Paris is the next reminder.
    const j7 = eightOClock(DateTime.fromISO(due).minus({ days: 7 }).toISODate()!);
    assert.equal(sa.get(NextReminderAtAttribute)?.getTime(), j7);
    assert.equal(await created.staticSummary(), `Dossier ${id}: Bilan 2026 SARL Dupont`);
    assert.match((await created.staticDetails()) ?? '', new RegExp(`dossier \\*\\*${id}\\*\\*`));

    // The current details (the UI's "Current Details"), from the workflow's metadata query.
    const metadata = await engine.client.workflow
      .getHandle(dossierWorkflowId(id))
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails ?? '', /Next: j-7 at \d{4}-\d\d-\d\d 08:00 Europe\/Paris/);

    // The CLI finds it by DossierId (visibility is eventually consistent).
    const found = await waitFor('the CLI to list the dossier', async () => {
      const rows = await cliList(`DossierId="${id}"`);
      return rows.length > 0 && rows;
    });
    assert.deepEqual(
      found.map((row) => row.execution.workflowId),
      [dossierWorkflowId(id)],
    );

    // Reschedule: DueDate and NextReminderAt follow.
    await engine.dossiers.reschedule(id, { dueDate: later });
    const moved = await attributesWhen(
      id,
      'the new due date',
      (d) => d.typedSearchAttributes.get(DueDateAttribute)?.toISOString() === `${later}T00:00:00.000Z`,
    );
    const laterJ7 = eightOClock(DateTime.fromISO(later).minus({ days: 7 }).toISODate()!);
    assert.equal(moved.typedSearchAttributes.get(NextReminderAtAttribute)?.getTime(), laterJ7);
    assert.equal(moved.typedSearchAttributes.get(DossierStatusAttribute), 'open');
    const byDueDate = await waitFor('the CLI to find it by its new due date', async () => {
      // Datetime attributes are compared as ranges (equality depends on the store's format).
      const dayAfter = DateTime.fromISO(later).plus({ days: 1 }).toISODate()!;
      const rows = await cliList(
        `DossierId="${id}" AND DueDate >= "${later}T00:00:00Z" AND DueDate < "${dayAfter}T00:00:00Z"`,
      );
      return rows.length > 0 && rows;
    });
    assert.equal(byDueDate.length, 1);

    // Completion: status done, nothing armed, the run ends.
    await engine.dossiers.complete(id);
    const outcome = await engine.client.workflow.getHandle(dossierWorkflowId(id)).result();
    assert.deepEqual(outcome, { dossierId: id, outcome: 'done' });
    const done = await describeDossier(id);
    assert.equal(done.status.name, 'COMPLETED');
    assert.equal(done.typedSearchAttributes.get(DossierStatusAttribute), 'done');
    assert.equal(done.typedSearchAttributes.get(NextReminderAtAttribute), undefined);
    await waitFor('the CLI to list it as done', async () => {
      const rows = await cliList(
        `DossierId="${id}" AND DossierStatus="done" AND ExecutionStatus="Completed"`,
      );
      return rows.length === 1;
    });

    // The event history reads as the dossier's story.
    const localJ7 = DateTime.fromMillis(j7, { zone: PARIS }).toFormat('yyyy-MM-dd HH:mm');
    const localLaterJ7 = DateTime.fromMillis(laterJ7, { zone: PARIS }).toFormat('yyyy-MM-dd HH:mm');
    assert.deepEqual(await historySummaries(id), [
      `load dossier ${id} from the database`,
      `save dossier ${id}`,
      `created update for dossier ${id} to lea`,
      `j-7 reminder for dossier ${id} at ${localJ7} Europe/Paris`,
      `save dossier ${id}`,
      `rescheduled update for dossier ${id} to lea`,
      `j-7 reminder for dossier ${id} at ${localLaterJ7} Europe/Paris`,
      `save dossier ${id}`,
      `completed update for dossier ${id} to lea`,
    ]);
  });

  it('names a reminder activity after its reminder when it fires', async () => {
    const id = `D-due-${randomBytes(3).toString('hex')}`;
    // A deadline two seconds ahead: `overdue` fires while the test watches.
    const dueAt = new Date(Date.now() + 2_000).toISOString();
    await engine.dossiers.create({ id, title: 'Liasse fiscale', ownerId: 'lea', dueAt });
    await waitFor('the overdue alert', async () =>
      (await engine.notificationsOf(id)).some((row) => row.kind === 'overdue'),
    );
    const description = await attributesWhen(
      id,
      'the critical alert next',
      (d) =>
        (d.typedSearchAttributes.get(NextReminderAtAttribute)?.getTime() ?? 0) >
        Date.parse(dueAt) + 86_400_000,
    );
    assert.equal(description.typedSearchAttributes.get(DueDateAttribute)?.toISOString(), dueAt);
    const summaries = await historySummaries(id);
    assert.ok(summaries.includes(`overdue alert for dossier ${id} to lea`), summaries.join('\n'));
    await engine.dossiers.cancel(id);
    await engine.client.workflow.getHandle(dossierWorkflowId(id)).result();
    const cancelled = await describeDossier(id);
    assert.equal(cancelled.typedSearchAttributes.get(DossierStatusAttribute), 'cancelled');
  });
});
