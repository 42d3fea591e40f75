import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeChunk, getEmbodiment, makeNormalizer, slot, stateToUnified, actionToUnified, UNIFIED_DIM } from '../actions/index.ts';
import { getConfig, initParams, numpy as np } from '../model/index.ts';
import { assertClose } from '../../test/helpers/close.ts';
import { Rng } from '../util/index.ts';
import { PolicyClient } from './client.ts';
import { chunkToNative, makeModelPolicy, type ModelPolicyParts, resizeToModel } from './model-policy.ts';
import { ndarray } from './msgpack-numpy.ts';
import { testObservation } from './policy.ts';
import { startServer } from './server.ts';

test('resizeToModel averages source blocks and scales to [-1, 1]', () => {
  // 4x4 -> 2x2: each output pixel is the mean of a 2x2 block
  const src = new Uint8Array(4 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) src.fill(y * 4 + x, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
  const out = new Float32Array(2 * 2 * 3 + 5);
  resizeToModel(ndarray('|u1', [4, 4, 3], src), 2, out, 5);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length / 127.5 - 1;
  const expected = [mean([0, 1, 4, 5]), mean([2, 3, 6, 7]), mean([8, 9, 12, 13]), mean([10, 11, 14, 15])];
  assertClose(out.subarray(5).filter((_, i) => i % 3 === 0), expected, 1e-6);
  // upsampling 2x3 -> 4x4 repeats pixels; 0 -> -1, 255 -> 1
  const tiny = ndarray('|u1', [2, 3, 3], Uint8Array.from({ length: 18 }, (_, i) => (i < 9 ? 0 : 255)));
  const up = new Float32Array(4 * 4 * 3);
  resizeToModel(tiny, 4, up, 0);
  assertClose(up.subarray(0, 24), new Float32Array(24).fill(-1), 1e-6);
  assertClose(up.subarray(24), new Float32Array(24).fill(1), 1e-6);
});

function parts(mode: ModelPolicyParts['parameterization'], seed = 0, model = 'debug'): ModelPolicyParts {
  const rng = new Rng(seed);
  const e = getEmbodiment('panda7');
  const stats = () => ({ mean: Array.from({ length: UNIFIED_DIM }, () => rng.normal()), std: Array.from({ length: UNIFIED_DIM }, () => 0.5 + rng.uniform()) });
  const config = getConfig(model);
  return {
    config,
    params: initParams(config, seed),
    embodiment: e,
    parameterization: mode,
    stateNormalizer: makeNormalizer(stats(), e.stateMask, 'zscore'),
    actionNormalizers: Array.from({ length: config.actionHorizon }, () => makeNormalizer(stats(), e.actionMask, 'zscore')), // per-step stats: each step its own
    tokenize: (prompt) => Array.from(new TextEncoder().encode(prompt)),
    seed,
  };
}

test('chunkToNative inverts normalization and the EEF parameterization back to native absolute actions', () => {
  const rng = new Rng(3);
  for (const mode of ['absolute', 'world-rel', 'eef-delta'] as const) {
    const p = parts(mode);
    const e = p.embodiment;
    const h = p.config.actionHorizon;
    // a native state (eef pose as xyz + axis-angle) and a native absolute chunk near it
    const nativeState = Float64Array.from(e.stateNames, () => rng.range(-0.5, 0.5));
    const nativeChunk = Array.from({ length: h }, (_, t) => Float64Array.from(e.actionNames, (_, j) => nativeState[j] + 0.01 * t + rng.range(-0.05, 0.05)));
    const unifiedState = stateToUnified(e, nativeState);
    const unifiedChunk = nativeChunk.map((a) => actionToUnified(e, a));
    const modelSpace = mode === 'absolute' ? unifiedChunk : encodeChunk(e, mode, unifiedState, unifiedChunk);
    const sampled = new Float32Array(h * UNIFIED_DIM);
    modelSpace.forEach((row, t) => sampled.set(p.actionNormalizers[t].normalize(row), t * UNIFIED_DIM));
    const native = chunkToNative(p, sampled, unifiedState);
    assert.equal(native.length, h * e.actionNames.length);
    assertClose(native, nativeChunk.flatMap((a) => [...a]), 1e-4, mode);
  }
});

test('a debug model serves native [H, D] chunks over the protocol, reproducibly per seed', async () => {
  const p = parts('world-rel', 1);
  const e = p.embodiment;
  const state = Array.from(e.stateNames, (_, i) => 0.1 * Math.sin(i));
  const obs = testObservation(state, { side: 32, pixel: 90, prompt: 'stack the blocks', wrist: false });
  const answers: Float32Array[] = [];
  for (let run = 0; run < 2; run++) {
    const server = await startServer(makeModelPolicy({ ...p, steps: 2 }), { port: 0 });
    const client = await PolicyClient.connect(server.url);
    assert.equal(client.metadata.embodiment, 'panda7');
    assert.equal(client.metadata.action_dim, 7);
    assert.equal(client.metadata.state_dim, 14);
    assert.equal(client.metadata.model, 'debug');
    assert.deepEqual(client.metadata.action_names, [...e.actionNames]);
    const r = await client.infer(obs);
    assert.deepEqual(r.actions.shape, [p.config.actionHorizon, 7]);
    assert.ok((r.actions.data as Float32Array).every(Number.isFinite));
    answers.push(r.actions.data as Float32Array);
    await assert.rejects(client.infer({ ...obs, prompt: undefined }), /"prompt" is missing/);
    await client.close();
    await server.close();
  }
  assertClose(answers[0], answers[1], 1e-5, 'same seed, same first chunk');
});

test("a model policy's aim probe: the aim head's output through the state normalizer's inverse, at the EEF position", async () => {
  const p = parts('absolute', 2, 'debug-conv-aim');
  // a head that always answers b: every normalized EEF coordinate is known
  const head = p.params.semantic.aim!;
  head.out.w.dispose();
  head.out.b.dispose();
  const b = [0.5, -1, 2];
  head.out = { w: np.zeros([p.config.numHeads * p.config.headDim, 3]), b: np.array(b) };
  const state = Array.from(p.embodiment.stateNames, (_, i) => 0.1 * Math.cos(i));
  const aim = await makeModelPolicy(p).aim(testObservation(state, { side: 32, pixel: 40, wrist: false }));
  const unit = new Float64Array(UNIFIED_DIM);
  const eef = slot('eef.right').offset;
  const zero = p.stateNormalizer.unnormalize(unit); // the stats' means, where z-scores are 0
  unit.fill(1);
  const std = p.stateNormalizer.unnormalize(unit).map((x, i) => x - zero[i]);
  assertClose(aim, b.map((z, j) => zero[eef + j] + std[eef + j] * z), 1e-5, 'mean + std x the head');
  const plain = parts('absolute', 2, 'debug-conv');
  await assert.rejects(makeModelPolicy(plain).aim(testObservation(state, { side: 32, wrist: false })), /has no aim head/);
});
