import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPeriodicJobActivities } from '../../activities/periodic-job-activities.js';
import { DOSSIER_WORKFLOW_TYPE } from '../../client/dossier-client.js';
import { loadConfig } from '../../config/config.js';
import { dossierWorkflowId } from '../../workflows/dossier-messages.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * Reconciliation against the real dev server's visibility and PostgreSQL: page by page, it asks
 * Temporal which of the page's open dossiers have a running workflow, starts the others, and
 * heartbeats the last id done so that a retried attempt resumes there. No worker polls the task
 * queue: a started workflow stays Running with its first signal, which is all that is checked.
 */

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let client: Client;
const taskQueue = `reconcile-${randomBytes(4).toString('hex')}`;
/** The visibility queries the activity made. */
const listQueries: string[] = [];
let activities: ReturnType<typeof createPeriodicJobActivities>;

before(async () => {
  env = await createDevServerEnv();
  db = await createTestDatabase();
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const list = client.workflow.list.bind(client.workflow);
  client.workflow.list = (options) => {
    listQueries.push(options?.query ?? '');
    return list(options);
  };
  activities = createPeriodicJobActivities(
    { orm: db.orm, temporal: { client, taskQueue }, config: loadConfig({}) },
    // Small pages, so that a few dossiers make several.
    { pageSize: 4, reconcileConcurrency: 2 },
  );
  await db.query(`insert into users (id) values ('u1')`);
});
after(async () => {
  await db?.drop();
  await env?.teardown();
});

async function insertDossiers(ids: string[], status = 'open'): Promise<void> {
  for (const id of ids) {
    await db.query(
      `insert into dossiers (id, title, owner_id, due_date, status) values ($1, $2, 'u1', '2027-06-30', $3)`,
      [id, `Dossier ${id}`, status],
    );
  }
}

/** Starts a dossier's workflow as the API would have (no worker runs it: it stays Running). */
async function startWorkflow(id: string): Promise<void> {
  await client.workflow.start(DOSSIER_WORKFLOW_TYPE, {
    workflowId: dossierWorkflowId(id),
    taskQueue,
    args: [{ dossierId: id }],
  });
}

/** Runs reconciliation in a mock activity context; records its heartbeats. */
async function reconcile(heartbeatDetails?: unknown) {
  const mock = new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails }, {
    logger: new DefaultLogger('ERROR'),
  });
  const heartbeats: unknown[] = [];
  mock.on('heartbeat', (details: unknown) => heartbeats.push(details));
  const result = await mock.run(activities.reconcileDossierWorkflows);
  return { result, heartbeats };
}

/** The workflow's current run: running, and whether reconciliation signalled it (`sync`). */
async function workflowOf(id: string): Promise<{ status: string; synced: boolean } | undefined> {
  const handle = client.workflow.getHandle(dossierWorkflowId(id));
  try {
    const { status } = await handle.describe();
    const history = await handle.fetchHistory();
    const synced = (history.events ?? []).some(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'sync',
    );
    return { status: status.name, synced };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** How many of these dossiers visibility lists as running (a list: the dev server's count over-counts `IN`). */
const runningCount = async (ids: string[]): Promise<number> => {
  const workflowIds = ids.map((id) => `'${dossierWorkflowId(id)}'`).join(', ');
  let running = 0;
  for await (const _ of client.workflow.list({
    query: `WorkflowId IN (${workflowIds}) AND ExecutionStatus = 'Running'`,
  })) {
    running += 1;
  }
  return running;
};

describe('reconcileDossierWorkflows (dev server visibility, PostgreSQL)', () => {
  it('starts only the open dossiers whose workflow is not running, asking visibility page by page', async () => {
    const open = ['d-01', 'd-02', 'd-03', 'd-04', 'd-05', 'd-06', 'd-07', 'd-08', 'd-09', 'd-10'];
    await insertDossiers(open);
    await insertDossiers(['d-00-done'], 'done');
    // Rows written outside the API with an id it refuses: logged and skipped, never a failure.
    await insertDossiers(["d-11'quote"]);
    const running = ['d-02', 'd-05', 'd-06', 'd-09'];
    for (const id of running) await startWorkflow(id);
    // d-07's workflow ran and ended (say, terminated by an operator): it must run again.
    await startWorkflow('d-07');
    await client.workflow.getHandle(dossierWorkflowId('d-07')).terminate('test');
    await waitFor(
      'visibility to list the running workflows',
      async () => (await runningCount(running)) === 4,
    );
    await waitFor('visibility to see d-07 closed', async () => (await runningCount(['d-07'])) === 0);

    listQueries.length = 0;
    const { result, heartbeats } = await reconcile();
    assert.deepEqual(result, { checked: 11, started: 6, skipped: 1 });

    for (const id of open) {
      const workflow = await workflowOf(id);
      assert.equal(workflow?.status, 'RUNNING', `${id} runs`);
      // The running ones were left alone: proof that visibility, not a blind signal, decided.
      assert.equal(workflow?.synced, !running.includes(id), `${id} signalled by reconciliation`);
    }
    assert.equal(await workflowOf('d-00-done'), undefined, 'a done dossier gets no workflow');

    // One visibility query per page of database ids (4, 4, 3), each naming that page's workflows.
    assert.equal(listQueries.length, 3);
    assert.match(
      listQueries[0]!,
      /WorkflowId IN \('dossier:d-01', 'dossier:d-02', 'dossier:d-03', 'dossier:d-04'\)/,
    );
    assert.ok(!listQueries[2]!.includes('quote'), 'an id outside the API charset is never put in a query');
    // Progress is heartbeated as the last id done, with the counts up to it.
    assert.deepEqual(heartbeats.at(-1), { after: "d-11'quote", checked: 11, started: 6, skipped: 1 });
    assert.ok(
      heartbeats.some((details) => (details as { after?: string }).after === 'd-04'),
      'progress heartbeated within the run',
    );

    // Once visibility shows them running, a second run starts nothing.
    await waitFor(
      'visibility to list every workflow',
      async () => (await runningCount(open)) === open.length,
    );
    assert.deepEqual((await reconcile()).result, { checked: 11, started: 0, skipped: 1 });
  });

  it('a retried attempt resumes after the last id its previous attempt heartbeated', async () => {
    const ids = ['r-01', 'r-02', 'r-03', 'r-04', 'r-05', 'r-06', 'r-07', 'r-08'];
    await insertDossiers(ids);
    // The previous attempt had reached r-03 (whose workflows it started) when its worker died.
    const { result } = await reconcile({ after: 'r-03', checked: 14, started: 3, skipped: 1 });
    assert.deepEqual(result, { checked: 19, started: 8, skipped: 1 });
    for (const id of ids.slice(0, 3)) assert.equal(await workflowOf(id), undefined, `${id} not redone`);
    for (const id of ids.slice(3)) assert.equal((await workflowOf(id))?.status, 'RUNNING', `${id} started`);
  });

  it('starts afresh when the heartbeat details are not its own', async () => {
    await waitFor(
      'visibility to list the r- workflows',
      async () => (await runningCount(['r-04', 'r-08'])) === 2,
    );
    // From the first id: r-01 to r-03, left without workflows above, are started now.
    assert.deepEqual((await reconcile({ something: 'else' })).result, {
      checked: 19,
      started: 3,
      skipped: 1,
    });
  });
});
