import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envPositiveInt as envInt } from './env.js';
import { openFileLimits } from './proc.js';
import { benchReportDir } from './report.js';
import { DEFAULT_SERVERS, SERVER_KINDS, type ClientMode, type ServerKind } from './shared.js';

/** The settings of `npm run bench` (BENCH_*, see bench/README.md), checked, and the servers under test. */

export const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export const params = {
  connections: envInt('BENCH_CONNECTIONS', 10_000),
  users: envInt('BENCH_USERS', 2_500),
  notifications: envInt('BENCH_NOTIFICATIONS', 20_000),
  rounds: envInt('BENCH_ROUNDS', 5),
  warmupRounds: process.env.BENCH_WARMUP_ROUNDS === '0' ? 0 : envInt('BENCH_WARMUP_ROUNDS', 2),
  clientProcesses: envInt('BENCH_CLIENT_PROCESSES', 2),
  /** One scenario per value: notifications published per event-loop turn. */
  batches: (process.env.BENCH_BATCHES ?? '').split(',').filter(Boolean).map(Number),
  connectConcurrency: envInt('BENCH_CONNECT_CONCURRENCY', 100),
  roundTimeoutMs: envInt('BENCH_ROUND_TIMEOUT_MS', 60_000),
  clientMode: (process.env.BENCH_CLIENT ?? 'raw') as ClientMode,
  servers: (process.env.BENCH_SERVERS ?? DEFAULT_SERVERS.join(',')).split(',').map((kind) => kind.trim()),
  /** `-`: no file; default docs/bench/push.md (BENCH_OUTPUT_DIR/push.md when set), its chart beside it. */
  output: process.env.BENCH_OUTPUT ?? join(benchReportDir(), 'push.md'),
  /** A measured round during which other processes kept more cores busy than this is run again (3 times at most). */
  maxOtherLoad: Number(process.env.BENCH_MAX_OTHER_LOAD ?? 0.15),
  profile: process.env.BENCH_PROFILE === '1',
};
if (params.clientMode !== 'raw' && params.clientMode !== 'lib')
  throw new Error('BENCH_CLIENT must be raw or lib');
for (const kind of params.servers) {
  if (!SERVER_KINDS.includes(kind as ServerKind)) throw new Error(`BENCH_SERVERS: unknown server ${kind}`);
}
if (params.users > params.connections) throw new Error('BENCH_USERS must not exceed BENCH_CONNECTIONS');
// Sparse: fewer notifications per turn than users, so no socket gets two frames in one turn.
// Burst: the whole round in one turn, every socket gets all its frames of the round at once.
if (params.batches.length === 0) params.batches = [Math.min(1_000, params.users), params.notifications];
for (const batch of params.batches) {
  if (!Number.isInteger(batch) || batch < 1)
    throw new Error('BENCH_BATCHES: positive integers, comma-separated');
}
export const scenarioOf = (batch: number): string =>
  batch >= params.notifications
    ? `burst: the whole round in one event-loop turn (${(params.notifications / params.users).toFixed(0)} frames per socket per turn)`
    : batch <= params.users
      ? `sparse: ${batch.toLocaleString('en-US')} notifications per event-loop turn (at most one frame per socket per turn)`
      : `${batch.toLocaleString('en-US')} notifications per event-loop turn`;

export const serverEntry: Record<ServerKind, string> = {
  ours: here('server-ours.ts'),
  ws: here('server-ws.ts'),
  'socket.io': here('server-socketio.ts'),
  uws: here('server-uws.ts'),
};
export const labelOf = (kind: ServerKind): string =>
  kind === 'uws' ? `uws-${process.env.BENCH_UWS_FANOUT || 'publish'} (reference)` : kind;

export function checkFileLimit(): void {
  const limit = openFileLimits().soft;
  const needed = params.connections + 200;
  if (limit < needed) {
    throw new Error(
      `The open-file limit (${limit}) is too low for ${params.connections} connections in one server ` +
        `process: raise it first (ulimit -n ${needed}) or lower BENCH_CONNECTIONS.`,
    );
  }
}
