import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimObservation } from '../sim/index.ts';
import type { ChunkPolicy } from './closed-loop.ts';
import { evaluateInSim } from './simulated.ts';

/** Holds the arm where it starts, gripper open: never succeeds, never grasps. */
const stillPolicy = (): ChunkPolicy<SimObservation> => ({
  async predict(obs) {
    const a = Float64Array.from(obs.state.subarray(0, 7));
    a[6] = 1;
    return [a];
  },
});

describe('evaluateInSim', () => {
  it('caps episodes at maxSteps and still says why they failed', async () => {
    const [row] = await evaluateInSim(stillPolicy, { robot: 'panda7', tasks: ['pick-place'], episodes: 2, seed: 0, executeSteps: 1, maxSteps: 5, quiet: true });
    assert.deepEqual(row.episodes.map((e) => [e.steps, e.success, e.failure]), [[5, false, 'no-grasp'], [5, false, 'no-grasp']]);
    const [full] = await evaluateInSim(stillPolicy, { robot: 'panda7', tasks: ['pick-place'], episodes: 1, seed: 0, executeSteps: 1, quiet: true });
    assert.equal(full.episodes[0].steps, 100, "without maxSteps, the task's budget");
  });
});
