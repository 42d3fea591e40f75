/**
 * Per-embodiment, per-dim normalization of unified vectors, from dataset statistics (for action
 * chunks optionally per chunk step as well, see `chunkNormalizers`):
 *   z-score:   y = (x - mean) / (std + eps)
 *   quantile:  y = 2 (x - q01) / (q99 - q01 + eps) - 1     (q01 -> -1, q99 -> +1, not clipped)
 * Masked (unused) dims are exactly zero after normalizing and after unnormalizing, so padding
 * never leaks into the model or back out to a robot.
 */
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { UNIFIED_DIM } from './layout.ts';

export const NORM_MODES = ['zscore', 'quantile'] as const;
/** Normalization mode. */
export type NormMode = (typeof NORM_MODES)[number];

/**
 * The smallest spread a dim is scaled by: q99 - q01 (quantile) or 2 std (z-score) below this count
 * as this. Nearly constant dims (a gripper that never moves; the roll of a top-down gripper, which
 * only jitters by tracking noise of ~1e-3) would otherwise blow that noise up to the full [-1, 1]
 * range and turn any small real deviation at run time into a far out-of-range input. 1e-2 is 1 cm
 * or 0.6 degrees or 1% of a gripper's stroke.
 */
export const MIN_SPREAD = 1e-2;

const vector = z.array(z.number().refine(Number.isFinite, 'must be finite'));

/** Statistics of one feature, LeRobot's stats.json shape; arrays are per dim. */
export const featureStatsSchema = z.object({
  mean: vector,
  std: vector,
  min: vector.optional(),
  max: vector.optional(),
  q01: vector.optional(),
  q99: vector.optional(),
});
export type FeatureStats = z.infer<typeof featureStatsSchema>;

/** A normalizer for unified vectors of one embodiment. */
export type Normalizer = {
  readonly mode: NormMode;
  readonly mask: Float32Array;
  /** x -> y, into a new array */
  normalize(x: ArrayLike<number>): Float64Array;
  /** y -> x, into a new array */
  unnormalize(y: ArrayLike<number>): Float64Array;
};

/**
 * Builds the normalizer for unified vectors from unified-layout stats (each array UNIFIED_DIM
 * long) and the embodiment's mask for this vector (state or action).
 */
export function makeNormalizer(stats: FeatureStats, mask: ArrayLike<number>, mode: NormMode): Normalizer {
  const need = mode === 'zscore' ? (['mean', 'std'] as const) : (['q01', 'q99'] as const);
  const [a, b] = need.map((key) => {
    const v = stats[key];
    if (!v) throw new UserError(`${mode} normalization needs "${key}" in the stats; recompute them with \`vlalab data stats\``);
    if (v.length !== UNIFIED_DIM) throw new UserError(`stats "${key}" has ${v.length} values; unified stats have ${UNIFIED_DIM}`);
    return Float64Array.from(v);
  });
  if (mask.length !== UNIFIED_DIM) throw new UserError(`mask has ${mask.length} values; the unified layout has ${UNIFIED_DIM}`);
  // y = (x - shift) * gain, per dim
  const shift = new Float64Array(UNIFIED_DIM);
  const gain = new Float64Array(UNIFIED_DIM);
  for (let i = 0; i < UNIFIED_DIM; i++) {
    if (!mask[i]) continue;
    if (mode === 'zscore') {
      shift[i] = a[i];
      gain[i] = 1 / Math.max(b[i], MIN_SPREAD / 2);
    } else {
      shift[i] = (a[i] + b[i]) / 2;
      gain[i] = 2 / Math.max(b[i] - a[i], MIN_SPREAD);
    }
  }
  const frozenMask = Float32Array.from(mask);
  const check = (v: ArrayLike<number>, what: string) => {
    if (v.length !== UNIFIED_DIM) throw new UserError(`${what} has ${v.length} values; the unified layout has ${UNIFIED_DIM}`);
  };
  return Object.freeze({
    mode,
    mask: frozenMask,
    normalize(x: ArrayLike<number>) {
      check(x, 'vector to normalize');
      const y = new Float64Array(UNIFIED_DIM);
      for (let i = 0; i < UNIFIED_DIM; i++) if (frozenMask[i]) y[i] = (x[i] - shift[i]) * gain[i];
      return y;
    },
    unnormalize(y: ArrayLike<number>) {
      check(y, 'vector to unnormalize');
      const x = new Float64Array(UNIFIED_DIM);
      for (let i = 0; i < UNIFIED_DIM; i++) if (frozenMask[i]) x[i] = y[i] / gain[i] + shift[i];
      return x;
    },
  });
}

/**
 * The normalizers of an action chunk's H steps: step h uses `steps[h]` when per-step stats are
 * given, else every step shares the stats pooled over the chunk (`pooled`). Per-step stats keep the
 * first actions (those executed before re-planning), whose spread is a fraction of the chunk's
 * (eef-rel) or of another kind altogether (eef-delta's first step starts from the observed pose, the
 * others from the previous target), at the full [-1, 1] range.
 */
export function chunkNormalizers(pooled: FeatureStats, steps: readonly FeatureStats[] | undefined, mask: ArrayLike<number>, mode: NormMode, horizon: number): Normalizer[] {
  if (!steps) return Array<Normalizer>(horizon).fill(makeNormalizer(pooled, mask, mode));
  if (steps.length !== horizon) throw new UserError(`per-step action stats cover ${steps.length} chunk steps; the model's chunks have ${horizon}`);
  return steps.map((s) => makeNormalizer(s, mask, mode));
}
