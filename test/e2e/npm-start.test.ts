import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait.js';

/**
 * `npm start` as a newcomer runs it: the embedded PostgreSQL (PGlite, one session) and the
 * Temporal dev server, the worker and the delivery server in one process. The worker's start-up
 * migrated on a connection of its own, which PGlite refuses: the process exited 1 right after
 * "Worker health server listening". It must come up
 * healthy and stop cleanly on SIGTERM.
 */
it(
  'npm start (embedded PGlite and dev server) comes up healthy and stops on SIGTERM',
  { timeout: 180_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'normx-npm-start-'));
    const [health, server, internal, pglite, temporal, ui] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: '',
        TEMPORAL_ADDRESS: '',
        PGLITE_DATA_DIR: join(dir, 'pglite'),
        PGLITE_PORT: String(pglite),
        TEMPORAL_DEV_DB_FILE: join(dir, 'temporal.sqlite'),
        TEMPORAL_DEV_PORT: String(temporal),
        TEMPORAL_UI_PORT: String(ui),
        WORKER_INTERNAL_PORT: String(health),
        WORKER_METRICS_BIND: 'off',
        SERVER_HOST: '127.0.0.1',
        SERVER_PORT: String(server),
        SERVER_INTERNAL_HOST: '127.0.0.1',
        SERVER_INTERNAL_PORT: String(internal),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    let exit: number | null | undefined;
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => {
        exit = code;
        resolve(code);
      }),
    );
    try {
      await waitFor(
        'the worker healthy',
        async () => {
          if (exit !== undefined) throw new Error(`npm start exited ${exit}:\n${output}`);
          const reply = await fetch(`http://127.0.0.1:${health}/healthz`).catch(() => undefined);
          return reply?.status === 200;
        },
        { timeoutMs: 150_000, intervalMs: 250 },
      );
      const bell = await fetch(`http://127.0.0.1:${server}/`);
      assert.equal(bell.status, 200, 'the bell page is served');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
    } finally {
      // A failed run still stops it as a user would, so that it stops its dev server child;
      // SIGKILL only if it does not exit (it would leave the dev server running).
      if (exit === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    }
  },
);
