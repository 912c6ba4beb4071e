// The worker bundles this file: every workflow type the task queue serves.
export { dossierWorkflow } from './dossier-workflow.js';
export {
  hourlyUrgentCheckWorkflow,
  dailyReportWorkflow,
  reminderAuditWorkflow,
  notificationRetentionWorkflow,
} from './periodic-jobs.js';
export { userProfileWorkflow } from './user-profile-workflow.js';
