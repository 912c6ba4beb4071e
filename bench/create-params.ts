import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { devServerOptionsFromEnv, workerEnvFromEnv } from './bench-util.js';
import { envInt, envPositiveInt } from './env.js';
import { stackKindFromEnv, type StackCpu } from './stack-choice.js';
import { middayZone, progress as progressOf, type LogSummary } from './stack.js';

/** The settings of `npm run bench:create` (BENCH_CREATE_*), its modes, and what one mode's run yields. */

export const log = progressOf('create');
export const n = envPositiveInt('BENCH_CREATE', 2000);
export const concurrency = envPositiveInt('BENCH_CREATE_CONCURRENCY', 64);
export const bulkSize = envPositiveInt('BENCH_CREATE_BULK_SIZE', 100);
export const bulkConcurrency = envPositiveInt('BENCH_CREATE_BULK_CONCURRENCY', 4);
export const timeoutMs = envInt('BENCH_CREATE_TIMEOUT_S', Math.max(120, Math.ceil(n * 0.25))) * 1000;
export const devServer = devServerOptionsFromEnv();
export const extraWorkerEnv = workerEnvFromEnv();
export const zone = process.env.BENCH_TIMEZONE ?? middayZone();
export const owners = Math.max(1, Math.ceil(n / 10));
/** BENCH_STACK: `separate` (default) or `embedded`, npm start's own process (bench/stack-choice.ts). */
export const stackKind = stackKindFromEnv();
export const TARGET_PER_SECOND = 200;

export type Mode = 'rest' | 'client' | 'rest-bulk' | 'client-bulk';
export const MODE_LABELS: Record<Mode, string> = {
  rest: 'REST POST /api/v1/dossiers',
  client: 'client API create',
  'rest-bulk': `REST POST /api/v1/dossiers/bulk (${bulkSize} a request)`,
  'client-bulk': `client API createMany (${bulkSize} a call)`,
};

const source = (path: string) => {
  try {
    return readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');
  } catch {
    return '';
  }
};
export const hasRestBulk = source('server/http/rest-routes.ts').includes('/api/v1/dossiers/bulk');
export const hasClientBulk = /\bcreateMany\b/.test(source('client/dossier-client.ts'));

export interface DossierBody {
  id: string;
  title: string;
  ownerId: string;
  dueDate: string;
}

export interface ModeResult {
  mode: Mode;
  quiet: string;
  calls: number;
  callMs: number[];
  errors: number;
  firstError: string | undefined;
  acceptedMs: number[];
  storedMs: number[];
  acceptedRate: number;
  storedRate: number;
  /** From the 10th to the 90th percentile of the stored rows. */
  steadyStoredRate: number;
  cpu: StackCpu;
  logs: LogSummary[];
  /** The stack's parameters, for the report. */
  stackParameters: Record<string, string>;
}
