import type { Client } from '@temporalio/client';
import { databaseAnswers } from '../../db/health.js';
import type { Orm } from '../../db/orm.js';
import type { ProbeRoutes } from '../../ops/probe-server.js';
import type { NotificationHub } from '../hub/notification-hub.js';
import type { ServerMetrics } from '../metrics.js';

/** How long /healthz waits for PostgreSQL and Temporal before reporting them down. */
const HEALTH_CHECK_TIMEOUT_MS = 2_000;

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/**
 * The delivery server's internal port (SERVER_INTERNAL_HOST:SERVER_INTERNAL_PORT):
 * - GET /healthz: 200 when PostgreSQL, Temporal and LISTEN are up, else 503 with `checks`;
 * - GET /metrics: Prometheus text (connections, users online, frames, drops, auth failures…).
 */
export function opsRoutes(deps: {
  orm: Orm;
  temporal: Client;
  listenerConnected(): boolean;
  hub: NotificationHub;
  metrics: ServerMetrics;
}): ProbeRoutes {
  return {
    '/healthz': async () => {
      const checks = {
        postgres: await databaseAnswers(deps.orm, HEALTH_CHECK_TIMEOUT_MS),
        temporal: false,
        listen: deps.listenerConnected(),
      };
      // Bounded: an unreachable Temporal otherwise keeps the probe waiting on gRPC retries (~20 s).
      const client = deps.temporal;
      await withTimeout(
        client.withDeadline(Date.now() + HEALTH_CHECK_TIMEOUT_MS, () =>
          client.workflowService.getSystemInfo({}),
        ),
        HEALTH_CHECK_TIMEOUT_MS,
      )
        .then(() => (checks.temporal = true))
        .catch(() => undefined);
      const healthy = checks.postgres && checks.temporal && checks.listen;
      return {
        status: healthy ? 200 : 503,
        body: JSON.stringify({ status: healthy ? 'ok' : 'degraded', checks }),
        contentType: 'application/json',
      };
    },
    '/metrics': async () => {
      deps.metrics.usersOnline.set(deps.hub.usersOnline);
      return {
        status: 200,
        body: await deps.metrics.registry.metrics(),
        contentType: deps.metrics.registry.contentType,
      };
    },
  };
}
