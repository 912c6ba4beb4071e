import type { BenchChart } from './report.js';

/** A report's chart as SVG, drawn without a dependency: lines over x, or bars per category. */

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
