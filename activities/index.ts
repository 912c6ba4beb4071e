import type { ActivityDependencies } from './dependencies.js';
import { createDossierActivities } from './dossier-activities.js';
import { createPeriodicJobActivities } from './periodic-job-activities.js';

export type { ActivityDependencies } from './dependencies.js';

/** Builds every activity the worker registers from its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return { ...createDossierActivities(deps), ...createPeriodicJobActivities(deps) };
}

export type DossierActivities = ReturnType<typeof createDossierActivities>;
export type PeriodicJobActivities = ReturnType<typeof createPeriodicJobActivities>;
