import { proxyActivities } from '@temporalio/workflow';
import type {
  PeriodicJobActivities,
  ReminderAuditActivities,
  RetentionActivities,
} from '../activities/index.js';
import type { DailyReportRule } from '../domain/daily-report.js';
import { periodicJobRetry } from './activity-retry.js';

const { alertUrgentDossiers, reconcileDossierWorkflows, sendDailyReports } =
  proxyActivities<PeriodicJobActivities>({
    startToCloseTimeout: '10 minutes',
    // The activities heartbeat after each page; reconciliation resumes a retry from its last
    // heartbeat, so a lost worker costs at most a minute and a page.
    heartbeatTimeout: '1 minute',
    retry: periodicJobRetry,
  });

/**
 * Run by the hourly schedule: alerts urgent dossiers that have not had their `urgent` alert
 * (flags set outside the API), then makes sure every open dossier has its workflow running.
 */
export async function hourlyUrgentCheckWorkflow(): Promise<{ alerted: number; started: number }> {
  const { alerted } = await alertUrgentDossiers.executeWithOptions(
    { summary: 'alert urgent open dossiers not yet alerted' },
    [{ at: new Date().toISOString() }],
  );
  const { started } = await reconcileDossierWorkflows.executeWithOptions(
    { summary: 'start the missing workflows of open dossiers' },
    [],
  );
  return { alerted, started };
}

/**
 * Run every 15 minutes by the report schedule, which passes the rule: one summary per user whose
 * local report time has come, per local date. A run of the 18:00 schedule of an earlier version
 * (no rule) still schedules the activity, as that version did: a history of it in flight at the
 * upgrade replays with the same commands; the activity then skips (the next run carries the rule).
 */
export async function dailyReportWorkflow(rule?: DailyReportRule): Promise<{ sent: number }> {
  return sendDailyReports.executeWithOptions(
    { summary: 'daily report to each user whose local report time has come' },
    [{ at: new Date().toISOString(), ...(rule && { rule }) }],
  );
}

const { auditReminders } = proxyActivities<ReminderAuditActivities>({
  startToCloseTimeout: '30 minutes',
  // Heartbeats after each page; a retry resumes after the last page done.
  heartbeatTimeout: '1 minute',
  retry: periodicJobRetry,
});

/**
 * Run hourly by the audit schedule: each open dossier's reminders that its row says were owed
 * (docs/reminders.md, "Reminder audit") and are not stored are sent, late, exactly once.
 */
export async function reminderAuditWorkflow(): Promise<{ missing: number; restored: number }> {
  const { missing, restored } = await auditReminders.executeWithOptions(
    { summary: 'send the reminders owed and not stored, late' },
    [{ at: new Date().toISOString() }],
  );
  return { missing, restored };
}

const { removeOldNotifications } = proxyActivities<RetentionActivities>({
  // A run stops removing 10 minutes after its instant (retries included), after its batch.
  startToCloseTimeout: '15 minutes',
  // Heartbeats after each batch (milliseconds); a retry resumes after the last batch done.
  heartbeatTimeout: '1 minute',
  retry: periodicJobRetry,
});

/**
 * Run daily by the retention schedule: the notifications older than NOTIFICATION_RETENTION are
 * removed in batches, except the reminders and alerts of dossiers still open
 * (docs/operations.md, "Retention").
 */
export async function notificationRetentionWorkflow(): Promise<{ removed: number; complete: boolean }> {
  const { removed, complete } = await removeOldNotifications.executeWithOptions(
    { summary: 'remove the notifications older than the retention, in batches' },
    [{ at: new Date().toISOString() }],
  );
  return { removed, complete };
}
