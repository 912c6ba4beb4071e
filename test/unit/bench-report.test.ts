import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { percentile, renderSvg, writeBenchReport, type BenchReport } from '../../bench/report.js';

/** Every opened tag is closed in order (self-closing ones aside): well-formed enough for a viewer. */
function assertBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong tag`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'unclosed tags');
}

const report: BenchReport = {
  name: 'sample',
  title: 'Sample benchmark',
  method: 'Ran **nothing**; made up the numbers.',
  parameters: { connections: 1000, mode: 'a | b' },
  table: {
    headers: ['Connections', 'RSS (MiB)'],
    rows: [
      [0, 80.5],
      [1000, 120.25],
    ],
  },
  targets: [
    { target: 'RSS ≤ 1 GiB', measured: '120 MiB', met: true },
    { target: 'Catch-up ≤ 30 s', measured: '41 s', met: false, note: 'pool of 10' },
  ],
  chart: {
    title: 'RSS vs connections',
    xLabel: 'connections',
    yLabel: 'MiB',
    series: [
      {
        name: 'VmRSS',
        points: [
          [0, 80.5],
          [1000, 120.25],
        ],
      },
      {
        name: 'VmHWM',
        points: [
          [0, 81],
          [1000, 130],
        ],
      },
    ],
  },
  notes: 'Nothing to add.',
};

test('writeBenchReport writes the markdown with the verdicts and a chart of one polyline per series', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
  try {
    const machine = { Node: process.version, Date: '2026-01-01T00:00:00.000Z' };
    const mdPath = await writeBenchReport(report, { dir, machine });
    assert.equal(mdPath, join(dir, 'sample.md'));
    const md = await readFile(mdPath, 'utf8');
    assert.match(md, /^# Sample benchmark/);
    assert.match(md, /2026-01-01T00:00:00.000Z/);
    assert.match(md, /\| RSS ≤ 1 GiB\s*\| 120 MiB\s*\| ✅/);
    assert.match(md, /\| Catch-up ≤ 30 s\s*\| 41 s\s*\| ❌\s*\| pool of 10/);
    assert.match(md, /a \\\| b/, 'a pipe in a cell is escaped');
    assert.match(md, /\| 1,000\s*\| 120\.25/);
    assert.match(md, /!\[chart\]\(sample\.svg\)/);
    assert.ok(md.indexOf('## Targets') < md.indexOf('## Results'));
    assert.ok(md.indexOf('## Results') < md.indexOf('## Method'));

    const svg = await readFile(join(dir, 'sample.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(svg.match(/<polyline /g)?.length, 2);
    assert.match(svg, />VmRSS</);
    assert.match(svg, />VmHWM</);
    assert.doesNotMatch(svg, /NaN|undefined/);
    assertBalancedTags(svg);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a report without a chart writes no image link; a bar chart draws one bar per point', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
  try {
    const { chart: _chart, ...plain } = report;
    const md = await readFile(
      await writeBenchReport({ ...plain, name: 'plain' }, { dir, machine: {} }),
      'utf8',
    );
    assert.doesNotMatch(md, /!\[chart\]/);
    const svg = renderSvg({ ...report.chart!, kind: 'bar', title: 'A & B <bars>' });
    // The background, 2 series × 2 points, 2 legend keys.
    assert.equal(svg.match(/<rect /g)?.length, 1 + 4 + 2);
    assert.equal(svg.match(/<g>/g)?.length, 2);
    assert.match(svg, /A &amp; B &lt;bars&gt;/);
    assertBalancedTags(svg);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('percentile is the nearest rank', () => {
  const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  assert.equal(percentile(values, 50), 5);
  assert.equal(percentile(values, 99), 10);
  assert.equal(percentile(values, 0), 1);
  assert.equal(percentile(values, 100), 10);
  assert.equal(percentile([42], 99), 42);
  assert.ok(Number.isNaN(percentile([], 50)));
});
