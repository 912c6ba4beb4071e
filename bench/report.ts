import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';

/**
 * What every benchmark writes: `docs/bench/<name>.md` (machine, parameters, targets, results,
 * method, notes) and, with a chart, `docs/bench/<name>.svg`, drawn here without a dependency.
 */

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
}

export interface WriteOptions {
  /** Default: `docs/bench` of this repository. */
  dir?: string;
  /** Default: `machineFacts()`, read now. */
  machine?: Record<string, string>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** The `p`-th percentile (0–100, nearest rank) of `values`; NaN when there are none. */
export const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
};

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
  const url = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
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

/** The machine and the versions a result depends on; each fact that cannot be read says so. */
export async function machineFacts(): Promise<Record<string, string>> {
  const cpu = cpus();
  const temporalCli = join(root, '.tools/py/bin/temporal');
  const [temporal, commit, dirty, postgres] = await Promise.all([
    existsSync(temporalCli) ? run(temporalCli, ['--version']) : Promise.resolve(undefined),
    run('git', ['rev-parse', '--short', 'HEAD']),
    run('git', ['status', '--porcelain', '--untracked-files=no']),
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
  parts.push(
    '## Machine and versions',
    markdownTable(
      ['What', 'Version or value'],
      Object.entries(machine).map(([key, value]) => [key, value]),
    ),
  );
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

// --- SVG chart -----------------------------------------------------------------------------

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** About `count` round ticks (1, 2 or 5 × 10^k apart) covering [min, max]. */
function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let value = Math.floor(min / step) * step; value <= max + step * 1e-9; value += step)
    ticks.push(Number(value.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

function tickLabel(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6 && value % 1e5 === 0) return `${value / 1e6}M`;
  if (abs >= 1e3 && value % 100 === 0) return `${value / 1e3}k`;
  return Number(value.toPrecision(6)).toLocaleString('en-US');
}

export function renderSvg(chart: BenchChart): string {
  const width = 760;
  const height = 440;
  const margin = { top: 48, right: 190, bottom: 60, left: 80 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const kind = chart.kind ?? 'line';
  const points = chart.series.flatMap((series) => series.points);
  const ys = points.map(([, y]) => y).filter(Number.isFinite);
  const yTicks = niceTicks(Math.min(0, ...ys), Math.max(0, ...ys));
  const [yMin, yMax] = [yTicks[0]!, yTicks[yTicks.length - 1]!];
  const sy = (y: number): number => margin.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left + plotW / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${xml(chart.title)}</text>`,
  ];
  for (const tick of yTicks) {
    const y = sy(tick).toFixed(1);
    out.push(
      `<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#e0e0e0"/>`,
      `<text x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${xml(tickLabel(tick))}</text>`,
    );
  }

  if (kind === 'line') {
    const xs = points.map(([x]) => x).filter(Number.isFinite);
    const xTicks = niceTicks(Math.min(...xs), Math.max(...xs));
    const [xMin, xMax] = [xTicks[0]!, xTicks[xTicks.length - 1]!];
    const sx = (x: number): number => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
    for (const tick of xTicks) {
      const x = sx(tick).toFixed(1);
      out.push(
        `<line x1="${x}" y1="${margin.top + plotH}" x2="${x}" y2="${margin.top + plotH + 5}" stroke="#333333"/>`,
        `<text x="${x}" y="${margin.top + plotH + 20}" text-anchor="middle">${xml(tickLabel(tick))}</text>`,
      );
    }
    chart.series.forEach((series, index) => {
      const color = COLORS[index % COLORS.length]!;
      const coords = series.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${coords.join(' ')}"/>`,
        ...coords.map((c) => {
          const [cx, cy] = c.split(',');
          return `<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`;
        }),
      );
    });
  } else {
    const categories = [...new Set(points.map(([x]) => x))].sort((a, b) => a - b);
    const group = plotW / Math.max(1, categories.length);
    const bar = (group * 0.8) / Math.max(1, chart.series.length);
    categories.forEach((category, c) => {
      const x = margin.left + group * c + group / 2;
      out.push(
        `<text x="${x.toFixed(1)}" y="${margin.top + plotH + 20}" text-anchor="middle">${xml(tickLabel(category))}</text>`,
      );
    });
    chart.series.forEach((series, index) => {
      const color = COLORS[index % COLORS.length]!;
      const bars = series.points.map(([x, y]) => {
        const left = margin.left + group * categories.indexOf(x) + group * 0.1 + bar * index;
        const top = Math.min(sy(y), sy(0));
        return `<rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${bar.toFixed(1)}" height="${Math.abs(sy(y) - sy(0)).toFixed(1)}" fill="${color}"/>`;
      });
      out.push(`<g>${bars.join('')}</g>`);
    });
  }

  // Axes, labels, legend.
  out.push(
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#333333"/>`,
    `<line x1="${margin.left}" y1="${sy(Math.max(0, yMin)).toFixed(1)}" x2="${margin.left + plotW}" y2="${sy(Math.max(0, yMin)).toFixed(1)}" stroke="#333333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 16}" text-anchor="middle">${xml(chart.xLabel)}</text>`,
    `<text x="20" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 20 ${margin.top + plotH / 2})">${xml(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, index) => {
    const y = margin.top + 8 + index * 20;
    const x = margin.left + plotW + 16;
    out.push(
      `<rect x="${x}" y="${y - 6}" width="14" height="12" fill="${COLORS[index % COLORS.length]!}"/>`,
      `<text x="${x + 20}" y="${y}" dominant-baseline="middle">${xml(series.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// --- Writing -------------------------------------------------------------------------------

/** Writes `<dir>/<name>.md` (prettier-formatted) and, with a chart, `<dir>/<name>.svg`; returns the md path. */
export async function writeBenchReport(report: BenchReport, options: WriteOptions = {}): Promise<string> {
  if (!/^[A-Za-z0-9._-]+$/.test(report.name)) throw new Error(`Bad report name: ${report.name}`);
  const dir = resolve(options.dir ?? join(root, 'docs/bench'));
  await mkdir(dir, { recursive: true });
  const machine = options.machine ?? (await machineFacts());
  const mdPath = join(dir, `${report.name}.md`);
  // The repository's prettier settings, wherever the report goes.
  const config = (await resolveConfig(join(root, 'docs/bench', `${report.name}.md`))) ?? {};
  const markdown = await format(renderMarkdown(report, machine), { ...config, parser: 'markdown' });
  await writeFile(mdPath, markdown);
  if (report.chart) await writeFile(join(dir, `${report.name}.svg`), renderSvg(report.chart));
  return mdPath;
}
