/**
 * Minimal SVG charts for reports (loss curves, success bars), self-contained so that an HTML
 * report opens anywhere without scripts.
 */

/** One line of a line chart. */
export type Series = { name: string; x: readonly number[]; y: readonly number[]; color?: string };

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * A line chart as an SVG string. With `logY`, y is plotted on a log10 axis (non-positive values
 * are dropped), the usual view of a training loss.
 */
export function lineChartSvg(
  series: readonly Series[],
  options: { title?: string; xLabel?: string; yLabel?: string; logY?: boolean; width?: number; height?: number } = {},
): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const m = { left: 64, right: 16, top: 32, bottom: 44 };
  const fy = (v: number) => (options.logY ? Math.log10(v) : v);
  const pts = series.map((s) => s.x.map((x, i) => [x, s.y[i]] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0)));
  const all = pts.flat();
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => fy(p[1]));
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (width - m.left - m.right);
  const sy = (y: number) => height - m.bottom - ((fy(y) - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(options.title)}</text>`);
  const yTicks = options.logY ? ticks(Math.floor(y0), Math.ceil(y1), Math.max(1, Math.ceil(y1) - Math.floor(y0))).filter((t) => t >= y0 - 1e-9 && t <= y1 + 1e-9) : ticks(y0, y1);
  for (const t of yTicks) {
    const y = options.logY ? sy(10 ** t) : sy(t);
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${options.logY ? `1e${t}` : t}</text>`);
  }
  for (const t of ticks(x0, x1)) {
    const x = sx(t);
    parts.push(`<text x="${x.toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#999"/>`);
  if (options.xLabel) parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  if (options.yLabel) parts.push(`<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const d = pts[k].map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    parts.push(`<text x="${width - m.right - 4}" y="${m.top + 14 + 14 * k}" text-anchor="end" fill="${color}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

type Margins = { left: number; right: number; top: number; bottom: number };

/** The frame of a bar chart: the svg head, title, y grid with tick labels, y label; its y scale and value format. */
function barFrame(width: number, height: number, m: Margins, options: { title?: string; yLabel?: string; max?: number; percent?: boolean }) {
  const max = options.max ?? 1;
  const fmt = (v: number) => (options.percent ? `${Math.round(v * 100)}%` : String(Number(v.toPrecision(3))));
  const sy = (v: number) => height - m.bottom - (Math.max(0, Math.min(max, v)) / max) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(options.title)}</text>`);
  for (const t of ticks(0, max)) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  if (options.yLabel) parts.push(`<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  return { parts, sy, fmt };
}

/** One bar of a bar chart, with an optional interval [lo, hi] drawn as an error bar. */
export type Bar = { label: string; value: number; lo?: number; hi?: number; color?: string };

/** A vertical bar chart with optional error bars, values in [0, max] (default max 1). */
export function barChartSvg(bars: readonly Bar[], options: { title?: string; yLabel?: string; max?: number; width?: number; height?: number; percent?: boolean } = {}): string {
  const width = options.width ?? Math.max(320, 80 + bars.length * 72);
  const height = options.height ?? 300;
  const m = { left: 56, right: 16, top: 32, bottom: 56 };
  const { parts, sy, fmt } = barFrame(width, height, m, options);
  const slot = (width - m.left - m.right) / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const x = m.left + i * slot + slot * 0.2;
    const w = slot * 0.6;
    const color = b.color ?? PALETTE[i % PALETTE.length];
    parts.push(`<rect x="${x.toFixed(1)}" y="${sy(b.value).toFixed(1)}" width="${w.toFixed(1)}" height="${(height - m.bottom - sy(b.value)).toFixed(1)}" fill="${color}" opacity="0.85"/>`);
    if (b.lo !== undefined && b.hi !== undefined) {
      const cx = x + w / 2;
      parts.push(`<path d="M${cx.toFixed(1)},${sy(b.lo).toFixed(1)}V${sy(b.hi).toFixed(1)}M${(cx - 5).toFixed(1)},${sy(b.lo).toFixed(1)}h10M${(cx - 5).toFixed(1)},${sy(b.hi).toFixed(1)}h10" stroke="#333"/>`);
    }
    parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${(sy(b.value) - 4).toFixed(1)}" text-anchor="middle">${fmt(b.value)}</text>`);
    parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#999"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** One series of a grouped bar chart: a value (and optional interval) per group, null where missing. */
export type BarSeries = { name: string; values: readonly ({ value: number; lo?: number; hi?: number } | null)[]; color?: string };

/**
 * Grouped vertical bars with error bars, like the per-task model comparisons of a paper: one
 * cluster per group label, one bar per series in each, a legend of the series; values in [0, max].
 */
export function groupedBarChartSvg(groups: readonly string[], series: readonly BarSeries[], options: { title?: string; yLabel?: string; max?: number; percent?: boolean; height?: number } = {}): string {
  const n = Math.max(1, series.length);
  const legendW = 24 + 7 * Math.max(0, ...series.map((s) => s.name.length));
  const width = Math.max(360, 72 + legendW + groups.length * (n * 26 + 30));
  const height = options.height ?? 320;
  const m = { left: 56, right: 16 + legendW, top: 32, bottom: 40 };
  const { parts, sy, fmt } = barFrame(width, height, m, options);
  const slot = (width - m.left - m.right) / Math.max(1, groups.length);
  const bw = (slot * 0.8) / n;
  groups.forEach((g, gi) => {
    series.forEach((s, si) => {
      const b = s.values[gi];
      if (!b) return;
      const x = m.left + gi * slot + slot * 0.1 + si * bw;
      const color = s.color ?? PALETTE[si % PALETTE.length];
      parts.push(`<rect x="${x.toFixed(1)}" y="${sy(b.value).toFixed(1)}" width="${(bw * 0.9).toFixed(1)}" height="${(height - m.bottom - sy(b.value)).toFixed(1)}" fill="${color}" opacity="0.85"><title>${esc(`${s.name}, ${g}: ${fmt(b.value)}`)}</title></rect>`);
      if (b.lo !== undefined && b.hi !== undefined) {
        const cx = x + bw * 0.45;
        parts.push(`<path d="M${cx.toFixed(1)},${sy(b.lo).toFixed(1)}V${sy(b.hi).toFixed(1)}M${(cx - 4).toFixed(1)},${sy(b.lo).toFixed(1)}h8M${(cx - 4).toFixed(1)},${sy(b.hi).toFixed(1)}h8" stroke="#333"/>`);
      }
    });
    parts.push(`<text x="${(m.left + (gi + 0.5) * slot).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${esc(g)}</text>`);
  });
  series.forEach((s, si) => {
    const y = m.top + 4 + 16 * si;
    parts.push(`<rect x="${width - m.right + 12}" y="${y}" width="10" height="10" fill="${s.color ?? PALETTE[si % PALETTE.length]}"/>`);
    parts.push(`<text x="${width - m.right + 26}" y="${y + 9}">${esc(s.name)}</text>`);
  });
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#999"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}
