import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createDevServerEnv } from '../support/temporal.js';

/**
 * The Python client (clients/python/) against a real server, a Temporal dev server and a real
 * worker on PostgreSQL: its unittest suite runs in a subprocess with the server's URL, a service
 * token and a user's token in its environment, and must pass; and the package type-checks under
 * `mypy --strict`. The interpreter and httpx come from `.tools/python-client` (scripts/setup.sh).
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const tools = `${root}.tools/python-client`;
/** PYTHON_CLIENT_PYTHON: another interpreter with httpx (e.g. the oldest Python the package supports). */
const python =
  process.env.PYTHON_CLIENT_PYTHON ?? (existsSync(`${tools}/bin/python`) ? `${tools}/bin/python` : 'python3');
const pythonPath = [`${root}clients/python/src`, `${root}clients/python/tests`, `${tools}/site`].join(':');

interface Run {
  code: number | null;
  output: string;
}

/** Runs Python in the repository with the client on its path; stdout and stderr interleaved. */
function runPython(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      cwd: root,
      env: {
        ...process.env,
        PYTHONPATH: pythonPath,
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${python} could not start (run scripts/setup.sh): ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('Python client (clients/python) against a real server, Temporal dev server and worker', () => {
  let env: TestWorkflowEnvironment;
  let engine: ReminderEngine;
  let server: ServerHarness;

  before(async () => {
    env = await createDevServerEnv();
    engine = await startReminderEngine(env);
    server = await startServerHarness({
      db: engine.db,
      temporal: { client: engine.client, taskQueue: engine.taskQueue },
    });
  });
  after(async () => {
    await server?.close(); // first: it shares the engine's database
    await engine?.close();
    await env?.teardown();
  });

  it('type-checks under mypy --strict', async () => {
    const run = await runPython([
      '-m',
      'mypy',
      '--strict',
      '--cache-dir',
      `${tools}/mypy-cache`,
      'clients/python/src/normx_notify',
      'clients/python/tests',
    ]);
    assert.equal(run.code, 0, `mypy failed:\n${run.output}`);
  });

  it('passes its unittest suite: every call, retries with one event id, errors naming the field, async', async (t) => {
    const user = 'py-owner';
    const run = await runPython(['-m', 'unittest', 'discover', '-v', '-s', 'clients/python/tests'], {
      NORMX_NOTIFY_URL: server.url,
      NORMX_NOTIFY_TOKEN: await server.token('normx-backend', { service: true }),
      NORMX_NOTIFY_USER: user,
      NORMX_NOTIFY_USER_TOKEN: await server.token(user),
    });
    assert.equal(run.code, 0, `the Python tests failed (exit ${run.code}):\n${run.output}`);
    assert.match(run.output, /^OK$/m, run.output);
    assert.doesNotMatch(run.output, /skipped/, run.output);
    for (const line of run.output.split('\n').filter((text) => / \.\.\. |^Ran /.test(text)))
      t.diagnostic(line);
  });
});
