import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import pg from 'pg';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { adminDatabaseUrl } from '../support/database.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * A database outage while a reminder falls due, on the dev server in real time: the delivery is
 * a regular activity that retries durably, so the outage holds no workflow task nor worker slot and
 * adds no event per attempt (local activities, switched off, once held the task for the whole
 * outage and grew the history at each task heartbeat: docs/performance.md), and the reminder is
 * stored once the database is back.
 */

const EventType = proto.temporal.api.enums.v1.EventType;
const OUTAGE_MS = 35_000;

let env: TestWorkflowEnvironment;
let engine: ReminderEngine;
let admin: pg.Client;
let databaseName: string;

before(async () => {
  env = await createDevServerEnv();
  engine = await startReminderEngine(env);
  databaseName = new URL(engine.db.url).pathname.slice(1);
  admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
});
after(async () => {
  await admin?.query(`alter database ${databaseName} allow_connections true`).catch(() => undefined);
  await admin?.end();
  await engine?.close();
  await env?.teardown();
});

describe('a database outage over a due reminder (dev server, real worker and PostgreSQL)', () => {
  it('retries the delivery as a regular activity, keeps the history small, and stores the reminder once after', async () => {
    const id = 'outage-local';
    const dueAt = Date.now() + 8_000;
    await engine.dossiers.create({
      id,
      title: 'Panne',
      ownerId: 'alice',
      dueAt: new Date(dueAt).toISOString(),
    });
    await waitFor('the created notice', async () => (await engine.notificationsOf(id)).length === 1, {
      timeoutMs: 20_000,
    });
    const handle = engine.client.workflow.getHandle(dossierWorkflowId(id));
    const eventsBefore = (await handle.fetchHistory()).events ?? [];

    await waitFor('2 s before the reminder', async () => Date.now() > dueAt - 2_000, { timeoutMs: 20_000 });
    await admin.query(`alter database ${databaseName} allow_connections false`);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [
      databaseName,
    ]);
    const downAt = Date.now();
    const scheduled = await waitFor(
      'the delivery scheduled as a regular activity',
      async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        return events.some(
          (event) =>
            event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
            event.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverNotification',
        );
      },
      { timeoutMs: OUTAGE_MS, intervalMs: 500 },
    );
    assert.ok(scheduled);
    await waitFor('the end of the outage', async () => Date.now() - downAt > OUTAGE_MS, {
      timeoutMs: OUTAGE_MS + 5_000,
    });
    const eventsDuring = (await handle.fetchHistory()).events ?? [];
    // Timer fired, a task or two with their heartbeats, the failed marker, the activity: a bound
    // that does not grow with the outage (the old code added ~3 events every 8 s).
    assert.ok(
      eventsDuring.length - eventsBefore.length <= 25,
      `${eventsDuring.length - eventsBefore.length} events during a ${OUTAGE_MS / 1000} s outage`,
    );
    // The plan query answers while the database is down: no task holds the workflow.
    const plan = await engine.dossiers.plan(id);
    assert.equal(plan.dossier.id, id);

    await admin.query(`alter database ${databaseName} allow_connections true`);
    const rows = await waitFor(
      'the overdue alert stored',
      async () => {
        const found = await engine.notificationsOf(id).catch(() => []);
        return found.some((row) => row.kind === 'overdue') && found;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    assert.deepEqual(
      rows.map((row) => row.kind),
      ['created', 'overdue'],
    );
  });
});
