import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng, UserError } from '../util/index.ts';
import { MixtureIndex, parseMixture } from './mixture.ts';

describe('mixture index', () => {
  it('gives each dataset weight * floor(N_raw / S) of the mass (eq. 5) and steps frames by S', () => {
    const idx = new MixtureIndex([
      { name: 'a', episodeLengths: [10, 0, 20], frameStep: 1, weight: 1 }, // N_eff 30
      { name: 'b', episodeLengths: [45], frameStep: 3, weight: 2 }, // N_eff 15, mass 30
    ]);
    assert.deepEqual(idx.stats.map((s) => [s.nRaw, s.nEff, s.share]), [[30, 30, 0.5], [45, 15, 0.5]]);
    const rng = new Rng(1);
    const counts = [0, 0];
    for (let k = 0; k < 20000; k++) {
      const d = idx.draw(rng.uniform());
      counts[d.dataset]++;
      if (d.dataset === 1) assert.equal(d.globalFrame % 3, 0);
      if (d.dataset === 0) assert.notEqual(d.episode, 1, 'an empty episode was drawn');
      assert.ok(d.frame >= 0 && d.frame < [[10, 0, 20], [45]][d.dataset][d.episode]);
    }
    assert.ok(Math.abs(counts[0] / 20000 - 0.5) < 0.02, `${counts}`);
    // every effective frame of a is reachable: frame 29 = episode 2, frame 19
    assert.deepEqual(idx.draw(0.4999999), { dataset: 0, episode: 2, frame: 19, globalFrame: 29 });
    assert.deepEqual(idx.draw(0), { dataset: 0, episode: 0, frame: 0, globalFrame: 0 });
  });

  it('indexes a declared 180-million-frame corpus lazily (seconds, little memory)', () => {
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    // 12 datasets, 180M frames in 300k episodes of 600 frames; step sizes 1..4
    const datasets = Array.from({ length: 12 }, (_, i) => ({ name: `d${i}`, episodeLengths: new Int32Array(25_000).fill(600), frameStep: 1 + (i % 4), weight: 1 }));
    const idx = new MixtureIndex(datasets);
    const rng = new Rng(2);
    for (let k = 0; k < 100_000; k++) idx.draw(rng.uniform());
    const seconds = (performance.now() - t0) / 1000;
    const mb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    assert.equal(idx.stats.reduce((s, x) => s + x.nRaw, 0), 180_000_000);
    assert.ok(seconds < 10, `${seconds} s`);
    assert.ok(mb < 64, `${mb} MB`);
  });

  it('validates mixture files by field and resolves paths next to the file', () => {
    const m = parseMixture({ name: 'D1', datasets: [{ path: 'pp', frame_step_size: 2, category: 'sim' }] }, '/x/mix.json');
    assert.deepEqual(m.datasets[0], { path: '/x/pp', frame_step_size: 2, weight: 1, category: 'sim' });
    assert.throws(() => parseMixture({ datasets: [{ path: 'pp', frame_step_size: 0 }] }, 'm.json'), (e: Error) => e instanceof UserError && /m.json: datasets.0.frame_step_size/.test(e.message));
    assert.throws(() => parseMixture({ datasets: [{ path: 'pp', step: 2 }] }, 'm.json'), /m.json: datasets.0/);
    assert.throws(() => parseMixture({ datasets: [] }, 'm.json'), /datasets/);
  });
});
