import { benchAdminUrl } from './env.js';

/**
 * What the benchmark's processes share: the servers under test, the IPC messages between the
 * parent (`run.ts`), the server children and the load-generator children, and the notification
 * every server pushes.
 */

/** `uws` is a reference (bare uWebSockets.js, the floor of what we build on), not a product. */
export type ServerKind = 'ours' | 'ws' | 'socket.io' | 'uws';
export const SERVER_KINDS: readonly ServerKind[] = ['ours', 'ws', 'socket.io', 'uws'];
export const DEFAULT_SERVERS: readonly ServerKind[] = SERVER_KINDS;

/** `raw`: a minimal WebSocket / Engine.IO client on net.Socket; `lib`: the `ws` and `socket.io-client` packages. */
export type ClientMode = 'raw' | 'lib';

/** The HS256 secret every server under test verifies the clients' tokens with. */
export const BENCH_SECRET = 'test-secret-of-at-least-32-bytes-long!!';

/**
 * Output piped into a reader that leaves (`npm run bench | head`) must not crash a process
 * before it has cleaned up: write errors on stdout and stderr are ignored.
 */
export function ignoreBrokenOutput(): void {
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

/** The push bench, like `npm test`, creates its database on TEST_DATABASE_ADMIN_URL's server. */
export const pushAdminUrl = benchAdminUrl('TEST_DATABASE_ADMIN_URL');
/** What our server's child names its database: `<prefix>_<pid>_…`. */
export const OURS_DATABASE_PREFIX = 'normx_notify_bench';

export const userIdOf = (index: number): string => `bench-user-${index}`;

/** Connection `i` belongs to user `i % users`; notification `k` of a round goes to user `k % users`. */
export const notificationsForUser = (userIndex: number, users: number, count: number): number =>
  Math.floor(count / users) + (userIndex < count % users ? 1 : 0);

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/**
 * One notification as the database's `notification_wire` would serialize it, built once per
 * notification. `data.sentAt` is the publish instant: clients read it back for the latency.
 */
export function notificationJson(userId: string, id: number, sentAt: number): string {
  return (
    `{"id":"${id}","userId":"${userId}","type":"new_alert","kind":"urgent","dossierId":"D-2026-0042",` +
    `"title":"Dossier D-2026-0042 is urgent","body":"Bilan 2026 SARL Dupont needs attention today.",` +
    `"data":{"sentAt":${sentAt.toFixed(3)}},"createdAt":"${new Date(sentAt).toISOString()}","readAt":null}`
  );
}

/** Parent → server child. */
export type ServerCommand =
  | { cmd: 'publish'; users: number; count: number; batch: number }
  | { cmd: 'stats' }
  | { cmd: 'profile'; action: 'start' }
  | { cmd: 'profile'; action: 'stop'; file: string }
  | { cmd: 'stop' };

export interface ServerStats {
  rssBytes: number;
  /** VmHWM: the highest RSS of the process so far. */
  peakRssBytes: number;
  heapUsedBytes: number;
  /** CPU time (user + system) since the last `publish` started, in microseconds. */
  cpuMicrosSincePublish: number;
  /** Of which in the kernel (system time: mostly the sockets' write syscalls). */
  systemCpuMicrosSincePublish: number;
  usersOnline: number;
}

/** Server child → parent. */
export type ServerEvent =
  | { ev: 'ready'; port: number }
  | { ev: 'published'; firstAt: number; lastAt: number }
  | ({ ev: 'stats' } & ServerStats)
  | { ev: 'profiling' }
  | { ev: 'profiled'; file: string }
  | { ev: 'stopped' }
  | { ev: 'failed'; message: string };

/** Parent → client child. */
export type ClientCommand =
  | {
      cmd: 'connect';
      kind: ServerKind;
      mode: ClientMode;
      port: number;
      /** This child opens connections `index`, `index + of`, `index + 2·of`, … below `connections`. */
      index: number;
      of: number;
      connections: number;
      users: number;
      concurrency: number;
    }
  | { cmd: 'arm'; count: number }
  | { cmd: 'report' }
  | { cmd: 'close' };

export interface RoundReport {
  received: number;
  expected: number;
  /** Wall clock of the last notification frame received. */
  lastAt: number;
  /** Delivery latency of each frame received, in ms (arrival wall clock − `data.sentAt`). */
  latencies: Float64Array;
  cpuMicros: number;
  /** Sockets that closed while the round ran (a server cutting slow consumers, for example). */
  closedSockets: number;
}

/** Client child → parent. */
export type ClientEvent =
  | {
      ev: 'connected';
      open: number;
      /** Connections that failed three times. */
      failed: number;
      /** Attempts that failed and were tried again. */
      retried: number;
      firstError: string | undefined;
      ms: number;
    }
  | { ev: 'armed'; expected: number }
  | ({ ev: 'done' } & RoundReport)
  | ({ ev: 'partial' } & RoundReport)
  | { ev: 'closed' }
  | { ev: 'failed'; message: string };
