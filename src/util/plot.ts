/**
 * Minimal SVG charts for reports (loss curves, success bars), self-contained so that an HTML
 * report opens anywhere without scripts.
 */

/** One line of a line chart; `opacity` and `strokeWidth` let a faint raw curve sit under its smoothed one. */
export type Series = { name: string; x: readonly number[]; y: readonly number[]; color?: string; opacity?: number; strokeWidth?: number };

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** Estimated width of one character of an 11 px sans-serif label. */
const LABEL_CHAR_PX = 6.2;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // the 1-2-5 step whose tick count is closest to count + 1 (ties: the larger step)
  const countOf = (s: number) => Math.floor(hi / s + 1e-9) - Math.ceil(lo / s - 1e-9) + 1;
  const step = [10, 5, 2, 1].map((m) => m * mag).reduce((best, s) => (Math.abs(countOf(s) - count - 1) < Math.abs(countOf(best) - count - 1) ? s : best));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A tick value as a short label: 0.5, 2, 1500, 1e-4. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/**
 * Ticks of a log10 axis spanning [lo, hi] (in log10 units), as values: whole decades when the range
 * is wide, else 1-2-5 (or 1..9) steps inside each decade, so a loss from 0.3 to 2.1 reads 0.3, 0.5, 1, 2.
 */
export function logTicks(lo: number, hi: number): number[] {
  const decades = hi - lo;
  const mantissas = decades > 3 ? [1] : decades > 1 ? [1, 2, 5] : decades > 0.3 ? [1, 2, 3, 5] : [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9];
  const out: number[] = [];
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** k).toPrecision(6));
      const l = Math.log10(v);
      if (l >= lo - 1e-9 && l <= hi + 1e-9) out.push(v);
    }
  }
  if (decades > 6) return out.filter((_, i) => i % Math.ceil(out.length / 7) === 0);
  return out.length >= 2 ? out : [10 ** lo, 10 ** hi].map((v) => Number(v.toPrecision(2)));
}

/**
 * Centered moving average over `window` points (odd; shrinks at the ends): the trend of a noisy
 * curve without the lag of an exponential average.
 */
export function movingAverage(values: readonly number[], window: number): number[] {
  const half = Math.max(0, Math.floor(window / 2));
  const prefix = [0];
  for (const v of values) prefix.push(prefix[prefix.length - 1] + v);
  return values.map((_, i) => {
    const a = Math.max(0, i - half);
    const b = Math.min(values.length, i + half + 1);
    return (prefix[b] - prefix[a]) / (b - a);
  });
}

/** One more curve on a loss chart: e.g. a component of the loss, logged on some of the steps. */
export type LossCurve = { name: string; steps: readonly number[]; values: readonly number[] };

/**
 * A training-loss chart: the raw logged losses faint, their moving average (over about 1/25 of the
 * points, in log space when the axis is logarithmic) on top; a log10 y axis when the values span
 * more than a factor of 10. `also` adds curves drawn the same way in other colours.
 */
export function lossChartSvg(steps: readonly number[], losses: readonly number[], options: { title?: string; name?: string; also?: readonly LossCurve[] } = {}): string {
  const curves: LossCurve[] = [{ name: options.name ?? 'loss', steps, values: losses }, ...(options.also ?? [])];
  const finite = curves.flatMap((c) => c.values.filter((v) => Number.isFinite(v) && v > 0));
  const logY = finite.length > 0 && Math.max(...finite) / Math.min(...finite) > 10;
  const f = logY ? (v: number) => Math.log10(Math.max(v, 1e-30)) : (v: number) => v;
  const series = curves.flatMap((c, i): Series[] => {
    const color = CURVE_COLORS[i % CURVE_COLORS.length];
    const window = 2 * Math.floor(c.values.length / 50) + 1;
    const raw: Series = { name: `${c.name} (raw)`, x: c.steps, y: c.values, color, opacity: window > 1 ? 0.3 : 1, strokeWidth: 1 };
    if (window === 1) return [raw];
    const smooth = movingAverage(c.values.map(f), window).map((v) => (logY ? 10 ** v : v));
    return [raw, { name: `${c.name} (${window}-point mean)`, x: c.steps, y: smooth, color, strokeWidth: 2 }];
  });
  return lineChartSvg(series, { title: options.title ?? 'training loss', xLabel: 'step', yLabel: logY ? 'loss (log scale)' : 'loss', logY });
}

const CURVE_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c'];

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
  const yTicks = options.logY ? logTicks(y0, y1) : ticks(y0, y1);
  for (const t of yTicks) {
    const y = sy(t);
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text class="y-tick" x="${m.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`);
  }
  for (const t of ticks(x0, x1)) {
    const x = sx(t);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${height - m.bottom}" y2="${height - m.bottom + 4}" stroke="#999"/>`);
    parts.push(`<text class="x-tick" x="${x.toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#999"/>`);
  if (options.xLabel) parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  if (options.yLabel) parts.push(`<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const d = pts[k].map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.strokeWidth ?? 1.5}"${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ''}/>`);
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
  // labels wider than their bar's slot (about 6.2 px per character at 11 px) are drawn slanted, with room below
  const slot = (width - 72) / Math.max(1, bars.length);
  const longest = Math.max(0, ...bars.map((b) => b.label.length)) * LABEL_CHAR_PX;
  const slant = longest > slot * 0.95;
  const below = slant ? Math.min(160, Math.ceil(longest * Math.SQRT1_2) + 24) : 56;
  const height = (options.height ?? 300) + (below - 56);
  const m = { left: 56, right: 16, top: 32, bottom: below };
  const { parts, sy, fmt } = barFrame(width, height, m, options);
  bars.forEach((b, i) => {
    const x = m.left + i * slot + slot * 0.2;
    const w = slot * 0.6;
    const color = b.color ?? PALETTE[i % PALETTE.length];
    parts.push(`<rect x="${x.toFixed(1)}" y="${sy(b.value).toFixed(1)}" width="${w.toFixed(1)}" height="${(height - m.bottom - sy(b.value)).toFixed(1)}" fill="${color}" opacity="0.85"/>`);
    if (b.lo !== undefined && b.hi !== undefined) {
      const cx = x + w / 2;
      parts.push(`<path d="M${cx.toFixed(1)},${sy(b.lo).toFixed(1)}V${sy(b.hi).toFixed(1)}M${(cx - 5).toFixed(1)},${sy(b.lo).toFixed(1)}h10M${(cx - 5).toFixed(1)},${sy(b.hi).toFixed(1)}h10" stroke="#333"/>`);
    }
    // the value above the bar, or above its error bar where it has one
    parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${(sy(Math.max(b.value, b.hi ?? b.value)) - 4).toFixed(1)}" text-anchor="middle">${fmt(b.value)}</text>`);
    const lx = (x + w / 2).toFixed(1);
    const ly = height - m.bottom + 16;
    parts.push(slant ? `<text class="x-label" transform="translate(${lx} ${ly - 4}) rotate(-45)" text-anchor="end">${esc(b.label)}</text>`
      : `<text class="x-label" x="${lx}" y="${ly}" text-anchor="middle">${esc(b.label)}</text>`);
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
