import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/config.js';
import type { Orm } from '../db/orm.js';

/** What activities are built from: passed to `createActivities`, never imported as globals. */
export interface ActivityDependencies {
  orm: Orm;
  /** For reconciliation: starting a dossier's missing workflow. */
  temporal: { client: Client; taskQueue: string };
  config: Pick<
    AppConfig,
    'reminderPolicy' | 'businessCalendar' | 'reminderAudit' | 'defaults' | 'notificationRetention'
  >;
  /** Counters of what deliverNotification did (the worker's Prometheus metrics); none in some tests. */
  metrics?: DeliveryMetrics;
  /** What the retention removed (the worker's Prometheus metrics); none in some tests. */
  retentionMetrics?: RetentionMetrics;
  /**
   * Told the user of each notification stored for the first time, once its row is committed: the
   * in-process announce of `npm start`, whose delivery server runs in the same process and cannot
   * LISTEN on PGlite (server/hub/notification-feed.ts, `wake`). None with PostgreSQL: NOTIFY does it.
   */
  announced?: (userId: string) => void;
}

/** What the notification retention reports; implemented with prom-client by the worker (worker/metrics.ts). */
export interface RetentionMetrics {
  /** Notifications removed by one batch, read and unread. */
  removed(counts: { read: number; unread: number }): void;
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
   * A reminder that reached its user past its grace, counted once: stored late by its own
   * workflow (`sent_late`), or restored by the audit (`restored`).
   */
  reminderMissed(labels: NotificationLabels & { outcome: 'restored' | 'sent_late' }): void;
  /**
   * What an audit run found about a reminder owed and not stored, and could not settle (each run
   * counts again what is still there): left to its running workflow (`late`), its workflow could
   * not be asked (`unanswered`), or the database refused it (`refused`).
   */
  auditFinding(labels: NotificationLabels & { finding: 'late' | 'unanswered' | 'refused' }): void;
}
