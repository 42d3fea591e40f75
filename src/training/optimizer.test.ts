import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { numpy as np, tree } from '../model/index.ts';
import { assertClose } from '../../test/helpers/close.ts';
import { ADAMW_DEFAULTS, adamwInit, adamwStep } from './optimizer.ts';
import { cosineLr } from './schedule.ts';

/** Plain-JS AdamW with global-norm clipping, the reference for the jitted one. */
function reference(p: number[][], gs: number[][][], lr: number, cfg = ADAMW_DEFAULTS) {
  const m = p.map((x) => x.map(() => 0));
  const v = p.map((x) => x.map(() => 0));
  p = p.map((x) => [...x]);
  gs.forEach((g, k) => {
    const t = k + 1;
    const norm = Math.sqrt(g.flat().reduce((a, x) => a + x * x, 0));
    const scale = Math.min(1, cfg.maxGradNorm / (norm + 1e-6));
    for (let i = 0; i < p.length; i++) {
      for (let j = 0; j < p[i].length; j++) {
        const gi = g[i][j] * scale;
        m[i][j] = cfg.beta1 * m[i][j] + (1 - cfg.beta1) * gi;
        v[i][j] = cfg.beta2 * v[i][j] + (1 - cfg.beta2) * gi * gi;
        const upd = m[i][j] / (1 - cfg.beta1 ** t) / (Math.sqrt(v[i][j] / (1 - cfg.beta2 ** t)) + cfg.eps);
        p[i][j] = p[i][j] * (1 - lr * cfg.weightDecay) - lr * upd;
      }
    }
  });
  return p;
}

describe('adamw', () => {
  it('matches a plain-JS AdamW with clipping and decoupled weight decay over 3 steps', async () => {
    const p0 = [[0.5, -1, 2], [3, 0.25]];
    const gs = [[[0.1, -0.2, 3], [1, -2]], [[0.01, 0.02, -0.03], [0.5, 0.5]], [[-1, 1, 0], [0.2, 0.1]]];
    const cfg = { ...ADAMW_DEFAULTS, weightDecay: 0.1 };
    let params = { a: np.array(p0[0]), b: { c: np.array(p0[1]) } };
    let state = adamwInit(params);
    const norms: number[] = [];
    for (const g of gs) {
      const out = adamwStep(params, { a: np.array(g[0]), b: { c: np.array(g[1]) } }, state, 0.01, cfg);
      params = out.params;
      state = out.state;
      norms.push((await out.gradNorm.data())[0]);
    }
    const want = reference(p0, gs, 0.01, cfg);
    assertClose(await params.a.ref.data(), want[0], 1e-6, 'a');
    assertClose(await params.b.c.ref.data(), want[1], 1e-6, 'b.c');
    assertClose(norms[0], Math.hypot(0.1, -0.2, 3, 1, -2), 1e-5, 'grad norm');
    assert.equal(state.step, 3);
    tree.dispose([params, state.m, state.v]);
  });

  it('releases its inputs (params, grads, moments)', () => {
    const params = { w: np.ones([4]) };
    const grads = { w: np.ones([4]) };
    const state = adamwInit(params);
    const out = adamwStep(params, grads, state, 1e-3);
    assert.equal(params.w.refCount, 0);
    assert.equal(grads.w.refCount, 0);
    assert.equal(state.m.w.refCount, 0);
    tree.dispose([out.params, out.state.m, out.state.v, out.gradNorm]);
  });
});

describe('cosineLr', () => {
  const s = { peakLr: 1e-3, totalSteps: 100, warmupRatio: 0.05, minLr: 1e-5 };
  it('warms up linearly to the peak', () => {
    assertClose(cosineLr(s, 0), 1e-3 / 5, 1e-12);
    assertClose(cosineLr(s, 4), 1e-3, 1e-12);
  });
  it('decays by a half cosine to minLr', () => {
    assertClose(cosineLr(s, 5), 1e-3, 1e-12);
    assertClose(cosineLr(s, 5 + 95 / 2), (1e-3 + 1e-5) / 2, 1e-12);
    assertClose(cosineLr(s, 100), 1e-5, 1e-12);
    assert.ok(cosineLr(s, 30) > cosineLr(s, 60));
  });
  it('works without warmup', () => {
    assertClose(cosineLr({ peakLr: 1, totalSteps: 10, warmupRatio: 0 }, 0), 1, 1e-12);
  });
});
