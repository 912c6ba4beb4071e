import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { executableFor, temporalCliPath, temporalTestServerPath } from '../../scripts/tool-paths.js';

// Tests print the SDK's warnings and errors only (the worker's info lines are noise here).
Runtime.install({ logger: new DefaultLogger('WARN') });

/** The time-skipping test server installed by `scripts/setup.sh` (SDK download as the fallback). */
export const createTimeSkippingEnv = (): Promise<TestWorkflowEnvironment> =>
  TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: executableFor(temporalTestServerPath) },
  });

/** A Temporal CLI dev server on a free port, in memory. */
export const createDevServerEnv = (): Promise<TestWorkflowEnvironment> =>
  TestWorkflowEnvironment.createLocal({
    server: {
      executable: executableFor(temporalCliPath),
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
    },
  });
