import { Client, Connection } from '@temporalio/client';
import { createDossierClient, type DossierClient } from '../client/dossier-client.js';
import { cpuNote, devServerParameters, fixed } from './bench-util.js';
import { EMBEDDED_COMPONENTS, EMBEDDED_LABELS, startEmbeddedCpuMeter } from './embedded-meter.js';
import { startEmbedded } from './embedded-process.js';
import { listOwnersNotifications } from './embedded-rest.js';
import { connectOwners } from './owners.js';
import { summarizeLog, type LogSummary } from './stack-logs.js';
import { startCpuMeter, startStack } from './stack.js';

/**
 * BENCH_STACK: which stack bench:latency and bench:create drive. `separate` (default): every piece
 * a process of its own on the machine's PostgreSQL (bench/stack.ts). `embedded`: `npm start`'s own
 * process (bench/embedded-process.ts), reached from outside only, as bench:herd-embedded reaches it.
 * `DrivenStack` is what those two runs use of either: REST, sockets, the client API and the
 * histories on the stack's Temporal, the `created` notices, the CPU of its processes.
 */

export type StackKind = 'separate' | 'embedded';

export function stackKindFromEnv(): StackKind {
  const raw = process.env.BENCH_STACK || 'separate';
  if (raw !== 'separate' && raw !== 'embedded')
    throw new Error(`BENCH_STACK must be separate or embedded (got ${raw})`);
  return raw;
}

/** How each stack is run and observed, for a report's method. */
export const STACK_METHODS: Record<StackKind, string> = {
  separate:
    'Every piece a separate process on loopback: the Temporal CLI dev server started by `startTemporalDevServer` ' +
    "(as `npm start` starts it, headless), a fresh database on the machine's PostgreSQL, the production worker (`worker/main.ts`) " +
    "and delivery server (`server/main.ts`); rows are read with the bench's own connection (not counted as the service's CPU).",
  embedded:
    "`npm start`'s embedded default, `node --import tsx scripts/start.ts` as a child (`npm start` would run the setup " +
    'and the web build first) in a temp dir of its own: one Node process with PGlite (one session), the worker and the delivery ' +
    "server (no LISTEN on PGlite: the worker wakes the server's feed in process for each notification it stores, and the feed reads every online user's new rows every 250 ms too), and its child the Temporal CLI dev server on an " +
    'SQLite file; free ports, a JWT secret the bench signs with. The bench reaches it from outside only: REST with the service ' +
    "token, sockets with the owners' tokens, the client API and the histories on the dev server's port; rows through each " +
    "owner's `GET /api/v1/users/me/notifications` (the bench opens no connection to PGlite, whose one session is the service's). " +
    'CPU: the start.ts process (also by thread) and the dev server with its children.',
};

/** CPU of the stack's processes over a window. */
export interface StackCpu {
  seconds: number;
  /** CPU seconds by component (the keys of `DrivenStack.components`). */
  cpu: Record<string, number>;
  machine: { busy: number; others: number; cores: number };
  /** One sentence: where the window's CPU went, per `unit`. */
  note(units: number, unit: string): string;
}

export interface DrivenStack {
  kind: StackKind;
  serverUrl: string;
  wsUrl: string;
  serviceToken: string;
  userToken(userId: string): Promise<string>;
  /** The CPU columns, in order: each component's key in `StackCpu.cpu` and its short label. */
  components: ReadonlyArray<{ key: string; label: string }>;
  /** A Temporal client of the bench's own on the stack's Temporal, and the client API on it. */
  temporal(): Promise<{ client: Client; dossiers: DossierClient }>;
  /** The `created` notices of `owners` stored so far, with their `created_at` (epoch ms). */
  createdNotices(owners: string[]): Promise<Array<{ dossierId: string; at: number }>>;
  /**
   * Counts the `created` notices of `owners` as they are stored, to wait on while a run goes on:
   * the separate stack's database; on the embedded one, frames on one tab per owner (opened
   * now), since polling the owners' lists would take PGlite's one session from what is measured.
   */
  watchCreated(owners: string[]): Promise<{ count(): Promise<number>; close(): Promise<void> }>;
  startCpuMeter(): Promise<{ stop(): Promise<StackCpu> }>;
  /** Throws if a process of the stack has exited. */
  assertAlive(): void;
  logSummary(): Promise<LogSummary[]>;
  /** The stack's parameters, for a report. */
  parameters: Record<string, string>;
  stop(): Promise<void>;
}

export interface DrivenStackOptions {
  kind: StackKind;
  label: string;
  /** The worker's environment (its process, or start.ts's on the embedded stack). */
  workerEnv: Record<string, string>;
  /** The separate stack's dev server (the embedded one runs npm start's). */
  devServer: { storage: 'file' | 'memory'; extraArgs: string[] };
  /** Gets `stop` as early as it exists: a signal during the start stops what started. */
  onStop: (stop: () => Promise<void>) => void;
}

/** The CPU columns of each stack, in order: each component's key in `StackCpu.cpu` and its short label. */
export const STACK_COMPONENTS: Record<StackKind, ReadonlyArray<{ key: string; label: string }>> = {
  separate: [
    { key: 'devServer', label: 'dev server' },
    { key: 'worker', label: 'worker' },
    { key: 'server', label: 'server' },
    { key: 'postgres', label: 'PostgreSQL' },
    { key: 'bench', label: 'bench' },
  ],
  embedded: [
    { key: 'start', label: 'start.ts' },
    { key: 'devServer', label: 'dev server' },
    { key: 'bench', label: 'bench' },
  ],
};

/** Starts the stack of `kind`; on failure, stops what started. */
export async function startDrivenStack(options: DrivenStackOptions): Promise<DrivenStack> {
  return options.kind === 'embedded' ? startEmbeddedStack(options) : startSeparateStack(options);
}

/**
 * The client API and the histories on the stack's Temporal (`where`, read at the first use), on
 * one connection opened then.
 */
function temporalOn(where: () => { address: string; namespace: string; taskQueue: string }) {
  let opened: Promise<{ connection: Connection; client: Client; dossiers: DossierClient }> | undefined;
  return {
    get: async () => {
      const { address, namespace, taskQueue } = where();
      opened ??= Connection.connect({ address }).then((connection) => {
        const client = new Client({ connection, namespace });
        return { connection, client, dossiers: createDossierClient(client, { taskQueue }) };
      });
      const { client, dossiers } = await opened;
      return { client, dossiers };
    },
    close: async () => {
      await (await opened?.catch(() => undefined))?.connection.close().catch(() => undefined);
    },
  };
}

async function startSeparateStack(options: DrivenStackOptions): Promise<DrivenStack> {
  // The caller's signal handler gets the stop before the start (startStack's `onStop`): a signal
  // while the stack starts then waits for what started to stop, instead of exiting past it.
  let stopStack: (() => Promise<void>) | undefined;
  // Read once the stack has started: the client is opened at its first use, after.
  const temporal = temporalOn(() => ({
    address: stack.temporalAddress,
    namespace: stack.namespace,
    taskQueue: stack.taskQueue,
  }));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await temporal.close();
      await stopStack?.();
    })());
  options.onStop(stop);
  const stack = await startStack({
    label: options.label,
    devServer: options.devServer,
    workerEnv: options.workerEnv,
    onStop: (given) => (stopStack = given),
  });
  const created = async (owners: string[]) =>
    stack.query<{ dossierId: string; at: number }>(
      `select dossier_id as "dossierId", extract(epoch from created_at)::float8 * 1000 as at
         from notifications where kind = 'created' and user_id = any($1)`,
      [owners],
    );
  return {
    kind: 'separate',
    serverUrl: stack.serverUrl,
    wsUrl: stack.wsUrl,
    serviceToken: stack.serviceToken,
    userToken: stack.userToken,
    components: STACK_COMPONENTS.separate,
    temporal: temporal.get,
    createdNotices: created,
    watchCreated: (owners) =>
      Promise.resolve({
        count: async () =>
          Number(
            (
              await stack.query<{ count: string }>(
                `select count(*) as count from notifications where kind = 'created' and user_id = any($1)`,
                [owners],
              )
            )[0]!.count,
          ),
        close: () => Promise.resolve(),
      }),
    startCpuMeter: async () => {
      const meter = await startCpuMeter(stack);
      return {
        stop: async () => {
          const window = await meter.stop();
          return { ...window, note: (units, unit) => cpuNote(window, units, unit) };
        },
      };
    },
    assertAlive: () => stack.assertAlive(),
    logSummary: () => stack.logSummary(),
    parameters: {
      processes: "dev server, worker, delivery server, each its own; the machine's PostgreSQL",
      ...devServerParameters(stack.devServerFacts),
    },
    stop,
  };
}

async function startEmbeddedStack(options: DrivenStackOptions): Promise<DrivenStack> {
  // start.ts runs npm start's dev server and its own Node flags: settings that change them would
  // measure something else than the embedded default, so they are refused rather than ignored.
  const inapplicable = ['BENCH_DEV_SERVER_STORAGE', 'BENCH_DEV_SERVER_ARGS', 'BENCH_WORKER_NODE_ARGS'].filter(
    (name) => process.env[name],
  );
  if (inapplicable.length > 0)
    throw new Error(
      `BENCH_STACK=embedded runs npm start's process as it is: ${inapplicable.join(', ')} do not apply`,
    );
  // Read once the service has started: the client is opened at its first use, after.
  const temporal = temporalOn(() => ({
    address: service.temporalAddress,
    namespace: service.namespace,
    taskQueue: service.taskQueue,
  }));
  let stopService: (() => Promise<void>) | undefined;
  // Not memoized here: the service's own stop is once only, and the client's close harmless twice.
  const stop = async () => {
    await temporal.close();
    await stopService?.();
  };
  options.onStop(stop);
  const service = await startEmbedded(
    options.label,
    {
      ...options.workerEnv,
      ...(process.env.TEMPORAL_DEV_SQLITE_PRAGMAS !== undefined && {
        TEMPORAL_DEV_SQLITE_PRAGMAS: process.env.TEMPORAL_DEV_SQLITE_PRAGMAS,
      }),
    },
    { onStop: (given) => (stopService = given) },
  );
  return {
    kind: 'embedded',
    serverUrl: service.serverUrl,
    wsUrl: service.wsUrl,
    serviceToken: service.serviceToken,
    userToken: service.userToken,
    components: STACK_COMPONENTS.embedded,
    temporal: temporal.get,
    createdNotices: async (owners) =>
      (await listOwnersNotifications(service, owners)).items
        .filter((item) => item.kind === 'created')
        .map((item) => ({ dossierId: item.dossierId ?? '', at: Date.parse(item.createdAt) })),
    watchCreated: async (owners) => {
      const created = new Set<string>();
      const sockets = await connectOwners(service, owners, (notification) => {
        if (notification.kind === 'created') created.add(notification.dossierId ?? '');
      });
      return { count: () => Promise.resolve(created.size), close: () => sockets.close() };
    },
    startCpuMeter: () => {
      const meter = startEmbeddedCpuMeter({ start: service.pid, devServer: service.devServerPid });
      return Promise.resolve({
        stop: async () => {
          const window = await meter.stop();
          const note = (units: number, unit: string) => {
            const per = (seconds: number) => fixed((seconds / units) * 1000, 2);
            const threads = Object.entries(window.threads)
              .filter(([, seconds]) => seconds >= 0.05)
              .sort((a, b) => b[1] - a[1])
              .map(([name, seconds]) => `${name} ${fixed(seconds, 1)} s`)
              .join(', ');
            return (
              `CPU over the ${fixed(window.seconds, 1)} s window: ` +
              EMBEDDED_COMPONENTS.map(
                (c) =>
                  `${EMBEDDED_LABELS[c]} ${fixed(window.cpu[c], 1)} s (${per(window.cpu[c])} ms per ${unit})`,
              ).join(', ') +
              `; start.ts by thread: ${threads || 'none'}; the machine was busy ${fixed(window.machine.busy, 1)} of ` +
              `${fixed(window.seconds * window.machine.cores, 1)} core-seconds, ${fixed(window.machine.others, 1)} s of it other processes; ` +
              'peak RSS: ' +
              EMBEDDED_COMPONENTS.filter((c) => window.peakRss[c] !== undefined)
                .map((c) => `${EMBEDDED_LABELS[c]} ${fixed(window.peakRss[c]!, 0)} MiB`)
                .join(', ')
            );
          };
          return { ...window, note };
        },
      });
    },
    assertAlive: () => service.assertAlive(),
    logSummary: async () => [
      { ...(await summarizeLog('server', service.logFile)), name: 'start.ts' },
      await summarizeLog('devServer', service.devServerLogFile),
    ],
    parameters: {
      processes: "npm start's scripts/start.ts (PGlite, worker, delivery server) and its dev server",
      'dev server command': `\`${service.devServerCommandLine}\``,
    },
    stop,
  };
}
