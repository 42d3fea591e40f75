import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { numpy as np, tree, valueAndGrad } from './backend.ts';
import { Rng } from '../util/index.ts';
import { getConfig, initParams, paramCounts, paramSpecs, prefixLength, syntheticBatch, validateConfig } from './index.ts';
import { observationToDevice } from './batch.ts';
import { embedPrefix } from './mot.ts';
import { conv3x3s2, convStem, film, groupNorm, patchify } from './stem.ts';

const randn = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal());

/** The textbook convolution: out[i, j, o] = b[o] + sum over (dy, dx, c) of w[(dy*3+dx)*C+c, o] * x[2i+dy-1, 2j+dx-1, c] (zero outside). */
function directConv(x: Float32Array, [n, h, w, c]: number[], k: Float32Array, b: Float32Array, co: number): Float32Array {
  const ho = h / 2;
  const wo = w / 2;
  const out = new Float32Array(n * ho * wo * co);
  for (let m = 0; m < n; m++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) for (let o = 0; o < co; o++) {
    let s = b[o];
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) {
      const y = 2 * i + dy - 1;
      const xx = 2 * j + dx - 1;
      if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
      for (let ch = 0; ch < c; ch++) s += k[((dy * 3 + dx) * c + ch) * co + o] * x[((m * h + y) * w + xx) * c + ch];
    }
    out[((m * ho + i) * wo + j) * co + o] = s;
  }
  return out;
}

describe('the convolutional image stem', () => {
  it('computes a 3x3 stride-2 convolution as the textbook sum does (1e-5)', async () => {
    const rng = new Rng(1);
    const shape = [2, 8, 6, 3];
    const x = randn(rng, 2 * 8 * 6 * 3);
    const k = randn(rng, 27 * 5);
    const b = randn(rng, 5);
    const got = await conv3x3s2(np.array(x).reshape(shape), np.array(k).reshape([27, 5]), np.array(b)).data();
    const want = directConv(x, shape, k, b, 5);
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `element ${i}: ${got[i]} vs ${want[i]}`);
  });

  it('patchifies as a p x p stride-p convolution: each cell is its own pixels times the weights', async () => {
    const rng = new Rng(4);
    const x = randn(rng, 1 * 4 * 4 * 3);
    const k = randn(rng, 12 * 2);
    const got = await patchify(np.array(x).reshape([1, 4, 4, 3]), 2, np.array(k).reshape([12, 2]), np.zeros([2])).data();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let o = 0; o < 2; o++) {
      let want = 0;
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) for (let ch = 0; ch < 3; ch++) want += k[((dy * 2 + dx) * 3 + ch) * 2 + o] * x[((2 * i + dy) * 4 + 2 * j + dx) * 3 + ch];
      assert.ok(Math.abs(got[(i * 2 + j) * 2 + o] - want) < 1e-5, `cell ${i},${j} channel ${o}`);
    }
  });

  it('normalizes each group to zero mean and unit variance before the scale and shift', async () => {
    const rng = new Rng(2);
    const y = await groupNorm(np.array(randn(rng, 2 * 4 * 4 * 8)).reshape([2, 4, 4, 8]).mul(3).add(1), np.ones([8]), np.zeros([8]), 4).data();
    for (let m = 0; m < 2; m++) for (let g = 0; g < 4; g++) {
      const vals: number[] = [];
      for (let p = 0; p < 16; p++) for (let ch = 0; ch < 2; ch++) vals.push(y[(m * 16 + p) * 8 + g * 2 + ch]);
      const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
      const variance = vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length;
      assert.ok(Math.abs(mean) < 1e-5 && Math.abs(variance - 1) < 1e-3, `image ${m} group ${g}: mean ${mean}, variance ${variance}`);
    }
  });

  it('has gradients that match finite differences through patchify, conv, GroupNorm and SiLU', async () => {
    const rng = new Rng(3);
    const x = np.array(randn(rng, 2 * 8 * 8 * 3)).reshape([2, 8, 8, 3]);
    const r = np.array(randn(rng, 2 * 2 * 2 * 8)).reshape([2, 2, 2, 8]);
    const w0 = randn(rng, 12 * 4).map((v) => v * 0.3);
    const w1 = randn(rng, 36 * 8).map((v) => v * 0.3);
    const layers = (a: Float32Array<ArrayBuffer>) => [
      { w: np.array(a).reshape([12, 4]), b: np.zeros([4]), gnScale: np.ones([4]), gnShift: np.zeros([4]) },
      { w: np.array(w1).reshape([36, 8]), b: np.zeros([8]), gnScale: np.ones([8]), gnShift: np.zeros([8]) },
    ];
    const objective = (a: np.Array) => np.sum(convStem(x.ref, [{ w: a.reshape([12, 4]), b: np.zeros([4]), gnScale: np.ones([4]), gnShift: np.zeros([4]) }, layers(w0)[1]], 2).mul(r.ref));
    const [value0, gradient] = valueAndGrad(objective)(np.array(w0));
    value0.dispose();
    const g = await gradient.data();
    const value = async (a: Float32Array<ArrayBuffer>) => (await np.sum(convStem(x.ref, layers(a), 2).mul(r.ref)).data())[0];
    const eps = 1e-2;
    for (const i of [0, 13, 29, 47]) {
      const up = Float32Array.from(w0);
      const down = Float32Array.from(w0);
      up[i] += eps;
      down[i] -= eps;
      const fd = ((await value(up)) - (await value(down))) / (2 * eps);
      assert.ok(Math.abs(g[i] - fd) <= 2e-2 * (Math.abs(fd) + 0.1), `d/dw[${i}]: ${g[i]} vs finite difference ${fd}`);
    }
    tree.dispose([x, r]);
  });

  it('gives the debug-conv config one token per patch cell, as many as debug has', async () => {
    const c = validateConfig(getConfig('debug-conv'));
    const d = getConfig('debug');
    assert.equal(prefixLength(c), prefixLength(d));
    const specs = new Map(paramSpecs(c));
    assert.deepEqual(specs.get('semantic.stem.0.w'), [4 * 4 * 3, 16]);
    assert.deepEqual(specs.get('semantic.stem.2.w'), [9 * 32, 64]);
    assert.deepEqual(specs.get('semantic.patchEmbed.w'), [64, c.semanticWidth]);
    assert.ok(!paramSpecs(d).some(([n]) => n.includes('stem')), 'configs without a stem keep their parameter list');
    assert.ok(paramCounts(c).semantic > 0);
    const params = initParams(c, 0);
    const { layers, ...embed } = params.semantic;
    const obs = observationToDevice(syntheticBatch(c, 3, 0));
    const [x, valid] = embedPrefix(c, embed, obs.prefix);
    assert.deepEqual(x.shape, [3, prefixLength(c), c.semanticWidth]);
    assert.deepEqual(valid.shape, [3, prefixLength(c)]);
    tree.dispose([x, valid, layers, params.action, obs.state, obs.actionMask]);
  });

  it('gives debug-conv-96 the same tokens and layers as debug-conv, from 6 px patchify cells of 96 px views', async () => {
    const c = validateConfig(getConfig('debug-conv-96'));
    const d = getConfig('debug-conv');
    assert.equal(prefixLength(c), prefixLength(d));
    const specs = new Map(paramSpecs(c));
    for (const [name, shape] of paramSpecs(d)) assert.deepEqual(specs.get(name), name === 'semantic.stem.0.w' ? [6 * 6 * 3, 16] : shape, name);
    const params = initParams(c, 0);
    const { layers, ...embed } = params.semantic;
    const obs = observationToDevice(syntheticBatch(c, 2, 0));
    const [x, valid] = embedPrefix(c, embed, obs.prefix);
    assert.deepEqual(x.shape, [2, prefixLength(c), c.semanticWidth]);
    assert.ok((await x.data()).every(Number.isFinite));
    tree.dispose([valid, layers, params.action, obs.state, obs.actionMask]);
  });

  it('FiLM: x (1 + gamma) + beta per image and channel, from the conditioning vector', async () => {
    const rng = new Rng(5);
    const x = randn(rng, 2 * 2 * 2 * 3);
    const cond = randn(rng, 2 * 4);
    const w = randn(rng, 4 * 6);
    const b = randn(rng, 6);
    const got = await film(np.array(x).reshape([2, 2, 2, 3]), np.array(cond).reshape([2, 4]), { w: np.array(w).reshape([4, 6]), b: np.array(b) }).data();
    for (let m = 0; m < 2; m++) for (let p = 0; p < 4; p++) for (let ch = 0; ch < 3; ch++) {
      const gb = (o: number) => b[o] + [0, 1, 2, 3].reduce((s, k) => s + cond[m * 4 + k] * w[k * 6 + o], 0);
      const i = (m * 4 + p) * 3 + ch;
      assert.ok(Math.abs(got[i] - (x[i] * (1 + gb(ch)) + gb(3 + ch))) < 1e-5, `image ${m} pixel ${p} channel ${ch}`);
    }
  });

  it('conditions debug-conv-film image tokens on the instruction: identical at initialization, trained apart by the FiLM weights', async () => {
    const c = validateConfig(getConfig('debug-conv-film'));
    const specs = new Map(paramSpecs(c));
    assert.deepEqual(specs.get('semantic.stem.1.film.w'), [c.semanticWidth, 2 * 32]);
    assert.equal(paramSpecs(c).length, paramSpecs(getConfig('debug-conv')).length + 6, 'a FiLM map (w, b) per stem layer');
    const batch = syntheticBatch(c, 2, 0);
    const words = { ...batch.tokens, data: batch.tokens.data.map((t, i) => (i % c.maxTokens < 3 ? (t + 7) % c.vocabSize : t)) };
    /** The image tokens [B, V*P, D_s] of the batch's images with instruction tokens `tokens`. */
    const imageTokens = async (params: ReturnType<typeof initParams>, tokens: typeof batch.tokens) => {
      const { prefix, state, actionMask } = observationToDevice({ ...batch, tokens });
      const { layers, ...embed } = params.semantic;
      const [x, valid] = embedPrefix(c, embed, prefix);
      const img = (await x.slice([], [0, 2 * 16], []).data()) as Float32Array;
      tree.dispose([valid, layers, params.action, state, actionMask]);
      return img;
    };
    const params = initParams(c, 0);
    const a = await imageTokens(tree.ref(params), batch.tokens);
    const b = await imageTokens(tree.ref(params), words);
    assert.ok(a.every((v, i) => Math.abs(v - b[i]) < 1e-6), 'zero-initialized FiLM: the image tokens do not depend on the words');
    // a nonzero FiLM map (as training makes it): the same images, other words, other image tokens
    const stem0 = params.semantic.stem![0].film!;
    stem0.w.dispose();
    stem0.w = np.array(randn(new Rng(6), c.semanticWidth * 32)).reshape([c.semanticWidth, 32]);
    const a2 = await imageTokens(tree.ref(params), batch.tokens);
    const b2 = await imageTokens(params, words);
    assert.ok(a2.some((v, i) => Math.abs(v - b2[i]) > 1e-3), 'trained FiLM: the words change the image tokens');
  });

  it('refuses FiLM without a stem', () => {
    assert.throws(() => validateConfig({ ...getConfig('debug'), stemFilm: true }), /stemFilm conditions the convolutional stem: set stemChannels/);
  });

  it('refuses a stem whose depth does not reach the patch grid, saying what it needs', () => {
    assert.throws(() => validateConfig({ ...getConfig('debug-conv'), stemChannels: [8, 8, 8, 8, 8, 8] }), /patchSize \/ 2\^5 to be a whole number/);
    assert.throws(() => validateConfig({ ...getConfig('debug-conv'), stemChannels: [8, 30, 64] }), /multiples of 4/);
  });
});
