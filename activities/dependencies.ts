import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/config.js';
import type { Orm } from '../db/orm.js';

/** What activities are built from: passed to `createActivities`, never imported as globals. */
export interface ActivityDependencies {
  orm: Orm;
  /** For reconciliation: starting a dossier's missing workflow. */
  temporal: { client: Client; taskQueue: string };
  config: Pick<AppConfig, 'reminderPolicy' | 'defaults'>;
}
