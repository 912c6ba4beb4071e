import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the Schemathesis CLI that `scripts/setup.sh` installs from PyPI into the git-ignored
 * `.tools/schemathesis` (a pip `--target` folder: `python3 -m schemathesis.cli` with it on
 * PYTHONPATH). Its options are those of Schemathesis 4 (`--seed`, `--max-examples`, `--phases`):
 * version 3's `--hypothesis-seed` and `--hypothesis-max-examples` are gone.
 */
export const schemathesisHome = fileURLToPath(new URL('../../.tools/schemathesis', import.meta.url));
export const schemathesisConfig = fileURLToPath(new URL('./fuzz-schemathesis.toml', import.meta.url));

/** The checks every run makes: no 5xx, replies as documented (schema, status, content type). */
export const FUZZ_CHECKS = [
  'not_a_server_error',
  'response_schema_conformance',
  'status_code_conformance',
  'content_type_conformance',
  // Invalid data (by the document) accepted with a 2xx: the route validates less than it says.
  'negative_data_rejection',
];

export interface SchemathesisRun {
  exitCode: number | null;
  /** What the CLI printed (stdout and stderr), failures with their `curl` reproductions. */
  output: string;
  elapsedMs: number;
}

export interface SchemathesisOptions {
  /** The OpenAPI document's URL; the base URL is taken from it. */
  schemaUrl: string;
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token: string;
  seed: number;
  maxExamples: number;
  /** A time budget for the run (`--max-time`): fuzzing then repeats until it is spent. */
  maxTimeSeconds?: number;
  /** Killed past this, whatever Schemathesis is doing (the run then fails). */
  killAfterMs: number;
  phases?: string[];
  /** Only the operations whose path matches (`--include-path-regex`), or all but them (`exclude`). */
  paths?: { include: string } | { exclude: string };
}

export function schemathesisInstalled(): boolean {
  return existsSync(join(schemathesisHome, 'schemathesis', 'cli', '__main__.py'));
}

export async function runSchemathesis(options: SchemathesisOptions): Promise<SchemathesisRun> {
  if (!schemathesisInstalled()) {
    throw new Error(`Schemathesis is not installed in ${schemathesisHome}: run scripts/setup.sh`);
  }
  const args = [
    '-m',
    'schemathesis.cli',
    '--config-file',
    schemathesisConfig,
    'run',
    options.schemaUrl,
    '--header',
    `Authorization: Bearer ${options.token}`,
    '--checks',
    FUZZ_CHECKS.join(','),
    '--mode',
    'all', // positive and negative data
    '--seed',
    String(options.seed),
    '--max-examples',
    String(options.maxExamples),
    '--workers',
    '2',
    // Replayable: no example database carried over from an earlier run.
    '--generation-database',
    'none',
    // read-all has one path parameter, bound half the time to a dictionary: negative data for it
    // is mostly filtered out, which Hypothesis reports as a health check failure, not a finding.
    '--suppress-health-check',
    'filter_too_much',
    '--no-color',
    '--output-truncate',
    'false',
    ...(options.phases ? ['--phases', options.phases.join(',')] : []),
    ...(options.paths && 'include' in options.paths ? ['--include-path-regex', options.paths.include] : []),
    ...(options.paths && 'exclude' in options.paths ? ['--exclude-path-regex', options.paths.exclude] : []),
    ...(options.maxTimeSeconds ? ['--max-time', String(options.maxTimeSeconds)] : []),
  ];
  // Its own working folder: reports and caches stay out of the checkout.
  const cwd = mkdtempSync(join(tmpdir(), 'normx-notify-schemathesis-'));
  const started = Date.now();
  try {
    const child = spawn('python3', args, {
      cwd,
      env: { ...process.env, PYTHONPATH: schemathesisHome, NO_COLOR: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const killer = setTimeout(() => {
      output += `\n[fuzz] killed after ${options.killAfterMs} ms\n`;
      child.kill('SIGKILL');
    }, options.killAfterMs);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).finally(() => clearTimeout(killer));
    // The token is a secret of the test only, but a log is no place for one.
    return { exitCode, output: output.replaceAll(options.token, '<token>'), elapsedMs: Date.now() - started };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
