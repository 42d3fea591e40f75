import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEnv } from './index.ts';
import { type Perturbation, perturber } from './perturb.ts';

/** The scripted expert on `task` for seeds 0..n-1 under `kind` (perturb.ts). -> successes and the expert's re-plans. */
async function disturbed(task: string, n: number, kind: Perturbation): Promise<{ success: number; retries: number }> {
  const env = await createEnv({ robot: 'panda7', task, imageSize: 8 });
  let success = 0;
  let retries = 0;
  try {
    for (let seed = 0; seed < n; seed++) {
      env.reset(seed);
      const p = perturber(env, kind);
      for (let t = 0; ; t++) {
        const a = env.expertAction();
        p.apply(t, a);
        const r = env.step(a);
        if (r.done) {
          if (r.success) success++;
          break;
        }
      }
      retries += env.expertRetries();
    }
  } finally {
    env.close();
  }
  return { success, retries };
}

describe('the re-planning scripted expert', () => {
  for (const [task, perturbation] of [['pick-place', 'drop'], ['spatial-left-plate', 'drop'], ['pick-place', 'miss']] as const) {
    it(`solves ${task} at >= 95% over 50 seeds when the cube is ${perturbation === 'drop' ? 'dropped mid-way' : 'missed at the grasp'}`, async () => {
      const r = await disturbed(task, 50, perturbation);
      assert.ok(r.success >= 48, `${r.success}/50 solved`);
      assert.ok(r.retries >= 45, `the expert re-planned only ${r.retries} times in 50 disturbed episodes`);
    });
  }
});
