import { createServer, type Server } from 'node:http';
import { databaseAnswers } from '../db/health.js';
import type { AddressInfo } from 'node:net';
import type { State as WorkerState } from '@temporalio/worker';
import type { Logger } from '../config/logger.js';
import type { Orm } from '../db/orm.js';
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

export interface WorkerHealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's probe and scrape target (node:http):
 * - GET /healthz: 200 `{"status":"ok"}` when the worker is RUNNING and PostgreSQL answers,
 *   else 503 with the failing `checks` (a draining or failed worker, an unreachable database);
 * - GET /metrics: the Temporal SDK's metrics (`temporal_*`: task slots, poll and schedule-to-start
 *   latencies, activity failures…) followed by the service's own (`normx_notify_*`).
 */
export async function startWorkerHealthServer(options: WorkerHealthOptions): Promise<WorkerHealthServer> {
  const { metrics, logger } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, contentType: string): void => {
      response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(body);
    };
    const handle = async (): Promise<void> => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return reply(405, JSON.stringify({ error: 'method not allowed' }), 'application/json');
      }
      if (path === '/healthz') {
        const state = options.workerState() ?? 'STARTING';
        const postgres = await databaseAnswers(options.orm, CHECK_TIMEOUT_MS);
        const healthy = state === 'RUNNING' && postgres;
        return reply(
          healthy ? 200 : 503,
          JSON.stringify({ status: healthy ? 'ok' : 'degraded', checks: { worker: state, postgres } }),
          'application/json',
        );
      }
      if (path === '/metrics') {
        const [sdk, own] = await Promise.all([
          sdkMetrics(options.sdkMetricsBind),
          metrics.registry.metrics(),
        ]);
        return reply(200, `${sdk}${own}`, metrics.registry.contentType);
      }
      return reply(404, JSON.stringify({ error: 'not found' }), 'application/json');
    };
    handle().catch((error: unknown) => {
      logger.error({ err: error, path }, 'Health server request failed');
      if (!response.headersSent) reply(500, JSON.stringify({ error: 'internal error' }), 'application/json');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
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
