import { failDataErrorsNonRetryably } from './data-errors.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierActivities } from './dossier-activities.js';
import { createPeriodicJobActivities } from './periodic-job-activities.js';
import { createReminderAuditActivities } from './reminder-audit-activities.js';
import { createRetentionActivities } from './retention-activities.js';

export type { ActivityDependencies } from './dependencies.js';

/**
 * Builds every activity the worker registers from its dependencies. Each is wrapped so that data
 * the database refuses fails it non-retryably (INVALID_DATA_FAILURE) instead of retrying for ever.
 */
export function createActivities(deps: ActivityDependencies) {
  return failDataErrorsNonRetryably({
    ...createDossierActivities(deps),
    ...createPeriodicJobActivities(deps),
    ...createReminderAuditActivities(deps),
    ...createRetentionActivities(deps),
  });
}

export type DossierActivities = ReturnType<typeof createDossierActivities>;
export type PeriodicJobActivities = ReturnType<typeof createPeriodicJobActivities>;
export type ReminderAuditActivities = ReturnType<typeof createReminderAuditActivities>;
export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
