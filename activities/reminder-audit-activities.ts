import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { Duration, IANAZone } from 'luxon';
import { deadlineOf } from '../domain/deadline.js';
import { forEachPage, PAGE_SIZE } from '../domain/keyset-pages.js';
import { isReconcilableId } from '../domain/reconciliation.js';
import {
  judgeMissing,
  owedReminders,
  type OwedReminder,
  type RunEvidence,
} from '../domain/reminder-audit.js';
import { dossierWorkflowId, reminderPlanQuery } from '../workflows/dossier-messages.js';
import { dataErrorOf } from './data-errors.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierActivities, toSnapshot } from './dossier-activities.js';
import { createBusinessCalendars } from './business-calendar.js';
import { createDossierRows } from './dossier-rows.js';
import type { Dossier, User } from '../db/entities.js';

/**
 * The save stamps `planned_at` before the workflow's clock plans (the activity, then the next
 * workflow task): reminders due within this margin after the stamp may have been skipped.
 */
const PLAN_MARGIN_MS = 60_000;
/** Each visibility list and plan query gets this long (the heartbeat timeout is a minute). */
const QUERY_DEADLINE_MS = 5_000;

export interface AuditProgress {
  /** The last open dossier id audited; '' before the first. */
  after: string;
  checked: number;
  /** Owed and found missing past the grace. */
  missing: number;
  restored: number;
  /** Missing, and its workflow has it armed and due (or cannot be asked): left to it, counted. */
  deferred: number;
  /** Owed by the rows, but no run of its workflow armed it (the rules skipped it): nothing sent. */
  notArmed: number;
  /** Missing, and the database refuses it (logged; the workflow recorded the same refusal). */
  refused: number;
  /** Rows it could not read (values written outside the API): logged and skipped. */
  unreadable: number;
  /** Owed by the rows, and Temporal has no run of the dossier to confirm it (past retention): logged. */
  noRuns: number;
}

const NO_PROGRESS: AuditProgress = {
  after: '',
  checked: 0,
  missing: 0,
  restored: 0,
  deferred: 0,
  notArmed: 0,
  refused: 0,
  unreadable: 0,
  noRuns: 0,
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

type AuditRow = Dossier & {
  ownerZone: string;
  ownerZoneChangedAt: Date;
  /** The owner's own planning (null: the service's). */
  owner: Pick<User, 'id' | 'businessCalendar' | 'reminderTime'>;
};

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
  const calendars = createBusinessCalendars();
  const { policyOf, calendarSettingOf } = createDossierRows({ config });

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
      await forEachPage(
        (after) =>
          em.execute<Array<Record<string, unknown> & { id: string }>>(
            `select d.*, u.timezone as owner_zone, coalesce(u.zone_changed_at, u.updated_at) as owner_zone_changed_at,
                    u.business_calendar as owner_business_calendar, u.reminder_time as owner_reminder_time
               from dossiers d join users u on u.id = d.owner_id
              where d.status = 'open' and d.id > ? order by d.id limit ?`,
            [after, pageSize],
          ),
        {
          pageSize,
          from: progress.after,
          onPage: async (rows) => {
            // An empty page (the end): nothing read, nothing to heartbeat.
            if (rows.length === 0) return;
            const page: Array<{ row: AuditRow; owed: OwedReminder[] }> = [];
            for (const raw of rows) {
              try {
                const row = Object.assign(em.map('Dossier', raw) as Dossier, {
                  ownerZone: raw.owner_zone as string,
                  ownerZoneChangedAt: new Date(raw.owner_zone_changed_at as string | Date),
                  owner: {
                    id: raw.owner_id as string,
                    businessCalendar: (raw.owner_business_calendar ?? null) as User['businessCalendar'],
                    reminderTime: (raw.owner_reminder_time ?? null) as string | null,
                  },
                }) as AuditRow;
                page.push({ row, owed: owedOf(row) });
              } catch (error) {
                // One unreadable row (written outside the API) must not stop the audit of the others.
                progress.unreadable += 1;
                log.error('Dossier row the audit cannot read: skipped', {
                  dossierId: raw.id,
                  err: error,
                });
              }
            }
            const lastId = rows[rows.length - 1]!.id;
            em.clear();
            const keys = page.flatMap(({ owed }) => owed.map((reminder) => reminder.idempotencyKey));
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
            // In id order, the runs asked once per dossier, a heartbeat after each: a retry resumes
            // after the last dossier done, and a slow Temporal is seen before the heartbeat timeout.
            for (const { row, owed } of page) {
              const missing = owed.filter((reminder) => !stored.has(reminder.idempotencyKey));
              if (missing.length === 0) continue;
              const runs = await evidenceFor(row.id);
              for (const reminder of missing) {
                progress.missing += 1;
                await settle(row, reminder, { runs, progress, dueBy: window.to });
              }
              heartbeat({ ...progress, after: row.id });
            }
            progress.after = lastId;
            progress.checked += rows.length;
            heartbeat(progress);
          },
        },
      );
      log.info('Reminder audit done', { ...progress, from: new Date(window.from).toISOString() });
      return progress;

      function owedOf(row: AuditRow): OwedReminder[] {
        // A zone the API would refuse (a row written by NormX) plans in the default zone, as the
        // workflow's activities do.
        const zoneOf = (zone: string | null | undefined) =>
          zone && IANAZone.isValidZone(zone) ? zone : config.defaults.timeZone;
        const ownerZone = zoneOf(row.ownerZone);
        const policy = policyOf(row.owner);
        return owedReminders(
          {
            id: row.id,
            status: row.status,
            deadline: deadlineOf(toSnapshot(row)),
            plannedAt: row.plannedAt.getTime(),
            plannedZone: row.plannedZone ? zoneOf(row.plannedZone) : ownerZone,
            replannedAt: (row.replannedAt ?? row.updatedAt).getTime(),
          },
          { timeZone: ownerZone, zoneChangedAt: row.ownerZoneChangedAt.getTime() },
          {
            policy,
            window,
            planMarginMs: PLAN_MARGIN_MS,
            // The owner's calendar, as the dossier's activities give it to the workflow.
            calendarIn: (timeZone) =>
              calendars.forDeadline(calendarSettingOf(row.owner), {
                deadline: deadlineOf(toSnapshot(row)),
                timeZone,
                offsetsDays: policy.offsetsDays,
              }),
          },
        );
      }
    },
  };
}
