import { databaseAnswers } from '../db/health.js';
import type { State as WorkerState } from '@temporalio/worker';
import type { Logger } from '../config/logger.js';
import type { Orm } from '../db/orm.js';
import { startProbeServer, type ProbeServer } from '../ops/probe-server.js';
import type { WorkerMetrics } from './metrics.js';

/** How long /healthz waits for PostgreSQL, and /metrics for the SDK's exporter. */
const CHECK_TIMEOUT_MS = 2000;

export interface WorkerHealthOptions {
  port: number;
  host?: string;
  /** The worker's state; undefined until it is created. */
  workerState: () => WorkerState | undefined;
  orm: Orm;
  metrics: WorkerMetrics;
  /** `host:port` of the Temporal SDK's Prometheus exporter, whose output /metrics includes. */
  sdkMetricsBind: string | undefined;
  logger: Logger;
}

export type WorkerHealthServer = ProbeServer;

/**
 * The worker's probe and scrape target (node:http):
 * - GET /healthz: 200 `{"status":"ok"}` when the worker is RUNNING and PostgreSQL answers,
 *   else 503 with the failing `checks` (a draining or failed worker, an unreachable database);
 * - GET /metrics: the Temporal SDK's metrics (`temporal_*`: task slots, poll and schedule-to-start
 *   latencies, activity failures…) followed by the service's own (`normx_notify_*`).
 */
export async function startWorkerHealthServer(options: WorkerHealthOptions): Promise<WorkerHealthServer> {
  const { metrics } = options;
  return startProbeServer({
    host: options.host ?? '0.0.0.0',
    port: options.port,
    logger: options.logger,
    routes: {
      '/healthz': async () => {
        const state = options.workerState() ?? 'STARTING';
        const postgres = await databaseAnswers(options.orm, CHECK_TIMEOUT_MS);
        const healthy = state === 'RUNNING' && postgres;
        return {
          status: healthy ? 200 : 503,
          body: JSON.stringify({ status: healthy ? 'ok' : 'degraded', checks: { worker: state, postgres } }),
          contentType: 'application/json',
        };
      },
      '/metrics': async () => {
        const [sdk, own] = await Promise.all([
          sdkMetrics(options.sdkMetricsBind),
          metrics.registry.metrics(),
        ]);
        return { status: 200, body: `${sdk}${own}`, contentType: metrics.registry.contentType };
      },
    },
  });
}

/** The SDK exporter's text; empty when it is off or does not answer. */
async function sdkMetrics(bind: string | undefined): Promise<string> {
  if (!bind) return '';
  // A wildcard bind address is reached on loopback.
  const address = bind.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  try {
    const response = await fetch(`http://${address}/metrics`, {
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
    const text = await response.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch {
    return '';
  }
}
