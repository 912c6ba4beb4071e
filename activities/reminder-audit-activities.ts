import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { Duration } from 'luxon';
import { forEachPage, PAGE_SIZE } from '../domain/keyset-pages.js';
import type { OwedReminder } from '../domain/reminder-audit.js';
import type { ActivityDependencies } from './dependencies.js';
import { resumeAudit, type AuditProgress } from './reminder-audit-progress.js';
import { createAuditRows, type AuditRow, type AuditWindow } from './reminder-audit-rows.js';
import { createAuditVerdicts } from './reminder-audit-verdicts.js';

export type { AuditProgress } from './reminder-audit-progress.js';

/**
 * The reminder audit, run hourly by its schedule: for every open dossier, the reminders its row
 * says it should have had (domain/reminder-audit.ts) that are not stored are sent at once, marked
 * late, logged and counted. The idempotency key is the workflow's own: if the workflow sends it
 * after all, nothing is stored twice. Here the paging, the counts and the heartbeats; what it
 * reads and owes in activities/reminder-audit-rows.ts, what it does about a missing reminder in
 * activities/reminder-audit-verdicts.ts.
 */
export function createReminderAuditActivities(
  deps: ActivityDependencies,
  { pageSize = PAGE_SIZE }: { pageSize?: number } = {},
) {
  const { orm, config } = deps;
  const { evidenceFor, settle } = createAuditVerdicts(deps);
  const { readPage, toAuditRow, storedKeys, owedOf } = createAuditRows({ config });

  return {
    /**
     * Page by page in id order: one read of the open dossiers with their owners, one of the keys
     * stored, the missing ones restored one by one; the last id done heartbeated with the counts,
     * so a retry resumes there.
     */
    async auditReminders({ at }: { at: string }): Promise<AuditProgress> {
      const progress = { ...resumeAudit(activityInfo().heartbeatDetails) };
      const now = Date.parse(at);
      const window: AuditWindow = {
        from: now - Duration.fromISO(config.reminderAudit.lookback).toMillis(),
        to: now - Duration.fromISO(config.reminderAudit.grace).toMillis(),
      };
      const em = orm.em.fork();
      await forEachPage((after) => readPage(em, after, pageSize), {
        pageSize,
        from: progress.after,
        onPage: async (rows) => {
          // An empty page (the end): nothing read, nothing to heartbeat.
          if (rows.length === 0) return;
          const page: Array<{ row: AuditRow; owed: OwedReminder[] }> = [];
          for (const raw of rows) {
            try {
              const row = toAuditRow(em, raw);
              page.push({ row, owed: owedOf(row, window) });
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
          const stored = await storedKeys(em, keys);
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
      });
      log.info('Reminder audit done', { ...progress, from: new Date(window.from).toISOString() });
      return progress;
    },
  };
}
