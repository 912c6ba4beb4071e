import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';

export const HOURLY_URGENT_CHECK_SCHEDULE_ID = 'normx-notify-hourly-urgent-check';
export const DAILY_REPORT_SCHEDULE_ID = 'normx-notify-daily-report';

export interface ScheduleSettings {
  taskQueue: string;
  timeZone: string;
  dailyReport: { hour: number; minute: number };
}

/** The two Temporal Schedules of the service, as they should be. */
export function scheduleDefinitions(settings: ScheduleSettings): ScheduleOptions[] {
  const common = {
    // A missed run (server down) is caught up once, not in a burst; runs never overlap.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  } as const;
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
      scheduleId: DAILY_REPORT_SCHEDULE_ID,
      spec: {
        calendars: [{ hour: settings.dailyReport.hour, minute: settings.dailyReport.minute }],
        timezone: settings.timeZone,
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'dailyReportWorkflow',
        workflowId: 'daily-report',
        taskQueue: settings.taskQueue,
      },
      ...common,
    },
  ];
}

/** Creates the schedules, or brings existing ones up to date: safe to run at every start-up. */
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
