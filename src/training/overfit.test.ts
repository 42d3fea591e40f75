import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// the model layer first: it installs the worker shim before jax-js loads
import { getConfig, initParams, lossAndGrad, namedLeaves, settle, syntheticBatch, wasmMemoryBytes, random, tree } from '../model/index.ts';
import { ADAMW_DEFAULTS, adamwInit, adamwStep } from './optimizer.ts';

describe('training the debug MoT on one fixed batch', () => {
  it('overfits (loss falls >= 10x in 100 steps) without leaking arrays or wasm memory', async () => {
    const c = getConfig('debug');
    const batch = syntheticBatch(c, 4, 3);
    let params = initParams(c, 1);
    let optS = adamwInit(params.semantic);
    let optA = adamwInit(params.action);
    const losses: number[] = [];
    let memoryAfterWarmup: number | null = null;
    for (let step = 0; step < 100; step++) {
      // a fixed key: the same noise and flow times every step, so the batch is truly fixed
      const { loss, grads } = lossAndGrad(c, params, batch, random.key(0));
      const s = adamwStep(params.semantic, grads.semantic, optS, 3e-3, ADAMW_DEFAULTS);
      const a = adamwStep(params.action, grads.action, optA, 3e-3, ADAMW_DEFAULTS);
      params = { semantic: s.params, action: a.params };
      optS = s.state;
      optA = a.state;
      await settle(a.gradNorm);
      tree.dispose([s.gradNorm, a.gradNorm]);
      losses.push((await loss.data())[0]);
      if (step === 19) memoryAfterWarmup = wasmMemoryBytes();
    }
    const first = losses[0];
    const last = Math.min(...losses.slice(-5));
    assert.ok(last <= first / 10, `loss ${first.toFixed(4)} -> ${last.toFixed(4)} (wanted a 10x fall)`);
    // every parameter and moment is held exactly once: nothing kept an extra reference
    for (const t of [params, optS.m, optS.v, optA.m, optA.v]) {
      for (const [name, x] of namedLeaves(t as typeof params)) assert.equal(x.refCount, 1, name);
    }
    // with buffers freed every step, the allocator reuses them: wasm memory does not grow after warm-up
    if (memoryAfterWarmup !== null) assert.equal(wasmMemoryBytes(), memoryAfterWarmup, 'wasm memory grew between step 20 and 100');
    tree.dispose([params, optS.m, optS.v, optA.m, optA.v]);
  });
});
