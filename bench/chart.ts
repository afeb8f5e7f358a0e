import { writeFile } from 'node:fs/promises';
// This process never imports src/image/decode-png.ts, whose sharp.block() would refuse the SVG loader.
import sharp from 'sharp';
import type { CellResult } from './cell.js';

interface Series {
  name: string;
  colour: string;
  points: { x: number; y: number }[];
}

interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines, e.g. the raw ORT best. */
  rules: { y: number; label: string; dash: string }[];
}

const W = 560;
const H = 400;
const M = { left: 64, right: 20, top: 40, bottom: 52 };
const COLOURS: Record<string, string> = { '224': '#1f77b4', mix: '#ff7f0e' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(max: number): number {
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => max / s <= 6) ?? 10 * pow;
}

function panel(p: Panel, xs: number[], offsetX: number): string {
  const yMax = Math.max(1e-9, ...p.series.flatMap((s) => s.points.map((pt) => pt.y)), ...p.rules.map((r) => r.y)) * 1.1;
  const step = niceStep(yMax);
  const top = Math.ceil(yMax / step) * step;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  // Concurrencies grow by ×4, so they are spaced evenly (a log scale).
  const xPos = (x: number) => M.left + (xs.length > 1 ? (xs.indexOf(x) / (xs.length - 1)) * plotW : plotW / 2);
  const yPos = (y: number) => M.top + plotH - (y / top) * plotH;
  const parts: string[] = [`<g transform="translate(${offsetX},0)">`];
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(p.title)}</text>`);
  for (let y = 0; y <= top + 1e-9; y += step) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${yPos(y)}" y2="${yPos(y)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 8}" y="${yPos(y) + 4}" text-anchor="end" font-size="12">${Number(y.toPrecision(6))}</text>`);
  }
  for (const x of xs) parts.push(`<text x="${xPos(x)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="12">${x}</text>`);
  parts.push(`<text x="${M.left + plotW / 2}" y="${H - 12}" text-anchor="middle" font-size="13">concurrent clients</text>`);
  parts.push(`<text transform="translate(16,${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="13">${esc(p.yLabel)}</text>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  for (const r of p.rules) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${yPos(r.y)}" y2="${yPos(r.y)}" stroke="#555" stroke-dasharray="${r.dash}"/>`);
    parts.push(`<text x="${W - M.right - 4}" y="${yPos(r.y) - 5}" text-anchor="end" font-size="11" fill="#555">${esc(r.label)}</text>`);
  }
  p.series.forEach((s, i) => {
    const path = s.points.map((pt) => `${xPos(pt.x)},${yPos(pt.y)}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${s.colour}" stroke-width="2.5"/>`);
    for (const pt of s.points) parts.push(`<circle cx="${xPos(pt.x)}" cy="${yPos(pt.y)}" r="4" fill="${s.colour}"/>`);
    const ly = M.top + 16 + i * 18;
    parts.push(`<rect x="${M.left + 10}" y="${ly - 9}" width="14" height="4" fill="${s.colour}"/><text x="${M.left + 30}" y="${ly - 3}" font-size="12">${esc(s.name)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** Throughput and p99 against concurrency for both image sets, as an SVG. */
export function chartSvg(cells: CellResult[], rawBest: number, subtitle: string): string {
  const xs = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b);
  const sets = [...new Set(cells.map((c) => c.set))];
  const series = (value: (c: CellResult) => number): Series[] => sets.map((set) => ({
    name: set === '224' ? '224×224' : '50/50 224×224 + 640×480',
    colour: COLOURS[set] ?? '#2ca02c',
    points: cells.filter((c) => c.set === set).map((c) => ({ x: c.concurrency, y: value(c) })),
  }));
  const left = panel({
    title: 'Throughput',
    yLabel: 'images/s (200s)',
    series: series((c) => c.throughput),
    rules: [{ y: rawBest, label: `raw ORT best ${rawBest.toFixed(1)}`, dash: '6 4' }, { y: 0.85 * rawBest, label: 'target 0.85×', dash: '2 3' }],
  }, xs, 0);
  const right = panel({ title: 'p99 latency', yLabel: 'ms', series: series((c) => c.latency.p99), rules: [] }, xs, W);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 30}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${left}
${right}
<text x="${W}" y="${H + 18}" text-anchor="middle" font-size="12" fill="#444">${esc(subtitle)}</text>
</svg>`;
}

export async function writeChart(path: string, svg: string): Promise<void> {
  await writeFile(path, await sharp(Buffer.from(svg)).png().toBuffer());
}
