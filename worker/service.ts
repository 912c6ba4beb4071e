import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { AppConfig } from '../config/config.js';
import { temporalLogger, type Logger } from '../config/logger.js';
import { migrate, type Orm } from '../db/orm.js';
import { ensureSchedules } from '../client/schedules.js';
import { createNotifyWorker } from './create-worker.js';
import { startWorkerHealthServer } from './health.js';
import { createWorkerMetrics } from './metrics.js';

/**
 * Runs the reminder engine on an open database: the health server (GET /healthz, /metrics),
 * migrations, schedules, then the worker. Resolves when the worker has stopped (SIGINT/SIGTERM
 * make it drain and stop). The SDK's logs, native ones included, go through the JSON logger;
 * its metrics go to a Prometheus exporter on WORKER_METRICS_BIND.
 */
export async function runWorkerService(
  config: AppConfig,
  orm: Orm,
  temporalAddress: string,
  logger: Logger,
  /**
   * `sharedConnection`: the pool is one session (PGlite under `npm start`): migrate on it.
   * `announced`: told each user a notification was just committed for (npm start's in-process
   * announce to its polling delivery server; activities/dependencies.ts).
   */
  {
    sharedConnection = false,
    announced,
  }: { sharedConnection?: boolean; announced?: (userId: string) => void } = {},
): Promise<void> {
  const { metricsBind, internal } = config.worker;
  for (const { name, use } of config.deprecatedSettings) {
    logger.warn({ setting: name, use }, `${name} is deprecated: set ${use} instead`);
  }
  Runtime.install({
    logger: temporalLogger(logger.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsBind && { metrics: { prometheus: { bindAddress: metricsBind } } }),
    },
  });
  const metrics = createWorkerMetrics();
  let worker: Worker | undefined;
  const health = await startWorkerHealthServer({
    host: internal.host,
    port: internal.port,
    workerState: () => worker?.getState(),
    orm,
    metrics,
    sdkMetricsBind: metricsBind,
    logger,
  });
  logger.info({ port: health.port, sdkMetrics: metricsBind ?? 'off' }, 'Worker health server listening');
  try {
    await migrate(orm, { sharedConnection });
    logger.info('Database migrated');
    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    await ensureSchedules(client, { taskQueue: config.temporal.taskQueue, ...config.schedules });
    logger.info({ timeZone: config.schedules.timeZone }, 'Schedules up to date');

    const workerConnection = await NativeConnection.connect({ address: temporalAddress });
    worker = await createNotifyWorker({
      connection: workerConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      dependencies: {
        orm,
        temporal: { client, taskQueue: config.temporal.taskQueue },
        config,
        metrics: metrics.delivery,
        retentionMetrics: metrics.retention,
        ...(announced && { announced }),
      },
      tuning: config.worker.tuning,
    });
    logger.info({ taskQueue: config.temporal.taskQueue }, 'Worker running');
    try {
      await worker.run();
    } finally {
      await workerConnection.close();
      await connection.close();
    }
    logger.info('Worker stopped');
  } finally {
    await health.close();
  }
}
