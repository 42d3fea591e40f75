import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEnv } from './index.ts';

/** How an episode is disturbed: the executed action is changed while the expert's own commands are not. */
type Perturbation = 'drop' | 'miss';

/**
 * Runs the scripted expert on `task` for seeds 0..n-1 with `perturbation`: 'drop' opens the
 * gripper for 5 steps once a cube is carried above 7 cm (it falls); 'miss' shifts the executed
 * target 3 cm along x from the descent (target below 8 cm) until 5 steps after the gripper closes,
 * until the expert's first re-plan (the fingers close on the cube's edge or beside it).
 * -> successes and the expert's re-plans.
 */
async function disturbed(task: string, n: number, perturbation: Perturbation): Promise<{ success: number; retries: number }> {
  const env = await createEnv({ robot: 'panda7', task, imageSize: 8 });
  const names = env.embodiment.actionNames;
  const [g, x, z] = [names.indexOf('gripper'), names.indexOf('target_x'), names.indexOf('target_z')];
  const cubes = env.task.objects.filter((o) => o.kind === 'cube').map((o) => o.name);
  let success = 0;
  let retries = 0;
  try {
    for (let seed = 0; seed < n; seed++) {
      env.reset(seed);
      let from = -1;
      for (let t = 0; ; t++) {
        const a = env.expertAction();
        if (perturbation === 'drop') {
          if (from < 0 && cubes.some((c) => env.world.objectPose(c).p[2] > 0.07)) from = t;
          if (from >= 0 && t < from + 5) a[g] = 1;
        } else {
          if (from < 0 && a[g] < 0.5) from = t;
          if (a[z] < 0.08 && (from < 0 || t < from + 5) && env.expertRetries() === 0) a[x] += 0.03;
        }
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
