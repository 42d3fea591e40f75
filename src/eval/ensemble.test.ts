import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkPolicy } from './closed-loop.ts';
import { ensembled } from './ensemble.ts';

/** A policy whose chunk predicted at query q is [q*10 + k for k in 0..2] (one-dim actions). */
function counting(): ChunkPolicy<null> {
  let q = 0;
  return { reset: () => { q = 0; }, predict: async () => { const base = 10 * q++; return [0, 1, 2].map((k) => [base + k]); } };
}

describe('temporal ensembling (ACT)', () => {
  it('averages every chunk that covers a step, weighted exp(-m i) from the oldest', async () => {
    const p = ensembled(counting(), 0.5);
    const got: number[] = [];
    for (let t = 0; t < 4; t++) got.push((await p.predict(null))[0][0]);
    // step 0: chunk 0 -> 0; step 1: chunk0[1] = 1, chunk1[0] = 10; step 2: 2, 11, 20; step 3: 12, 21, 30
    const w = [1, Math.exp(-0.5), Math.exp(-1)];
    const avg = (xs: number[]) => xs.reduce((s, x, i) => s + w[i] * x, 0) / xs.reduce((s, _, i) => s + w[i], 0);
    const want = [0, avg([1, 10]), avg([2, 11, 20]), avg([12, 21, 30])];
    got.forEach((g, t) => assert.ok(Math.abs(g - want[t]) < 1e-12, `step ${t}: ${g} vs ${want[t]}`));
  });

  it('starts over on reset, and with m = 0 is the plain mean', async () => {
    const p = ensembled(counting(), 0);
    await p.predict(null);
    await p.predict(null);
    p.reset!();
    assert.deepEqual(Array.from((await p.predict(null))[0]), [0]);
    assert.deepEqual(Array.from((await p.predict(null))[0]), [(1 + 10) / 2]);
    assert.throws(() => ensembled(counting(), -1), /must be a number >= 0/);
  });
});
