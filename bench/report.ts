import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { interrupted } from './common.js';
import { benchAdminUrl } from './env.js';
import { renderSvg } from './report-svg.js';

/**
 * What every benchmark writes: `docs/bench/<name>.md` (machine, parameters, targets, results,
 * method, notes) and, with a chart, `docs/bench/<name>.svg`, drawn here without a dependency.
 */

export { renderSvg };

export interface ChartSeries {
  name: string;
  points: [number, number][];
}

export interface BenchChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  kind?: 'line' | 'bar';
}

export interface BenchTarget {
  target: string;
  measured: string;
  met: boolean;
  note?: string;
}

export interface BenchReport {
  /** File stem: docs/bench/<name>.md and docs/bench/<name>.svg. */
  name: string;
  title: string;
  /** Markdown paragraph(s): what was run, how it was measured. */
  method: string;
  parameters: Record<string, string | number>;
  table: { headers: string[]; rows: (string | number)[][] };
  targets?: BenchTarget[];
  chart?: BenchChart;
  /** Markdown. */
  notes?: string;
  /**
   * What failed in the run (a size, a mode, a rate): the report then goes to `<name>.failed.md`,
   * never over the committed `<name>.md` of a run that completed.
   */
  failures?: string[];
}

export interface WriteOptions {
  /** Default: BENCH_OUTPUT_DIR if set, else `docs/bench` of this repository. */
  dir?: string;
  /** Default: `machineFacts()`, read now. */
  machine?: Record<string, string>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** The one nearest-rank percentile (support/percentile.ts), for the benchmarks that import it from here. */
export { percentile } from '../support/percentile.js';

function run(command: string, args: string[], timeoutMs = 5_000): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(command, args, { cwd: root, timeout: timeoutMs }, (error, stdout) =>
      done(error ? undefined : stdout.toString().trim()),
    );
  });
}

function packageVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    };
    return manifest.version;
  } catch {
    return 'not installed';
  }
}

async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: benchAdminUrl(), connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>('select version()');
    return rows[0]?.version ?? 'unknown';
  } catch (error) {
    return `unavailable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty?.[1]) return pretty[1];
  } catch {
    // not Linux, or no os-release
  }
  return osType();
}

/**
 * The commit, and whether tracked files differed from it, when the bench started (this module is
 * imported then): a long run's report names the code it measured, even if HEAD moved meanwhile.
 */
const gitAtStart = Promise.all([
  run('git', ['rev-parse', '--short', 'HEAD']),
  run('git', ['status', '--porcelain', '--untracked-files=no']),
]);

/** The machine and the versions a result depends on; each fact that cannot be read says so. */
export async function machineFacts(): Promise<Record<string, string>> {
  const cpu = cpus();
  const temporalCli = join(root, '.tools/py/bin/temporal');
  const [temporal, [commit, dirty], postgres] = await Promise.all([
    existsSync(temporalCli) ? run(temporalCli, ['--version']) : Promise.resolve(undefined),
    gitAtStart,
    postgresVersion(),
  ]);
  return {
    CPU: `${cpu[0]?.model.trim() ?? 'unknown'} × ${cpu.length}`,
    Memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    OS: osName(),
    Kernel: `${osType()} ${release()}`,
    Node: process.version,
    'Temporal CLI': temporal ?? 'not installed',
    '@temporalio/worker': packageVersion('@temporalio/worker'),
    PostgreSQL: postgres,
    'Git commit': commit === undefined ? 'unknown' : `${commit}${dirty ? ' (dirty)' : ''}`,
    Date: new Date().toISOString(),
  };
}

// --- Markdown ------------------------------------------------------------------------------

const cell = (value: string | number): string =>
  (typeof value === 'number' ? formatNumber(value) : value).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

function markdownTable(headers: string[], rows: (string | number)[][]): string {
  return [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${headers.map((_, index) => cell(row[index] ?? '')).join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(report: BenchReport, machine: Record<string, string>): string {
  const parts: string[] = [`# ${report.title}`, `Run on ${machine.Date ?? new Date().toISOString()}.`];
  parts.push('## Machine and versions', machineTable(machine));
  parts.push(
    '## Parameters',
    markdownTable(
      ['Parameter', 'Value'],
      Object.entries(report.parameters).map(([key, value]) => [key, value]),
    ),
  );
  if (report.targets && report.targets.length > 0) {
    parts.push(
      '## Targets',
      markdownTable(
        ['Target', 'Measured', 'Met', 'Note'],
        report.targets.map((t) => [t.target, t.measured, t.met ? '✅' : '❌', t.note ?? '']),
      ),
    );
  }
  parts.push('## Results', markdownTable(report.table.headers, report.table.rows));
  if (report.chart) parts.push(`![chart](${report.name}.svg)`);
  parts.push('## Method', report.method.trim());
  if (report.notes?.trim()) parts.push('## Notes', report.notes.trim());
  return `${parts.join('\n\n')}\n`;
}

/** The results table as plain text, for stdout. */
export function renderText(report: Pick<BenchReport, 'table' | 'targets'>): string {
  const rows = [report.table.headers, ...report.table.rows.map((row) => row.map((value) => cell(value)))];
  const widths = report.table.headers.map((_, column) =>
    Math.max(...rows.map((row) => String(row[column] ?? '').length)),
  );
  const lines = rows.map((row) =>
    widths.map((width, column) => String(row[column] ?? '').padEnd(width)).join('  '),
  );
  lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '));
  for (const target of report.targets ?? [])
    lines.push(`${target.met ? 'MET   ' : 'MISSED'} ${target.target}: ${target.measured}`);
  return lines.join('\n');
}

// --- Writing -------------------------------------------------------------------------------

/** Writes `<dir>/<name>.md` (prettier-formatted) and, with a chart, `<dir>/<name>.svg`; returns the md path. */
export async function writeBenchReport(given: BenchReport, options: WriteOptions = {}): Promise<string> {
  // BENCH_OUTPUT_NAME: a variant's report beside the default one (e.g. herd-cache for a run
  // with other worker settings), not over it.
  const stem = process.env.BENCH_OUTPUT_NAME || given.name;
  const report = { ...given, name: given.failures?.length ? `${stem}.failed` : stem };
  if (!/^[A-Za-z0-9._-]+$/.test(report.name)) throw new Error(`Bad report name: ${report.name}`);
  // A run stopped by a signal measured part of what it should: the report it had is kept.
  if (interrupted()) throw new Error(`Interrupted: ${report.name} not written`);
  const dir = benchReportDir(options.dir);
  await mkdir(dir, { recursive: true });
  const machine = options.machine ?? (await machineFacts());
  const mdPath = join(dir, `${report.name}.md`);
  // The repository's prettier settings, wherever the report goes.
  await writeMarkdown(mdPath, renderMarkdown(report, machine), join(root, 'docs/bench', `${report.name}.md`));
  if (report.chart) await writeFile(join(dir, `${report.name}.svg`), renderSvg(report.chart));
  return mdPath;
}

/** Where the reports go: `dir` if given, else BENCH_OUTPUT_DIR if set, else `docs/bench` of this repository. */
export const benchReportDir = (dir?: string): string =>
  resolve(dir ?? (process.env.BENCH_OUTPUT_DIR || join(root, 'docs/bench')));

/** The machine facts as the Markdown table every report starts with. */
export const machineTable = (machine: Record<string, string>): string =>
  markdownTable(
    ['What', 'Version or value'],
    Object.entries(machine).map(([key, value]) => [key, value]),
  );

/** Writes `markdown` to `path`, formatted by prettier with the settings that apply to `settingsOf` (default: `path`). */
export async function writeMarkdown(path: string, markdown: string, settingsOf = path): Promise<void> {
  const config = (await resolveConfig(settingsOf)) ?? {};
  await writeFile(path, await format(markdown, { ...config, parser: 'markdown' }));
}
