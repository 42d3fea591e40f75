import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDataset } from '../data/index.ts';
import type { ChunkPolicy } from '../eval/index.ts';
import type { SimObservation } from '../sim/index.ts';
import { getEmbodiment } from '../actions/index.ts';
import { eefTargetIndices, executionNoise, recordDemonstrations } from './record.ts';

/** A policy that holds the arm where it is with the gripper open (panda7: EEF pose = state[0..6]). */
const holdStill = (): ChunkPolicy<SimObservation> => ({
  predict: async (obs) => [Float64Array.from([...obs.state.slice(0, 6), 1])],
});

describe('sim record --relabel (DAgger)', () => {
  it('lets the policy drive, labels every state with the expert\'s action from it, and keeps failed episodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-relabel-'));
    try {
      const r = await recordDemonstrations({
        robot: 'panda7', tasks: ['pick-place'], episodes: 2, seed: 0, out: join(dir, 'ds'), imageSize: 16, quiet: true,
        relabel: { policy: holdStill, executeSteps: 1 },
      });
      assert.equal(r.failed, 2, 'a policy that holds still solves nothing');
      assert.equal(r.episodes, 2, 'failed relabelled episodes are kept');
      const ds = await openDataset(join(dir, 'ds'));
      assert.equal(ds.numFrames, 2 * 100, 'each episode runs its whole step budget');
      const a = ds.action;
      const s = ds.state;
      const [da, dsd] = [7, 14];
      for (let i = 0; i < ds.numFrames; i++) {
        // the arm stays put (the policy drives it) ...
        const moved = Math.hypot(s[i * dsd] - s[0], s[i * dsd + 1] - s[1]);
        if (i < 100) assert.ok(moved < 0.01, `frame ${i}: the held arm moved ${moved} m`);
        // ... while every label is the expert's move from that state: a step of the approach towards the cube, not "hold"
        const step = Math.hypot(a[i * da] - s[i * dsd], a[i * da + 1] - s[i * dsd + 1], a[i * da + 2] - s[i * dsd + 2]);
        assert.ok(step > 0.01 && step <= 0.031, `frame ${i}: label moves ${step} m from the state (the expert's speed is 0.03 per step)`);
        assert.equal(a[i * da + 6], 1, `frame ${i}: the approach keeps the gripper open`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sim record --noise (DART)', () => {
  it('offsets the executed EEF target, held for 4 steps, the same for a seed', () => {
    const run = (seed: number) => {
      const noise = executionNoise(0.01, seed, [0, 1, 2]);
      return Array.from({ length: 12 }, (_, t) => {
        const a = new Float64Array(7);
        noise(t, a);
        assert.deepEqual([...a.slice(3)], [0, 0, 0, 0], 'only the target position moves');
        return [...a.slice(0, 3)];
      });
    };
    const x = run(5);
    for (const t of [1, 2, 3, 5, 6, 7, 9, 10, 11]) assert.deepEqual(x[t], x[t - (t % 4)], `step ${t} holds the offset of step ${t - (t % 4)}`);
    assert.notDeepEqual(x[0], x[4]);
    assert.notDeepEqual(x[4], x[8]);
    assert.ok(x[0].every((v) => v !== 0 && Math.abs(v) < 0.05));
    assert.deepEqual(run(5), x, 'the same seed, the same noise');
    assert.notDeepEqual(run(6), x);
  });

  it('finds the EEF target position among the action names, none for a joint-controlled robot', () => {
    const names = getEmbodiment('panda7').actionNames;
    assert.deepEqual(eefTargetIndices(names)?.map((i) => names[i]), ['target_x', 'target_y', 'target_z']);
    assert.equal(eefTargetIndices(getEmbodiment('so5').actionNames), undefined);
  });

  it('records the expert\'s clean commands as labels while the arm executes noisy ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-noise-'));
    try {
      const record = (noise: number, out: string) => recordDemonstrations({ robot: 'panda7', tasks: ['pick-place'], episodes: 1, seed: 3, out: join(dir, out), imageSize: 16, quiet: true, noise });
      assert.equal((await record(0.01, 'noisy')).episodes, 1);
      assert.equal((await record(0, 'clean')).episodes, 1);
      const [noisy, clean] = [await openDataset(join(dir, 'noisy')), await openDataset(join(dir, 'clean'))];
      assert.notDeepEqual([...noisy.state.slice(0, 14 * 20)], [...clean.state.slice(0, 14 * 20)], 'the noise moved the arm off the clean path');
      const a = noisy.action;
      for (let i = 1; i < noisy.numFrames; i++) {
        // the expert's commands move at most its speed (0.03 m) per step; noisy ones would jump by the offsets
        const step = Math.hypot(a[i * 7] - a[(i - 1) * 7], a[i * 7 + 1] - a[(i - 1) * 7 + 1], a[i * 7 + 2] - a[(i - 1) * 7 + 2]);
        assert.ok(step <= 0.0301, `label ${i} jumps ${step} m from the one before`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
