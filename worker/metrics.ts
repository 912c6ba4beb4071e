import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryMetrics, RetentionMetrics } from '../activities/dependencies.js';

/**
 * The worker's own Prometheus metrics, served at GET /metrics of its health server next to the
 * Temporal SDK's (`temporal_*`, from the Runtime's Prometheus exporter).
 */
export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'normx_notify_worker_' });
  const stored = new Counter({
    name: 'normx_notify_notifications_stored_total',
    help: 'Notifications stored and announced (NOTIFY) for the first time, by type and kind',
    labelNames: ['type', 'kind'] as const,
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'normx_notify_notifications_duplicates_skipped_total',
    help: 'Notifications already stored under their idempotency key (retries, replays, second runs): skipped',
    labelNames: ['type', 'kind'] as const,
    registers: [registry],
  });
  const reminderLateness = new Histogram({
    name: 'normx_notify_reminder_lateness_seconds',
    help: "From a reminder's planned instant to its storage: timer, worker availability and retries",
    labelNames: ['kind'] as const,
    buckets: [0.5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400],
    registers: [registry],
  });
  const missed = new Counter({
    name: 'normx_notify_reminders_missed_total',
    help: 'Reminders that reached their user past their grace, each counted once: stored late by their workflow (sent_late) or restored by the hourly audit (restored)',
    labelNames: ['type', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const auditFindings = new Counter({
    name: 'normx_notify_reminder_audit_findings_total',
    help: 'Reminders owed and not stored that an audit run could not settle, counted at each run: left to their running workflow (late), workflow not answering (unanswered), refused by the database (refused)',
    labelNames: ['type', 'kind', 'finding'] as const,
    registers: [registry],
  });
  const removed = new Counter({
    name: 'normx_notify_notifications_removed_total',
    help: 'Notifications removed by the daily retention (older than NOTIFICATION_RETENTION), read or unread',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  // Both series from the start: a dashboard shows 0, not "no data", before the first removal.
  for (const state of ['read', 'unread']) removed.inc({ state }, 0);
  const delivery: DeliveryMetrics = {
    stored(labels, lateMs) {
      stored.inc(labels);
      if (lateMs !== undefined) reminderLateness.observe({ kind: labels.kind }, Math.max(0, lateMs) / 1000);
    },
    duplicateSkipped(labels) {
      duplicates.inc(labels);
    },
    reminderMissed(labels) {
      missed.inc(labels);
    },
    auditFinding(labels) {
      auditFindings.inc(labels);
    },
  };
  const retention: RetentionMetrics = {
    removed({ read, unread }) {
      if (read > 0) removed.inc({ state: 'read' }, read);
      if (unread > 0) removed.inc({ state: 'unread' }, unread);
    },
  };
  return { registry, delivery, retention };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
