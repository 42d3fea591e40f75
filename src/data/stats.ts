/**
 * Per-dimension feature statistics in LeRobot's stats.json shape: mean, std, min, max, count and
 * the quantiles q01, q10, q50, q90, q99 (linear interpolation between order statistics).
 */
import type { FeatureStats } from '../actions/index.ts';

/** Statistics with every field present. */
export type FullStats = Required<FeatureStats> & { count: number[]; q10: number[]; q50: number[]; q90: number[] };

/** Quantile q in [0, 1] of sorted values (linear interpolation). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Statistics of `n` rows of `dim` values, row-major in `rows`, or in the consecutive blocks of
 * whole rows `rows` lists (the rows of several datasets, pooled without joining them into one copy).
 */
export function computeStats(rows: ArrayLike<number> | readonly ArrayLike<number>[], n: number, dim: number): FullStats {
  const s: FullStats = { mean: [], std: [], min: [], max: [], count: [], q01: [], q10: [], q50: [], q90: [], q99: [] };
  const blocks = (Array.isArray(rows) && rows.length > 0 && typeof rows[0] !== 'number' ? rows : [rows]) as readonly ArrayLike<number>[];
  const col = new Float64Array(n);
  for (let d = 0; d < dim; d++) {
    let sum = 0;
    let i = 0;
    for (const block of blocks) {
      for (let at = d; i < n && at < block.length; at += dim, i++) {
        col[i] = block[at];
        sum += col[i];
      }
    }
    const mean = n ? sum / n : 0;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (col[i] - mean) ** 2;
    col.sort();
    s.mean.push(mean);
    s.std.push(n ? Math.sqrt(ss / n) : 0);
    s.min.push(n ? col[0] : 0);
    s.max.push(n ? col[n - 1] : 0);
    s.count.push(n);
    s.q01.push(quantileSorted(col, 0.01));
    s.q10.push(quantileSorted(col, 0.1));
    s.q50.push(quantileSorted(col, 0.5));
    s.q90.push(quantileSorted(col, 0.9));
    s.q99.push(quantileSorted(col, 0.99));
  }
  return s;
}

/** Image statistics as LeRobot writes them: per channel, values in [0, 1], each field shaped [3, 1, 1]. */
export type ImageStats = Record<'mean' | 'std' | 'min' | 'max' | 'q01' | 'q10' | 'q50' | 'q90' | 'q99', number[][][]> & { count: number[] };

/** Adds the pixels of one RGB u8 image [.., 3] to a per-channel histogram [3 * 256]. */
export function addToHistogram(hist: Float64Array, rgb: Uint8Array): void {
  for (let p = 0; p < rgb.length; p += 3) {
    hist[rgb[p]]++;
    hist[256 + rgb[p + 1]]++;
    hist[512 + rgb[p + 2]]++;
  }
}

/**
 * Image statistics of `images` frames from their per-channel histogram [3 * 256] (exact for u8:
 * the quantiles interpolate between order statistics like quantileSorted), scaled by 1/255.
 */
export function imageStats(hist: Float64Array, images: number): ImageStats {
  const out: ImageStats = { mean: [], std: [], min: [], max: [], q01: [], q10: [], q50: [], q90: [], q99: [], count: [images] };
  for (let c = 0; c < 3; c++) {
    const h = hist.subarray(256 * c, 256 * (c + 1));
    let n = 0;
    let sum = 0;
    for (let v = 0; v < 256; v++) {
      n += h[v];
      sum += v * h[v];
    }
    const mean = n ? sum / n : 0;
    let ss = 0;
    for (let v = 0; v < 256; v++) ss += h[v] * (v - mean) ** 2;
    // value at rank r (0-based) of the sorted pixels
    const at = (r: number) => {
      let seen = 0;
      for (let v = 0; v < 256; v++) {
        seen += h[v];
        if (r < seen) return v;
      }
      return 255;
    };
    const q = (p: number) => {
      const pos = p * (n - 1);
      const lo = Math.floor(pos);
      return at(lo) + (at(Math.min(n - 1, lo + 1)) - at(lo)) * (pos - lo);
    };
    const put = (k: Exclude<keyof ImageStats, 'count'>, x: number) => out[k].push([[x / 255]]);
    put('mean', mean);
    put('std', n ? Math.sqrt(ss / n) : 0);
    put('min', n ? at(0) : 0);
    put('max', n ? at(n - 1) : 0);
    put('q01', n ? q(0.01) : 0);
    put('q10', n ? q(0.1) : 0);
    put('q50', n ? q(0.5) : 0);
    put('q90', n ? q(0.9) : 0);
    put('q99', n ? q(0.99) : 0);
  }
  return out;
}
