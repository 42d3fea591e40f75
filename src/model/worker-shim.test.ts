import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jaxVersion, kernelLaunches, kernelMemo, kernelPreparations, multiThreaded, wasmBackendOf } from './index.ts';
import { jit, numpy as np } from './backend.ts';
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
    assert.ok(kernelMemo, 'the memo patch is off (VLALAB_KERNEL_MEMO=0?)');
    const f = jit((x: np.Array) => x.mul(2).add(1).sum());
    await f(np.array([1, 2, 3])).data(); // compile
    const k0 = kernelLaunches();
    const p0 = kernelPreparations();
    for (let rep = 0; rep < 3; rep++) assert.equal((await f(np.array([1, 2, 3])).data())[0], 15);
    const perCall = (kernelLaunches() - k0) / 3;
    assert.ok(Number.isInteger(perCall) && perCall >= 1, `${kernelLaunches() - k0} launches in 3 calls`);
    assert.equal(kernelPreparations() - p0, 0, 'a repeated jitted call prepared its kernels again: the memo missed');
  });

  it('the memo patch fails loudly, naming the jax-js version, when jax-js\'s layout changes', async () => {
    assert.match(jaxVersion(), /^\d+\.\d+\.\d+/);
    await assert.rejects(wasmBackendOf('export * from "./index-x.js";', async () => ({}), '9.9.9'), /@jax-js\/jax 9\.9\.9: the kernel memo patch .* finds no backend-\*\.js chunk.*VLALAB_KERNEL_MEMO=0/);
    await assert.rejects(wasmBackendOf('export { a } from "./backend-AbC1.js";', async () => ({ other() {} }), '9.9.9'), /9\.9\.9: .* finds no getBackend in backend-AbC1\.js/);
    await assert.rejects(wasmBackendOf('export { a } from "./backend-AbC1.js";', async () => ({ getBackend: () => ({}) }), '9.9.9'), /finds no prepareKernel/);
  });

  it('a process that imports training, serving or CLI code first still gets the thread pool and the memo', () => {
    const want = process.env.VLALAB_THREADS !== '1' && availableParallelism() > 1;
    const src = join(import.meta.dirname, '..');
    const probe = `const m = await import(${JSON.stringify(join(src, 'model/index.ts'))}); console.log(JSON.stringify([m.multiThreaded, m.kernelMemo]));`;
    for (const [what, first] of [['training', 'training/index.ts'], ['serving', 'serving/index.ts'], ['the CLI', 'cli/main.ts']]) {
      // the CLI runs a command that touches no model (its main parses argv on import)
      const code = `process.argv = [process.argv[0], 'vlalab', 'embodiments', '--json']; await import(${JSON.stringify(join(src, first))}); ${probe}`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), [want, true], `${what} first`);
    }
  });

  it('runs CPU routines (sort) through the pool', async () => {
    const x = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i * 7.1));
    const got = await np.sort(np.array(x)).data();
    assert.deepEqual([...got], [...x].sort((p, q) => p - q));
  });
});
