import type { Client } from '@temporalio/client';
import {
  dossierWorkflowId,
  reminderPlanQuery,
  type ReminderPlanView,
} from '../workflows/dossier-messages.js';
import { DOSSIER_WORKFLOW_TYPE } from './dossier-signal.js';
import { dossierId as dossierIdSchema, parse } from './dossier-schemas.js';

const PLAN_POLL_INTERVAL_MS = 100;

/**
 * The reminders sent and pending, with their instants (works on finished workflows too).
 * Right after a create the workflow may not have loaded its dossier yet: the query is asked
 * again every 100 ms for up to `waitMs` (default 5 s), then `DossierNotReadyError`. A run that
 * ended without ever loading a dossier (calls for an id never created) is `DossierNotFoundError`.
 */
export async function queryPlan(
  client: Client,
  id: string,
  { waitMs = 5_000 }: { waitMs?: number } = {},
): Promise<ReminderPlanView> {
  const dossierId = parse(dossierIdSchema, id, 'id');
  const handle = client.workflow.getHandle(dossierWorkflowId(dossierId));
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await handle.query(reminderPlanQuery);
    } catch (error) {
      if (!isNotLoadedYet(error)) throw error;
    }
    if (attempt === 0 && (await handle.describe()).status.name !== 'RUNNING') {
      throw new DossierNotFoundError(dossierId);
    }
    if (Date.now() + PLAN_POLL_INTERVAL_MS > deadline) throw new DossierNotReadyError(dossierId);
    await new Promise((resolve) => setTimeout(resolve, PLAN_POLL_INTERVAL_MS));
  }
}

/** Ids of dossiers whose workflow is running, from Temporal's visibility store. */
export async function runningDossierIds(client: Client): Promise<Set<string>> {
  const ids = new Set<string>();
  const query = `WorkflowType = '${DOSSIER_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query })) {
    ids.add(execution.workflowId.replace(/^dossier:/, ''));
  }
  return ids;
}

/** The query's refusal while the dossier is loading: a query rejection, or a ServiceError whose cause says it. */
const isNotLoadedYet = (error: unknown): boolean =>
  error instanceof Error &&
  (error.message.includes('not loaded yet') ||
    (error.cause instanceof Error && error.cause.message.includes('not loaded yet')));

/** The dossier's workflow runs but has not loaded its dossier yet (it is being created): ask again. */
export class DossierNotReadyError extends Error {
  constructor(readonly dossierId: string) {
    super(`Dossier ${dossierId} is being created: ask again in a moment`);
    this.name = 'DossierNotReadyError';
  }
}

/** No dossier: its run ended without one (calls for an id that was never created). */
export class DossierNotFoundError extends Error {
  constructor(readonly dossierId: string) {
    super(`No dossier ${dossierId}`);
    this.name = 'DossierNotFoundError';
  }
}
