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

/** Statistics of `n` rows of `dim` values, row-major in `rows`. */
export function computeStats(rows: ArrayLike<number>, n: number, dim: number): FullStats {
  const s: FullStats = { mean: [], std: [], min: [], max: [], count: [], q01: [], q10: [], q50: [], q90: [], q99: [] };
  const col = new Float64Array(n);
  for (let d = 0; d < dim; d++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      col[i] = rows[i * dim + d];
      sum += col[i];
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
