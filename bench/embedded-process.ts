import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configVariables, loadConfig } from '../config/config.js';
import { freePort } from '../support/free-port.js';
import { poll } from '../support/wait.js';
import { dieWithParent, recordDir, recordProcess } from './leftovers.js';
import { existsPid, signal, waitHealthy } from './process-probes.js';
import { benchTokens } from './bench-tokens.js';

/**
 * `npm start`'s process, run as a black box: `node --import tsx scripts/start.ts` (not `npm start`,
 * which runs the setup and the web build first) in a temp dir of its own: PGlite's data dir and the
 * Temporal dev server's SQLite file there, every port a free one on loopback, a JWT secret the
 * bench signs its tokens with, and only the settings given here (the shell's service settings do
 * not leak in). One Node process (PGlite, the worker, the delivery server) and its child, the
 * dev server. Stopped by SIGTERM, as a terminal would; whatever is left after the grace, SIGKILL
 * (the process group: the dev server too); the temp dir is removed (BENCH_KEEP=1 keeps it).
 * start.ts gets SIGTERM if the bench dies, and is in the leftovers registry (bench/leftovers.ts)
 * with its group, its dev server and the temp dir until they are gone.
 */

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface EmbeddedService {
  /** `http://127.0.0.1:<port>`: REST and sockets. */
  serverUrl: string;
  wsUrl: string;
  /** The worker's internal port (/healthz, /metrics with the SDK's metrics). */
  workerHealthUrl: string;
  /**
   * The dev server's frontend (`127.0.0.1:<TEMPORAL_DEV_PORT>`), its namespace and start.ts's task
   * queue: the client API and the histories of bench:latency and bench:create go there, as an
   * integrating backend's calls would.
   */
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  serviceToken: string;
  userToken(userId: string): Promise<string>;
  /** start.ts: PGlite, the worker and the delivery server. */
  pid: number;
  /** The Temporal CLI dev server, start.ts's child. */
  devServerPid: number;
  logFile: string;
  devServerLogFile: string;
  /** The dev server's command line, temp paths shown as $TMP and search attributes elided. */
  devServerCommandLine: string;
  /** Throws if start.ts or the dev server has exited. */
  assertAlive(): void;
  stop(): Promise<void>;
}

/** The pid of a child of `parent` whose command line contains `part`. */
export function childOf(parent: number, part: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(part)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Whether a process of group `pgid` is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts scripts/start.ts with `env` on top of the embedded defaults' paths and free ports; resolves
 * once the delivery server's and the worker's /healthz answer 200. On failure, stops what started.
 */
export async function startEmbedded(
  label: string,
  env: Record<string, string>,
  {
    readyTimeoutMs = 180_000,
    onStop,
  }: {
    readyTimeoutMs?: number;
    /** Gets `stop` before anything starts: a signal during the start can stop what started. */
    onStop?: (stop: () => Promise<void>) => void;
  } = {},
): Promise<EmbeddedService> {
  const tempDir = await mkdtemp(join(tmpdir(), `normx-bench-${label}-`));
  // Recorded at once: a bench killed before its stop is hooked leaves no dir the sweep misses.
  const forget = [process.env.BENCH_KEEP === '1' ? () => undefined : recordDir(tempDir)];
  const logFile = join(tempDir, 'start.log');
  const { secret, serviceToken, userToken } = await benchTokens();
  const [serverPort, serverInternal, workerInternal, workerMetrics, pglitePort, temporalPort, uiPort] =
    await Promise.all(Array.from({ length: 7 }, () => freePort()));
  const settings: Record<string, string> = {
    PGLITE_DATA_DIR: join(tempDir, 'pglite'),
    PGLITE_PORT: String(pglitePort),
    TEMPORAL_DEV_DB_FILE: join(tempDir, 'temporal.sqlite'),
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    JWT_HS256_SECRET: secret,
    SERVER_HOST: '127.0.0.1',
    SERVER_PORT: String(serverPort),
    SERVER_INTERNAL_HOST: '127.0.0.1',
    SERVER_INTERNAL_PORT: String(serverInternal),
    WORKER_INTERNAL_HOST: '127.0.0.1',
    WORKER_INTERNAL_PORT: String(workerInternal),
    WORKER_METRICS_BIND: `127.0.0.1:${workerMetrics}`,
    LOG_LEVEL: 'warn',
    // The bench's tabs stand for many browsers but all come from 127.0.0.1 (as in bench/stack.ts).
    WS_UPGRADES_PER_SECOND_PER_ADDRESS: '0',
    ...env,
  };
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !configVariables.includes(name)),
  );
  const log = await open(logFile, 'a');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let exit: string | undefined;
  let devServerPid = -1;
  let stopping: Promise<void> | undefined;

  // Once, however often asked (the signal handler and the run's `finally` both ask).
  const stop = (): Promise<void> => (stopping ??= stopOnce());
  const stopOnce = async (): Promise<void> => {
    const pid = child?.pid;
    if (pid !== undefined) {
      if (exit === undefined) {
        signal(pid, 'SIGTERM');
        const timer = setTimeout(() => signal(-pid, 'SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      // Anything of its group still there: the dev server if start.ts did not stop it (it exits
      // without stopping it when it fails to start).
      signal(-pid, 'SIGKILL');
      await poll(() => !groupAlive(pid) && (devServerPid < 0 || !existsPid(devServerPid)), {
        deadline: Date.now() + 10_000,
        intervalMs: 100,
        probeErrors: 'throw',
        onTimeout: () => true,
      });
    }
    await log.close().catch(() => undefined);
    if (process.env.BENCH_KEEP !== '1') await rm(tempDir, { recursive: true, force: true });
    for (const done of forget) done();
  };

  onStop?.(stop);
  try {
    child = spawn(...dieWithParent(process.execPath, ['--import', 'tsx', 'scripts/start.ts']), {
      cwd: repoRoot,
      env: { ...base, ...settings },
      stdio: ['ignore', log.fd, log.fd],
      // Its own process group: a Ctrl-C reaches the bench, which stops it, and a last SIGKILL to
      // the group reaches the dev server as well.
      detached: true,
    });
    const started = child;
    forget.push(recordProcess(started.pid, 'node --import tsx scripts/start.ts', { group: true }));
    exited = new Promise<void>((resolve) =>
      started.once('exit', (code, signalName) => {
        exit = String(signalName ?? code);
        resolve();
      }),
    );
    const alive = () => (exit !== undefined ? `exited (${exit}); see ${logFile}` : undefined);
    const deadline = Date.now() + readyTimeoutMs;
    // Its dev server, recorded on its own as soon as it runs: start.ts stopped during its own start
    // (SIGTERM when the bench dies) leaves it, and the sweep signals the group only while start.ts,
    // its leader, is the process recorded.
    let ready = false;
    const trackDevServer = (): boolean => {
      if (devServerPid >= 0) return true;
      devServerPid = childOf(started.pid!, 'start-dev') ?? -1;
      if (devServerPid >= 0) forget.push(recordProcess(devServerPid, 'temporal server start-dev (start.ts)'));
      return devServerPid >= 0;
    };
    void poll(() => trackDevServer() || ready || exit !== undefined, {
      deadline,
      intervalMs: 100,
      probeErrors: 'throw',
      onTimeout: () => true,
    });
    const serverUrl = `http://127.0.0.1:${serverPort}`;
    const workerHealthUrl = `http://127.0.0.1:${workerInternal}`;
    await waitHealthy(`http://127.0.0.1:${serverInternal}/healthz`, deadline, 'start.ts (server)', alive);
    await waitHealthy(`${workerHealthUrl}/healthz`, deadline, 'start.ts (worker)', alive);
    ready = true;
    if (!trackDevServer()) throw new Error('No dev server among the children of start.ts');
    const devServerCommandLine = readFileSync(`/proc/${devServerPid}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((part, index, all) => (all[index - 1] === '--search-attribute' ? '…' : part))
      .join(' ')
      .replace(/(--search-attribute … ?)+/g, '--search-attribute … ')
      .replace(/^\S*\/temporal /, 'temporal ')
      .replaceAll(tempDir, '$TMP');

    const devPid = devServerPid;
    // Read as start.ts reads them: only `settings` reach it (the shell's service settings do not).
    const childTemporal = loadConfig(settings).temporal;
    return {
      serverUrl,
      wsUrl: serverUrl.replace(/^http/, 'ws'),
      workerHealthUrl,
      temporalAddress: `127.0.0.1:${childTemporal.devServer.port}`,
      namespace: childTemporal.namespace,
      taskQueue: childTemporal.taskQueue,
      serviceToken,
      userToken,
      pid: started.pid!,
      devServerPid: devPid,
      logFile,
      devServerLogFile: join(tempDir, 'temporal-dev-server.log'),
      devServerCommandLine,
      assertAlive: () => {
        if (exit !== undefined) throw new Error(`start.ts exited (${exit}); see ${logFile}`);
        if (!existsPid(devPid)) throw new Error(`The dev server exited; see its log in ${tempDir}`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
