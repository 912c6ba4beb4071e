import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Duration, IANAZone } from 'luxon';
import { owedReminders, type OwedReminder } from '../domain/reminder-audit.js';
import { dossierWorkflowId } from '../workflows/dossier-messages.js';
import { dataErrorOf } from './data-errors.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierActivities, toSnapshot } from './dossier-activities.js';
import type { Dossier } from '../db/entities.js';

const PAGE_SIZE = 500;
/**
 * The save stamps `planned_at` before the workflow's clock plans (the activity, then the next
 * workflow task): reminders due within this margin after the stamp may have been skipped.
 */
const PLAN_MARGIN_MS = 60_000;

export interface AuditProgress {
  /** The last open dossier id audited; '' before the first. */
  after: string;
  checked: number;
  /** Owed and found missing past the grace. */
  missing: number;
  restored: number;
  /** Missing, but its workflow is working through its queue: left to it, checked again next run. */
  deferred: number;
  /** Missing, and the database refuses it (logged; the workflow recorded the same refusal). */
  refused: number;
}

const NO_PROGRESS: AuditProgress = {
  after: '',
  checked: 0,
  missing: 0,
  restored: 0,
  deferred: 0,
  refused: 0,
};

/** The progress a retried attempt heartbeated, or the beginning. */
function resumeAudit(details: unknown): AuditProgress {
  if (typeof details !== 'object' || details === null) return NO_PROGRESS;
  const record = details as Record<string, unknown>;
  const counts = Object.keys(NO_PROGRESS).filter((key) => key !== 'after');
  const valid =
    typeof record.after === 'string' &&
    counts.every((key) => Number.isSafeInteger(record[key]) && (record[key] as number) >= 0);
  return valid ? (record as unknown as AuditProgress) : NO_PROGRESS;
}

type AuditRow = Dossier & { ownerZone: string; ownerUpdatedAt: Date };

/**
 * The reminder audit, run hourly by its schedule: for every open dossier, the reminders its row
 * says it should have had (domain/reminder-audit.ts) that are not stored are sent at once, marked
 * late, logged and counted. The idempotency key is the workflow's own: if the workflow sends it
 * after all, nothing is stored twice.
 */
export function createReminderAuditActivities(
  deps: ActivityDependencies,
  { pageSize = PAGE_SIZE }: { pageSize?: number } = {},
) {
  const { orm, temporal, config, metrics } = deps;
  const { deliverNotification } = createDossierActivities(deps);

  /**
   * Whether the dossier's workflow is working through a queue (a workflow task scheduled on its
   * first attempt: after an outage, queued calls apply before due reminders, and a `complete`
   * among them must win over the audit). A failing task (attempt > 1), an idle, closed or missing
   * workflow is no reason to wait.
   */
  async function workflowBusy(dossierId: string): Promise<boolean> {
    try {
      const { raw } = await temporal.client.workflow.getHandle(dossierWorkflowId(dossierId)).describe();
      const task = raw.pendingWorkflowTask;
      return raw.workflowExecutionInfo?.closeTime == null && task != null && (task.attempt ?? 1) <= 1;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  async function restore(row: AuditRow, reminder: OwedReminder, progress: AuditProgress): Promise<void> {
    const labels = { type: reminder.type, kind: reminder.kind };
    const facts = {
      dossierId: row.id,
      userId: row.ownerId,
      idempotencyKey: reminder.idempotencyKey,
      ...labels,
    };
    if (await workflowBusy(row.id)) {
      progress.deferred += 1;
      log.info('Reminder missing while its workflow works through its queue: left to it', facts);
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
      });
      // Stored meanwhile by its workflow: not a loss after all.
      if (!stored.created) return;
      progress.restored += 1;
      metrics?.reminderMissed({ ...labels, outcome: 'restored' });
      log.warn('Reminder missed: restored late by the audit', {
        ...facts,
        notificationId: stored.id,
        owedSince: new Date(reminder.owedFrom).toISOString(),
      });
    } catch (error) {
      const refusal = dataErrorOf(error);
      if (!refusal) throw error;
      progress.refused += 1;
      metrics?.reminderMissed({ ...labels, outcome: 'refused' });
      log.error('Reminder missed, and the database refuses it', { ...facts, ...refusal });
    }
  }

  return {
    /**
     * Page by page in id order: one read of the open dossiers with their owners, one of the keys
     * stored, the missing ones restored one by one; the last id done heartbeated with the counts,
     * so a retry resumes there.
     */
    async auditReminders({ at }: { at: string }): Promise<AuditProgress> {
      const progress = { ...resumeAudit(activityInfo().heartbeatDetails) };
      const now = Date.parse(at);
      const window = {
        from: now - Duration.fromISO(config.reminderAudit.lookback).toMillis(),
        to: now - Duration.fromISO(config.reminderAudit.grace).toMillis(),
      };
      const em = orm.em.fork();
      for (;;) {
        const rows = await em.execute<Array<Record<string, unknown>>>(
          `select d.*, u.timezone as owner_zone, u.updated_at as owner_updated_at
             from dossiers d join users u on u.id = d.owner_id
            where d.status = 'open' and d.id > ? order by d.id limit ?`,
          [progress.after, pageSize],
        );
        if (rows.length === 0) break;
        const page = rows.map((raw) => {
          const ownerZone = raw.owner_zone as string;
          const ownerUpdatedAt = new Date(raw.owner_updated_at as string | Date);
          const row = em.map('Dossier', raw) as Dossier;
          return Object.assign(row, { ownerZone, ownerUpdatedAt }) as AuditRow;
        });
        em.clear();
        const owed = page.flatMap((row) => owedOf(row).map((reminder) => ({ row, reminder })));
        const keys = owed.map(({ reminder }) => reminder.idempotencyKey);
        const stored = new Set(
          keys.length === 0
            ? []
            : (
                await em.execute<Array<{ key: string }>>(
                  `select idempotency_key as key from notifications
                    where idempotency_key in (select jsonb_array_elements_text(?::jsonb))`,
                  // One JSON parameter: the query builder would expand an array into a list.
                  [JSON.stringify(keys)],
                )
              ).map((found) => found.key),
        );
        for (const { row, reminder } of owed) {
          if (stored.has(reminder.idempotencyKey)) continue;
          progress.missing += 1;
          await restore(row, reminder, progress);
        }
        progress.after = page[page.length - 1]!.id;
        progress.checked += page.length;
        heartbeat(progress);
        if (page.length < pageSize) break;
      }
      log.info('Reminder audit done', { ...progress, from: new Date(window.from).toISOString() });
      return progress;

      function owedOf(row: AuditRow): OwedReminder[] {
        // A zone the API would refuse (a row written by NormX) plans in the default zone, as the
        // workflow's activities do.
        const zoneOf = (zone: string | null | undefined) =>
          zone && IANAZone.isValidZone(zone) ? zone : config.defaults.timeZone;
        const ownerZone = zoneOf(row.ownerZone);
        const snapshot = toSnapshot(row);
        return owedReminders(
          {
            id: row.id,
            status: row.status,
            deadline:
              snapshot.dueAt !== undefined ? { dueAt: snapshot.dueAt } : { dueDate: snapshot.dueDate! },
            plannedAt: row.plannedAt.getTime(),
            plannedZone: row.plannedZone ? zoneOf(row.plannedZone) : ownerZone,
            updatedAt: row.updatedAt.getTime(),
          },
          { timeZone: ownerZone, updatedAt: row.ownerUpdatedAt.getTime() },
          { policy: config.reminderPolicy, window, planMarginMs: PLAN_MARGIN_MS },
        );
      }
    },
  };
}
