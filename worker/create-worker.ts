import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { AppConfig } from '../config/config.js';
import { createActivities, type ActivityDependencies } from '../activities/index.js';

type WorkerTuning = AppConfig['worker']['tuning'];

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** A worker serving every workflow and activity of the service on its task queue. */
export async function createNotifyWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dependencies: ActivityDependencies;
  /** AppConfig's worker.tuning (WORKER_* variables); the SDK's defaults where absent. */
  tuning?: Partial<WorkerTuning>;
}): Promise<Worker> {
  const {
    stickyQueueScheduleToStartTimeoutSeconds: sticky,
    maxCachedWorkflows,
    workflowThreadPoolSize,
    ...slots
  } = options.tuning ?? {};
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath,
    activities: createActivities(options.dependencies),
    shutdownGraceTime: '10 seconds',
    ...slots,
    ...(maxCachedWorkflows !== undefined && { maxCachedWorkflows }),
    ...(workflowThreadPoolSize !== undefined && { workflowThreadPoolSize }),
    ...(sticky !== undefined && { stickyQueueScheduleToStartTimeout: `${sticky} seconds` }),
  });
}
