import { proxyActivities } from '@temporalio/workflow';
import type { PeriodicJobActivities } from '../activities/index.js';

const { alertUrgentDossiers, reconcileDossierWorkflows, sendDailyReports } =
  proxyActivities<PeriodicJobActivities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 10 },
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

/** Run by the 18:00 schedule: one summary per user with something to report, per local date. */
export async function dailyReportWorkflow(): Promise<{ sent: number }> {
  return sendDailyReports.executeWithOptions(
    { summary: 'daily report to each user with something to report' },
    [{ at: new Date().toISOString() }],
  );
}
