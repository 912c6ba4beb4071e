import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startServerHarness, type ServerHarness } from './notify-server.js';
import { startReminderEngine, type ReminderEngine } from './reminder-engine.js';
import { createDevServerEnv } from './temporal.js';

/**
 * What the fuzzers attack: a real delivery server whose dossier routes reach a real Temporal dev
 * server and worker (an unreachable Temporal would make every valid dossier call a 5xx, hiding the
 * ones that matter), sharing the worker's PostgreSQL database.
 */
export interface FuzzTarget {
  harness: ServerHarness;
  engine: ReminderEngine;
  close(): Promise<void>;
}

export async function startFuzzTarget(options: { env?: NodeJS.ProcessEnv } = {}): Promise<FuzzTarget> {
  const temporal: TestWorkflowEnvironment = await createDevServerEnv();
  const engine = await startReminderEngine(temporal);
  const harness = await startServerHarness({
    db: engine.db,
    temporal: { client: engine.client, taskQueue: engine.taskQueue },
    env: options.env,
  });
  return {
    harness,
    engine,
    async close() {
      await harness.close(); // first: it shares the engine's database
      await engine.close();
      await temporal.teardown();
    },
  };
}
