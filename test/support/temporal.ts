import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startTemporalDevServer } from '../../scripts/temporal-dev-server.js';
import { executableFor, temporalCliPath, temporalTestServerPath } from '../../scripts/tool-paths.js';
import { dossierSearchAttributes } from '../../workflows/search-attributes.js';
import { freePort } from './free-port.js';

export { freePort };

// Tests print the SDK's warnings and errors only (the worker's info lines are noise here).
Runtime.install({ logger: new DefaultLogger('WARN') });

/**
 * The time-skipping test server installed by `scripts/setup.sh` (SDK download as the fallback),
 * with the dossier workflow's search attributes registered: it rejects unknown ones.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await startTimeSkippingServer();
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      dossierSearchAttributes.map((key) => [
        key.name,
        proto.temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`],
      ]),
    ),
  });
  return env;
}

/**
 * The SDK gives the server 5 s to listen, which a loaded 2-core machine sometimes exceeds (CI saw
 * "did not start within 5s" once in a full run): that one failure is tried again, twice at most.
 */
async function startTimeSkippingServer(attempt = 1): Promise<TestWorkflowEnvironment> {
  try {
    return await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: executableFor(temporalTestServerPath) },
    });
  } catch (error) {
    if (attempt >= 3 || !/did not start within/.test((error as Error).message)) throw error;
    return startTimeSkippingServer(attempt + 1);
  }
}

/**
 * A Temporal CLI dev server on a free port, in memory, started by the same launcher as
 * `npm start` (the SDK's own launcher drops `extraArgs`), so with the same search attributes;
 * `extraArgs` e.g. for dynamic config.
 */
export async function createDevServerEnv(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  if (!existsSync(temporalCliPath)) {
    return TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        extraArgs,
        searchAttributes: [...dossierSearchAttributes],
      },
    });
  }
  const server = await startTemporalDevServer({
    port: await freePort(),
    namespace: 'default',
    logFile: `${tmpdir()}/normx-notify-test-dev-server-${process.pid}.log`,
    extraArgs,
  });
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: server.address,
    namespace: 'default',
  });
  const teardown = env.teardown.bind(env);
  return Object.assign(env, {
    teardown: async () => {
      await teardown();
      await server.stop();
    },
  });
}
