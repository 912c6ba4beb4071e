import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { openSocket, startServerHarness, type ServerHarness, type TestSocket } from './notify-server.js';
import { startReminderEngine, type ReminderEngine } from './reminder-engine.js';
import { createDevServerEnv } from './temporal.js';

/**
 * What the REST tests of a real server (test/integration/server-rest-*.test.ts) share: a
 * notification as the routes list it, a user's socket, and the Temporal side of the dossier
 * routes (a Temporal dev server, a real worker, and a server on the worker's database).
 */

export interface Notification {
  id: string;
  userId: string;
  type: string;
  kind: string;
  dossierId: string | null;
  readAt: string | null;
}

/** A socket of `user` on `target`, once it has its unread count. */
export const socketFor = async (target: ServerHarness, user: string): Promise<TestSocket> => {
  const socket = await openSocket(`${target.wsUrl}/api/v1/ws/${await target.token(user)}`);
  await socket.waitFor('the unread count', (messages) =>
    messages.some((message) => message.type === 'unread_count'),
  );
  return socket;
};

/** A Temporal dev server and a real worker; `engineServer` shares the worker's database. */
let env: TestWorkflowEnvironment;
export let engine: ReminderEngine;
export let engineServer: ServerHarness;

/** Starts the dev server, the worker and `engineServer` before the file's tests; stops them after. */
export function setUpEngineServer(): void {
  before(async () => {
    env = await createDevServerEnv();
    engine = await startReminderEngine(env);
    engineServer = await startServerHarness({
      db: engine.db,
      temporal: { client: engine.client, taskQueue: engine.taskQueue },
    });
  });
  after(async () => {
    await engineServer?.close(); // first: it shares the engine's database
    await engine?.close();
    await env?.teardown();
  });
}
