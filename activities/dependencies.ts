import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/config.js';
import type { Orm } from '../db/orm.js';

/** What activities are built from: passed to `createActivities`, never imported as globals. */
export interface ActivityDependencies {
  orm: Orm;
  /** For reconciliation: starting a dossier's missing workflow. */
  temporal: { client: Client; taskQueue: string };
  config: Pick<AppConfig, 'reminderPolicy' | 'reminderAudit' | 'defaults'>;
  /** Counters of what deliverNotification did (the worker's Prometheus metrics); none in some tests. */
  metrics?: DeliveryMetrics;
}

export interface NotificationLabels {
  type: string;
  kind: string;
}

/** What deliverNotification reports; implemented with prom-client by the worker (worker/metrics.ts). */
export interface DeliveryMetrics {
  /** A notification stored (and announced) for the first time; `lateMs`: past its planned instant, for reminders. */
  stored(labels: NotificationLabels, lateMs: number | undefined): void;
  /** A notification already stored under its idempotency key (a retry, replay or second run): skipped. */
  duplicateSkipped(labels: NotificationLabels): void;
  /**
   * A reminder past its grace: stored late by its own workflow (`sent_late`), or found missing by
   * the audit and what became of it (domain/reminder-audit.ts): restored, refused by the
   * database, or left to a running workflow that has it armed (`late`) or could not be asked
   * (`unanswered`).
   */
  reminderMissed(
    labels: NotificationLabels & { outcome: 'restored' | 'refused' | 'late' | 'unanswered' | 'sent_late' },
  ): void;
}
