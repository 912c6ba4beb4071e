import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeCliPairs } from '../workflows/search-attributes.js';
import { temporalCliPath } from './tool-paths.js';

export interface DevServerOptions {
  port: number;
  /** Web UI port; no UI when unset. */
  uiPort?: number;
  /** SQLite file; in memory when unset. */
  dbFile?: string;
  /** `name=value` pragmas of that file (TEMPORAL_DEV_SQLITE_PRAGMAS). */
  sqlitePragmas?: string[];
  namespace: string;
  /** Where the server's own output goes. */
  logFile: string;
  /** e.g. `--dynamic-config-value KEY=VALUE`. */
  extraArgs?: string[];
}

export interface DevServer {
  address: string;
  stop(): Promise<void>;
}

/**
 * Runs the Temporal CLI dev server (installed by scripts/setup.sh) with the dossier workflow's
 * search attributes registered, and waits until its frontend answers. Used by `npm start` and
 * by the integration tests.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  await mkdir(dirname(options.logFile), { recursive: true });
  if (options.dbFile) await mkdir(dirname(options.dbFile), { recursive: true });
  const log = await open(options.logFile, 'a');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
  ];
  args.push(...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']));
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.dbFile) for (const pragma of options.sqlitePragmas ?? []) args.push('--sqlite-pragma', pragma);
  for (const pair of searchAttributeCliPairs()) args.push('--search-attribute', pair);
  args.push('--log-level', 'warn', ...(options.extraArgs ?? []));
  const child = spawn(temporalCliPath, args, { stdio: ['ignore', log.fd, log.fd] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => log.close());

  const address = `127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      await connection.close();
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`The Temporal dev server did not start (see ${options.logFile})`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    address,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
