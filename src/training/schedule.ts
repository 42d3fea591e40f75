/** Learning-rate schedules. */

/** A cosine schedule with linear warmup (SPEC section 6: warmup ratio 0.05). */
export type CosineSchedule = {
  /** Peak learning rate, reached at the end of warmup. */
  peakLr: number;
  /** Total optimizer steps. */
  totalSteps: number;
  /** Fraction of totalSteps spent warming up linearly from 0. */
  warmupRatio: number;
  /** Final learning rate at the last step (default 0). */
  minLr?: number;
};

/**
 * The learning rate at `step` (0-based): peak (s + 1) / W during the W = round(ratio T) warmup
 * steps, then minLr + (peak - minLr) (1 + cos(pi (s - W) / (T - W))) / 2.
 */
export function cosineLr(s: CosineSchedule, step: number): number {
  const min = s.minLr ?? 0;
  const warmup = Math.round(s.warmupRatio * s.totalSteps);
  if (step < warmup) return (s.peakLr * (step + 1)) / warmup;
  const decaySteps = Math.max(1, s.totalSteps - warmup);
  const progress = Math.min(1, (step - warmup) / decaySteps);
  return min + ((s.peakLr - min) * (1 + Math.cos(Math.PI * progress))) / 2;
}
