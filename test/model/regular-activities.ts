/**
 * A workflow interceptor module for the model test's worker: the dossier workflow's local
 * activities run as regular activities (same arguments, the workflow's retry policy).
 *
 * Why: the model test's worker restarts need `maxCachedWorkflows: 0` (the time-skipping server
 * never hands a stopped worker's sticky tasks back: its ShutdownWorker is a no-op, it has no sticky
 * timeout and no ResetStickyTaskQueue), and with no cache the SDK's core drops a run's local
 * activities while they run, so its workflow task is never answered (docs/performance.md). The
 * model checks the rules, which do not depend on where an activity runs; the local path is
 * exercised by the other workflow tests, whose workers keep a cache.
 */
import { proxyActivities, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleLocalActivity: ({ activityType, args, options }) =>
        proxyActivities({
          startToCloseTimeout: '30 seconds',
          ...(options.retry && { retry: options.retry }),
        })[activityType]!(...args),
    },
  ],
});
