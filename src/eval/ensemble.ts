/**
 * Temporal ensembling of action chunks (ACT, Zhao et al. 2023): the policy is queried at every
 * control step, and the action executed at step t averages every stored chunk's prediction for t,
 * weighted w_i = exp(-m i) with i = 0 the oldest prediction (m > 0 favours older chunks, m = 0
 * weighs them alike). Smooths execution without waiting out a chunk before reacting.
 */
import type { ChunkPolicy } from './closed-loop.ts';

/**
 * `policy` with temporal ensembling of weight `m` (ACT's default 0.01). Run it with
 * executeSteps = 1: each predict returns the one ensembled action for the current step.
 */
export function ensembled<Obs>(policy: ChunkPolicy<Obs>, m: number): ChunkPolicy<Obs> {
  if (!(m >= 0 && Number.isFinite(m))) throw new Error(`temporal ensembling weight must be a number >= 0, got ${m}`);
  let step = 0;
  let chunks: { from: number; actions: ArrayLike<number>[] }[] = [];
  return {
    reset() {
      step = 0;
      chunks = [];
      policy.reset?.();
    },
    async predict(obs) {
      const actions = await policy.predict(obs);
      if (actions.length === 0) throw new Error('policy returned an empty action chunk');
      chunks.push({ from: step, actions });
      chunks = chunks.filter((c) => step - c.from < c.actions.length); // those that still cover this step, oldest first
      const dim = actions[0].length;
      const out = new Float64Array(dim);
      let total = 0;
      chunks.forEach((c, i) => {
        const w = Math.exp(-m * i);
        const a = c.actions[step - c.from];
        for (let j = 0; j < dim; j++) out[j] += w * a[j];
        total += w;
      });
      for (let j = 0; j < dim; j++) out[j] /= total;
      step++;
      return [out];
    },
  };
}
