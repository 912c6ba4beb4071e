import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createDossierClient, type DossierClient } from '../../client/dossier-client.js';
import { loadConfig } from '../../config/config.js';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { DOSSIER_ENGINE_V2 } from '../../workflows/dossier-workflow.js';
import { createNotifyWorker } from '../../worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { writeHistoryFile } from './history-files.js';

export interface NotificationRow {
  id: string;
  user_id: string;
  type: string;
  kind: string;
  idempotency_key: string;
  title: string;
  body: string;
  scheduled_for: Date | null;
}

export interface ReminderEngine {
  env: TestWorkflowEnvironment;
  client: Client;
  db: TestDatabase;
  dossiers: DossierClient;
  taskQueue: string;
  notificationsOf(dossierId: string): Promise<NotificationRow[]>;
  /** Stops the worker (a deploy or crash): signals queue, timers fire unseen. */
  stopWorker(): Promise<void>;
  /** Starts a worker again on the same task queue. */
  startWorker(): Promise<void>;
  /**
   * With RECORD_HISTORIES=1, writes the dossier's workflow history for the replay test, named
   * after the workflow code's version (`<name>.dossier-engine-v2.json`): the histories of earlier
   * versions stay, and keep proving that runs started by them replay.
   */
  recordHistory(dossierId: string, name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The setting for tests whose instants are written out from the rules on days counted from today:
 * a weekday that moves with the date of the run would make them fail on some days. Business days
 * have their own tests (test/unit/business-days.test.ts, test/integration/business-days.test.ts)
 * and the model's lives run with them.
 */
export const WITHOUT_BUSINESS_DAYS = { BUSINESS_CALENDAR: 'off' } as const;

/**
 * A real worker (real activities, real PostgreSQL) on the given Temporal test environment; without
 * business days unless `env_` sets BUSINESS_CALENDAR.
 */
export async function startReminderEngine(
  env: TestWorkflowEnvironment,
  env_: NodeJS.ProcessEnv = {},
): Promise<ReminderEngine> {
  const db = await createTestDatabase();
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...WITHOUT_BUSINESS_DAYS, ...env_ });
  // A plain client: the test environment's own client unlocks time-skipping whenever it awaits
  // a result, which lets the clock run ahead of what a test asked for.
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const newWorker = (): Promise<Worker> =>
    createNotifyWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      dependencies: { orm: db.orm, temporal: { client, taskQueue }, config },
    });
  let worker = await newWorker();
  let running: Promise<void> | undefined = worker.run();
  return {
    env,
    client,
    db,
    taskQueue,
    dossiers: createDossierClient(client, { taskQueue }),
    notificationsOf: (dossierId) =>
      db.query<NotificationRow>(
        `select id::text, user_id, type, kind, idempotency_key, title, body, scheduled_for
           from notifications where dossier_id = $1 order by notifications.id`,
        [dossierId],
      ),
    async recordHistory(dossierId, name) {
      if (process.env.RECORD_HISTORIES !== '1') return;
      const history = await client.workflow.getHandle(dossierWorkflowId(dossierId)).fetchHistory();
      await writeHistoryFile(
        new URL(`../histories/${name}.${DOSSIER_ENGINE_V2}.json`, import.meta.url),
        history,
      );
    },
    async stopWorker() {
      worker.shutdown();
      await running;
      running = undefined;
    },
    async startWorker() {
      worker = await newWorker();
      running = worker.run();
    },
    async close() {
      if (running) {
        worker.shutdown();
        await running;
      }
      await db.drop();
    },
  };
}
