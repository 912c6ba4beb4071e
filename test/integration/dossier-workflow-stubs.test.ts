import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { DossierActivities } from '../../activities/index.js';
import { createDossierClient } from '../../client/dossier-client.js';
import { loadConfig } from '../../config/config.js';
import type { DeliveryRequest, SaveRequest, SaveResult } from '../../domain/dossier-engine.js';
import { withDeadline } from '../../domain/deadline.js';
import type { DossierSnapshot, PlanningContext } from '../../domain/dossier.js';
import { workflowsPath } from '../../worker/create-worker.js';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { createTimeSkippingEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * The dossier workflow alone, fast: the time-skipping server and a real worker over stub activities
 * that keep the dossiers in memory, like the timer tests of temporalio/samples-typescript. No PostgreSQL:
 * seconds, for the plan's instants and the workflow's wiring; the database-backed tests
 * (test/integration/dossier-workflow.test.ts) cover the rest.
 */

const ZONE = 'Europe/Paris';
const DAY = 86_400_000;

/** In-memory activities: the dossier rows and every delivery, in order. */
function stubActivities(context: PlanningContext) {
  const rows = new Map<string, DossierSnapshot>();
  const deliveries: Array<DeliveryRequest & { at: number }> = [];
  const keys = new Set<string>();
  const activities: Pick<
    DossierActivities,
    | 'loadDossier'
    | 'saveDossierChanges'
    | 'ownerContext'
    | 'deliverNotification'
    | 'requestOwnerProfileAnnouncement'
  > = {
    loadDossier: async (id) => {
      const dossier = rows.get(id);
      return dossier ? { dossier, context } : null;
    },
    saveDossierChanges: async ({ dossier, fields }: SaveRequest): Promise<SaveResult> => {
      const row = rows.get(dossier.id);
      const merged: DossierSnapshot = row
        ? {
            ...row,
            ...(fields.includes('title') && { title: dossier.title }),
            ...(fields.includes('ownerId') && { ownerId: dossier.ownerId }),
            ...(fields.includes('status') && { status: dossier.status }),
          }
        : dossier;
      const stored = fields.includes('deadline') ? withDeadline(merged, dossier) : merged;
      rows.set(dossier.id, stored);
      return { dossier: stored, context, ownerProfileChanged: false };
    },
    ownerContext: async () => context,
    // Stored once per key, as the unique index does.
    deliverNotification: async (request) => {
      if (!keys.has(request.idempotencyKey)) {
        keys.add(request.idempotencyKey);
        deliveries.push({ ...(request as DeliveryRequest), at: Date.now() });
      }
      return { id: String(deliveries.length) } as Awaited<
        ReturnType<DossierActivities['deliverNotification']>
      >;
    },
    requestOwnerProfileAnnouncement: async () => undefined,
  };
  return { activities, deliveries };
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let client: Client;
const taskQueue = `stubs-${randomBytes(4).toString('hex')}`;
const context: PlanningContext = { timeZone: ZONE, policy: loadConfig({}).reminderPolicy };
const stub = stubActivities(context);

before(async () => {
  env = await createTimeSkippingEnv();
  // A plain client: the environment's own one skips time whenever it awaits a result.
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowsPath,
    activities: stub.activities,
  });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

describe('dossier workflow over stub activities (time-skipping, no database)', () => {
  it('sends the created notice, then J-7, J-1, J-0 at 08:00 Paris, overdue and overdue_critical', async () => {
    const dossiers = createDossierClient(client, { taskQueue });
    const id = `stub-${randomBytes(3).toString('hex')}`;
    const start = await env.currentTimeMs();
    const dueDate = new Date(start + 10 * DAY).toISOString().slice(0, 10);
    await dossiers.create({ id, title: 'TVA', ownerId: 'alice', dueDate });
    await waitFor('the created notice', () => stub.deliveries.some((d) => d.dossier.id === id));

    await env.sleep(Date.parse(`${dueDate}T00:00:00Z`) + 5 * DAY - (await env.currentTimeMs()));
    const mine = () => stub.deliveries.filter((d) => d.dossier.id === id);
    await waitFor('the overdue_critical alert', () => mine().some((d) => d.kind === 'overdue_critical'));
    assert.deepEqual(
      mine().map((d) => d.kind),
      ['created', 'j-7', 'j-1', 'j-0', 'overdue', 'overdue_critical'],
    );
    const paris = (iso: string) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit' }).format(
        new Date(iso),
      );
    for (const reminder of mine().filter((d) => d.kind.startsWith('j-'))) {
      assert.ok(reminder.scheduledFor, `${reminder.kind} carries its planned instant`);
      assert.equal(paris(reminder.scheduledFor), '08:00', `${reminder.kind} planned at 08:00 Paris`);
    }

    await dossiers.complete(id);
    await client.workflow.getHandle(dossierWorkflowId(id)).result();
    assert.equal(mine().at(-1)?.kind, 'completed', 'completing sends its notice and ends the run');
  });
});
