/**
 * A checkpoint directory as `vlalab train` writes it (model, config, policy.json with panda7,
 * world-rel actions, z-score stats, per chunk step too with `perStep`, two cameras) from fresh
 * weights, and one observation for it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIFIED_DIM } from '../../src/actions/index.ts';
import { getConfig, initParams, type ModelConfig, type Observation, saveCheckpoint, syntheticBatch } from '../../src/model/index.ts';
import { POLICY_FILE, policyMeta } from '../../src/training/index.ts';
import { Rng } from '../../src/util/index.ts';

/** Writes the checkpoint into a new temporary directory and returns it with its model config. */
export async function policyCheckpoint(configName = 'debug', seed = 3, o: { perStep?: boolean } = {}): Promise<{ dir: string; config: ModelConfig }> {
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-policy-'));
  const rng = new Rng(seed + 2);
  const vec = (f: () => number) => Array.from({ length: UNIFIED_DIM }, f);
  const stats = () => ({ mean: vec(() => rng.normal() * 0.1), std: vec(() => 0.2 + rng.uniform()) });
  const config = getConfig(configName);
  await saveCheckpoint(dir, config, initParams(config, seed));
  const meta = policyMeta({ embodiment: 'panda7', parameterization: 'world-rel', normMode: 'zscore', cameras: ['front', 'wrist'], executeSteps: 4, norm: { state: stats(), action: stats(), ...(o.perStep ? { actionSteps: Array.from({ length: config.actionHorizon }, stats) } : {}) }, instruction: 'pick up the cube' });
  writeFileSync(join(dir, POLICY_FILE), JSON.stringify(meta));
  return { dir, config };
}

/** A synthetic model observation (B = 1) as plain arrays keyed by the exported model's input names. */
export function exportedInputs(c: ModelConfig, seed: number, noise: Float32Array): Record<string, { data: number[]; dims: number[]; dtype: 'float32' | 'int32' }> {
  const o = syntheticBatch(c, 1, seed) as Observation;
  const t = (x: { data: Float32Array | Int32Array; shape: number[] }) => ({ data: Array.from(x.data), dims: x.shape, dtype: x.data instanceof Int32Array ? 'int32' as const : 'float32' as const });
  return {
    images: t(o.images), image_mask: t(o.imageMask), tokens: t(o.tokens), token_mask: t(o.tokenMask),
    state: t(o.state), state_mask: t(o.stateMask), action_mask: t(o.actionMask), noise: t({ data: noise, shape: [1, c.actionHorizon, c.actionDim] }),
  };
}
