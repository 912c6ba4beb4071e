import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import type { AppConfig } from '../config/config.js';
import { temporalLogger, type Logger } from '../config/logger.js';
import { migrate, type Orm } from '../db/orm.js';
import { ensureSchedules } from '../client/schedules.js';
import { createNotifyWorker } from './create-worker.js';

/**
 * Runs the reminder engine on an open database: migrations, schedules, then the worker.
 * Resolves when the worker has stopped (SIGINT/SIGTERM make it drain and stop).
 */
export async function runWorkerService(
  config: AppConfig,
  orm: Orm,
  temporalAddress: string,
  logger: Logger,
): Promise<void> {
  Runtime.install({ logger: temporalLogger(logger.child({ component: 'temporal' })) });
  await migrate(orm);
  logger.info('Database migrated');
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  await ensureSchedules(client, { taskQueue: config.temporal.taskQueue, ...config.schedules });
  logger.info({ timeZone: config.schedules.timeZone }, 'Schedules up to date');

  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const worker = await createNotifyWorker({
    connection: workerConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dependencies: { orm, temporal: { client, taskQueue: config.temporal.taskQueue }, config },
  });
  logger.info({ taskQueue: config.temporal.taskQueue }, 'Worker running');
  try {
    await worker.run();
  } finally {
    await workerConnection.close();
    await connection.close();
  }
}
