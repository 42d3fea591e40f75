/** Deterministic synthetic batches in the batch contract, for tests, benchmarks and smoke runs. */
import { getEmbodiment } from '../actions/index.ts';
import { Rng } from '../util/index.ts';
import type { Batch } from './batch.ts';
import type { ModelConfig } from './config.ts';

/**
 * A random batch of `batchSize` panda7 samples: images uniform in [-1, 1] (odd samples miss their
 * last view), instructions of 3..L byte tokens, state/actions ~ N(0, 0.5^2) in the unified layout
 * (values also in unused dims, which the masks must neutralize). For a config with an aim head,
 * aim targets ~ N(0, 1), every third sample without one (aimMask 0).
 */
export function syntheticBatch(c: ModelConfig, batchSize: number, seed: number): Batch {
  const rng = new Rng(seed);
  const emb = getEmbodiment('panda7');
  const b = batchSize;
  const a = c.actionDim;
  const s = c.imageSize;
  const rand = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const tile = (m: Float32Array) => rand(b * a, () => 0).map((_, i) => m[i % a]);
  const tokens = new Int32Array(b * c.maxTokens);
  const tokenMask = new Float32Array(b * c.maxTokens);
  for (let i = 0; i < b; i++) {
    const len = 3 + rng.int(c.maxTokens - 2);
    for (let j = 0; j < len; j++) {
      tokens[i * c.maxTokens + j] = rng.int(Math.min(256, c.vocabSize));
      tokenMask[i * c.maxTokens + j] = 1;
    }
  }
  return {
    images: { data: rand(b * c.maxViews * s * s * 3, () => rng.range(-1, 1)), shape: [b, c.maxViews, s, s, 3] },
    imageMask: { data: rand(b * c.maxViews, () => 0).map((_, i) => (Math.floor(i / c.maxViews) % 2 === 1 && i % c.maxViews === c.maxViews - 1 ? 0 : 1)), shape: [b, c.maxViews] },
    tokens: { data: tokens, shape: [b, c.maxTokens] },
    tokenMask: { data: tokenMask, shape: [b, c.maxTokens] },
    state: { data: rand(b * a, () => rng.normal() * 0.5), shape: [b, a] },
    stateMask: { data: tile(emb.stateMask), shape: [b, a] },
    actionMask: { data: tile(emb.actionMask), shape: [b, a] },
    actions: { data: rand(b * c.actionHorizon * a, () => rng.normal() * 0.5), shape: [b, c.actionHorizon, a] },
    ...(c.aimWeight ? { aim: { data: rand(b * 3, () => rng.normal()), shape: [b, 3] }, aimMask: { data: rand(b, () => 0).map((_, i) => (i % 3 === 2 ? 0 : 1)), shape: [b] } } : {}),
  };
}
