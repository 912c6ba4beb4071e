import { log } from '@temporalio/activity';
import { isReconcilableId } from '../domain/reconciliation.js';
import { judgeMissing, type OwedReminder, type RunEvidence } from '../domain/reminder-audit.js';
import { dossierWorkflowId, reminderPlanQuery } from '../workflows/dossier-messages.js';
import { dataErrorOf } from './data-errors.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierActivities, toSnapshot } from './dossier-activities.js';
import type { AuditProgress } from './reminder-audit-progress.js';
import type { AuditRow } from './reminder-audit-rows.js';

/** Each visibility list and plan query gets this long (the heartbeat timeout is a minute). */
const QUERY_DEADLINE_MS = 5_000;

/**
 * What the reminder audit does about a reminder owed and not stored: asks the dossier's workflow
 * runs what they planned (`evidenceFor`), judges from their answer whether it was lost
 * (domain/reminder-audit.ts, `judgeMissing`), and restores a lost one, late, under the workflow's
 * own key, or leaves it to the run that still has it (`settle`); each outcome logged and counted.
 * What the audit reads and owes is in activities/reminder-audit-rows.ts.
 */
export function createAuditVerdicts(deps: ActivityDependencies) {
  const { temporal, metrics } = deps;
  const { deliverNotification } = createDossierActivities(deps);

  /** Runs of the dossier's workflow looked at, newest first: the current one and those before it. */
  const RUNS_ASKED = 4;

  /**
   * What the dossier's workflow runs say (domain/reminder-audit.ts, judgeMissing), asked once per
   * dossier. Each call to Temporal has its own deadline: a run no worker can answer for (a retired
   * task queue, saturated workers) costs seconds, not the server's half minute, and once the
   * running run cannot answer the older ones are not asked (its answer decides first).
   */
  async function evidenceFor(dossierId: string): Promise<RunEvidence[]> {
    // An id the API refuses cannot be quoted in a visibility query: no run to ask.
    if (!isReconcilableId(dossierId)) return [];
    const workflowId = dossierWorkflowId(dossierId);
    const { connection } = temporal.client;
    const within = <T>(call: () => Promise<T>) =>
      connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, call);
    const executions = await within(async () => {
      const found: Array<{ runId: string; status: string }> = [];
      for await (const execution of temporal.client.workflow.list({
        query: `WorkflowId = '${workflowId}'`,
        pageSize: RUNS_ASKED,
      })) {
        found.push({ runId: execution.runId, status: execution.status.name });
        if (found.length >= RUNS_ASKED) break;
      }
      return found;
    });
    const runs: RunEvidence[] = [];
    for (const { runId, status } of executions) {
      const plan = await within(() =>
        temporal.client.workflow.getHandle(workflowId, runId).query(reminderPlanQuery),
      ).catch((error: Error) => {
        log.warn('A dossier run could not say what it planned', { dossierId, status, err: error });
        return undefined;
      });
      runs.push({ status, ...(plan && { plan }) });
      if (!plan && status === 'RUNNING') break;
    }
    return runs;
  }

  async function settle(
    row: AuditRow,
    reminder: OwedReminder,
    { runs, progress, dueBy }: { runs: RunEvidence[]; progress: AuditProgress; dueBy: number },
  ): Promise<void> {
    const labels = { type: reminder.type, kind: reminder.kind };
    const facts = {
      dossierId: row.id,
      userId: row.ownerId,
      idempotencyKey: reminder.idempotencyKey,
      ...labels,
    };
    const verdict = judgeMissing(reminder.idempotencyKey, runs, { dueBy });
    if (verdict === 'not-armed') {
      progress.notArmed += 1;
      return;
    }
    if (verdict === 'no-runs') {
      progress.noRuns += 1;
      log.warn('Reminder owed by the rows, and no workflow run of the dossier to confirm it: nothing sent', {
        ...facts,
        owedSince: new Date(reminder.owedFrom).toISOString(),
      });
      return;
    }
    if (verdict === 'late' || verdict === 'unanswered') {
      progress.deferred += 1;
      metrics?.auditFinding({ ...labels, finding: verdict });
      log.warn(
        verdict === 'late'
          ? 'Reminder due and not sent: its workflow has it armed (busy, or its task failing): left to it'
          : 'Reminder missing and its workflow cannot be asked: nothing sent',
        { ...facts, owedSince: new Date(reminder.owedFrom).toISOString() },
      );
      return;
    }
    try {
      const stored = await deliverNotification({
        idempotencyKey: reminder.idempotencyKey,
        userId: row.ownerId,
        type: reminder.type,
        kind: reminder.kind,
        dossier: toSnapshot(row),
        scheduledFor: reminder.scheduledFor,
        late: true,
        whileDossierOpen: true,
      });
      // Stored meanwhile by its workflow (not a loss after all), or the dossier closed or moved
      // since the row and the runs were read (a call the run applied since wins).
      if (!stored.created) return;
      progress.restored += 1;
      metrics?.reminderMissed({ ...labels, outcome: 'restored' });
      log.warn('Reminder missed: restored late by the audit', {
        ...facts,
        why: {
          sent: 'its row was deleted',
          orphaned: 'its workflow run was terminated, failed or timed out',
          stuck: 'its running workflow has had it armed and due for a whole audit period (a lost timer?)',
        }[verdict],
        notificationId: stored.id,
        owedSince: new Date(reminder.owedFrom).toISOString(),
      });
    } catch (error) {
      const refusal = dataErrorOf(error);
      if (!refusal) throw error;
      progress.refused += 1;
      metrics?.auditFinding({ ...labels, finding: 'refused' });
      log.error('Reminder missed, and the database refuses it', { ...facts, ...refusal });
    }
  }

  return { evidenceFor, settle };
}
