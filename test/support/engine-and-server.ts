import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startServerHarness, type ServerHarness } from './notify-server.js';
import { startReminderEngine, type ReminderEngine } from './reminder-engine.js';
import { createTimeSkippingEnv } from './temporal.js';

/** The time-skipping server, the real worker on a fresh database, and the delivery server on it. */
export interface EngineAndServer {
  env: TestWorkflowEnvironment;
  engine: ReminderEngine;
  server: ServerHarness;
}

/**
 * Starts them before the file's tests and stops them after (the server first: it shares the
 * engine's database). The returned object's fields are set once `before` has run.
 */
export function useEngineAndServer(): EngineAndServer {
  const stack = {} as EngineAndServer;
  before(async () => {
    stack.env = await createTimeSkippingEnv();
    stack.engine = await startReminderEngine(stack.env);
    stack.server = await startServerHarness({
      db: stack.engine.db,
      temporal: { client: stack.engine.client, taskQueue: stack.engine.taskQueue },
    });
  });
  after(async () => {
    await stack.server?.close();
    await stack.engine?.close();
    await stack.env?.teardown();
  });
  return stack;
}
