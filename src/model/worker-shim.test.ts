import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { kernelLaunches, kernelMemo, multiThreaded } from './index.ts';
import { jit, numpy as np } from '@jax-js/jax';
import { maxAbsDiff } from '../../test/helpers/close.ts';

describe('worker shim (wasm thread pool)', () => {
  it('is active unless VLALAB_THREADS=1 or the machine has one core', () => {
    const want = process.env.VLALAB_THREADS !== '1' && availableParallelism() > 1;
    assert.equal(multiThreaded, want);
  });

  it('computes kernels split across threads and tiny inline ones exactly like plain JS', async () => {
    const n = 96; // 9216 outputs: one chunk per worker
    const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(3 * i));
    const want = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) want[i * n + j] += a[i * n + k] * b[k * n + j];
    const f = jit((x: np.Array, y: np.Array) => np.matmul(x, y).add(1));
    for (let rep = 0; rep < 3; rep++) {
      const got = await f(np.array(a, { shape: [n, n] }), np.array(b, { shape: [n, n] })).data();
      assert.ok(maxAbsDiff(got, want.map((x) => x + 1)) < 1e-3);
    }
    const small = await np.array([3, 1, 2]).mul(2).data();
    assert.deepEqual([...small], [6, 2, 4]);
  });

  it('memoizes kernel preparation and counts every launch (bench/model-step.ts --kernels)', async () => {
    assert.ok(kernelMemo, 'the jax-js backend layout changed: the memo patch in backend.ts is off');
    const f = jit((x: np.Array) => x.mul(2).add(1).sum());
    await f(np.array([1, 2, 3])).data(); // compile
    const k0 = kernelLaunches();
    for (let rep = 0; rep < 3; rep++) assert.equal((await f(np.array([1, 2, 3])).data())[0], 15);
    const perCall = (kernelLaunches() - k0) / 3;
    assert.ok(Number.isInteger(perCall) && perCall >= 1, `${kernelLaunches() - k0} launches in 3 calls`);
  });

  it('runs CPU routines (sort) through the pool', async () => {
    const x = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i * 7.1));
    const got = await np.sort(np.array(x)).data();
    assert.deepEqual([...got], [...x].sort((p, q) => p - q));
  });
});
