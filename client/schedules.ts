import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { reportRunMinutes, REPORT_RUN_EVERY_MINUTES, type DailyReportRule } from '../domain/daily-report.js';

export const HOURLY_URGENT_CHECK_SCHEDULE_ID = 'normx-notify-hourly-urgent-check';
export const DAILY_REPORT_SCHEDULE_ID = 'normx-notify-daily-report';
export const REMINDER_AUDIT_SCHEDULE_ID = 'normx-notify-reminder-audit';
export const NOTIFICATION_RETENTION_SCHEDULE_ID = 'normx-notify-notification-retention';

export interface ScheduleSettings {
  taskQueue: string;
  /** Zone of the hourly schedules and of the nightly retention. */
  timeZone: string;
  /** Local time of the daily report, in each user's own zone. */
  dailyReport: { hour: number; minute: number };
  /** ISO duration: how late a report is still sent after a run missed its time. */
  dailyReportCatchUpWindow: string;
}

/** The Temporal Schedules of the service, as they should be. */
export function scheduleDefinitions(settings: ScheduleSettings): ScheduleOptions[] {
  const common = {
    // A missed run (server down) is caught up once, not in a burst; runs never overlap.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  } as const;
  const rule: DailyReportRule = {
    time: settings.dailyReport,
    catchUpWindow: settings.dailyReportCatchUpWindow,
  };
  return [
    {
      scheduleId: HOURLY_URGENT_CHECK_SCHEDULE_ID,
      spec: { calendars: [{ minute: 0, hour: { start: 0, end: 23 } }], timezone: settings.timeZone },
      action: {
        type: 'startWorkflow',
        workflowType: 'hourlyUrgentCheckWorkflow',
        workflowId: 'hourly-urgent-check',
        taskQueue: settings.taskQueue,
      },
      ...common,
    },
    {
      // At half past: the hourly check has restarted missing workflows at the hour, and the
      // 08:00 reminders have had their grace (REMINDER_AUDIT_GRACE) by 08:30 … 09:30.
      scheduleId: REMINDER_AUDIT_SCHEDULE_ID,
      spec: { calendars: [{ minute: 30, hour: { start: 0, end: 23 } }], timezone: settings.timeZone },
      action: {
        type: 'startWorkflow',
        workflowType: 'reminderAuditWorkflow',
        workflowId: 'reminder-audit',
        taskQueue: settings.taskQueue,
      },
      ...common,
    },
    {
      // Daily at 03:15: at night, between the hourly check (on the hour) and the audit (at half
      // past), and after the hour a European DST day skips or repeats (02:00-03:00), so exactly
      // once a day. What it removes is the worker's NOTIFICATION_RETENTION (`off`: nothing).
      scheduleId: NOTIFICATION_RETENTION_SCHEDULE_ID,
      spec: { calendars: [{ hour: 3, minute: 15 }], timezone: settings.timeZone },
      action: {
        type: 'startWorkflow',
        workflowType: 'notificationRetentionWorkflow',
        workflowId: 'notification-retention',
        taskQueue: settings.taskQueue,
      },
      ...common,
    },
    {
      // Each user's report goes out at the report time in their own zone. Every zone's offset is
      // a whole number of quarter hours: runs every 15 minutes at the report time's minute of the
      // quarter hour (UTC, no DST of its own) reach each zone's report time exactly; each run
      // reports to the zones whose time has come (domain/daily-report.ts).
      scheduleId: DAILY_REPORT_SCHEDULE_ID,
      spec: {
        calendars: [
          {
            minute: { start: reportRunMinutes(rule.time)[0]!, end: 59, step: REPORT_RUN_EVERY_MINUTES },
            hour: { start: 0, end: 23 },
          },
        ],
        timezone: 'UTC',
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'dailyReportWorkflow',
        workflowId: 'daily-report',
        taskQueue: settings.taskQueue,
        // The rule travels with the runs: the schedule and the rule it applies change together.
        args: [rule],
      },
      ...common,
    },
  ];
}

/**
 * Creates the schedules, or brings existing ones up to date (spec, action with its arguments,
 * policies): safe to run at every start-up, and how a deployment that has the 18:00 Paris
 * schedule of earlier versions moves to the 15-minute one.
 */
export async function ensureSchedules(client: Client, settings: ScheduleSettings): Promise<void> {
  for (const definition of scheduleDefinitions(settings)) {
    try {
      await client.schedule.create(definition);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      const { scheduleId: _id, ...desired } = definition;
      await client.schedule.getHandle(definition.scheduleId).update((current) => ({
        ...current,
        spec: desired.spec,
        action: desired.action,
        policies: { ...current.policies, ...desired.policies },
      }));
    }
  }
}
