import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pose, Vec3 } from '../geometry/index.ts';
import { boxGraspYaw, Expert, yawMat, yawOf } from './expert.ts';
import { createEnv, type Env } from './index.ts';
import { type Perturbation, perturber } from './perturb.ts';
import { lifted, pickAndPlacePlan, stay } from './tasks.ts';
import type { World } from './world.ts';

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

/** Runs an episode of `env` driven by `policy` (a scripted "policy"), showing `look` each state's DAgger label (env.expertAction(true)) before the step. */
function driveLabelled(env: Env, policy: Expert, look: (label: Float64Array, w: World) => void): void {
  let r;
  do {
    look(env.expertAction(true), env.world);
    r = env.step(policy.nextAction(env.world));
  } while (!r.done);
}

describe('the expert labelling states another policy reached (DAgger: expertAction(true))', () => {
  it('drives itself from the state alone: solves pick-place and a spatial task on 10 seeds each', async () => {
    for (const task of ['pick-place', 'spatial-by-bowl-plate']) {
      const env = await createEnv({ robot: 'panda7', task, imageSize: 8 });
      let solved = 0;
      try {
        for (let seed = 0; seed < 10; seed++) {
          env.reset(seed);
          let r;
          do r = env.step(env.expertAction(true));
          while (!r.done);
          if (r.success) solved++;
        }
      } finally {
        env.close();
      }
      assert.ok(solved >= 9, `${task}: ${solved}/10 solved`);
    }
  });

  it('a policy that grasps sooner than the expert would (no approach from above) is told to keep the cube and carry it', async () => {
    const env = await createEnv({ robot: 'panda7', task: 'pick-place', imageSize: 8 });
    let carried = 0;
    let closed = 0;
    let towards = 0;
    try {
      for (let seed = 0; seed < 5; seed++) {
        env.reset(seed);
        // the "policy": straight down-and-across to the cube, close, lift, carry to the plate, let go
        const cube = (w: World): Pose => ({ p: w.objectPose('cube').p, r: yawMat(boxGraspYaw(yawOf(w.objectPose('cube').r))) });
        const plate = (w: World): Vec3 => {
          const p = w.objectPose('plate').p;
          return [p[0], p[1], p[2] + 0.05];
        };
        const policy = new Expert(env.world, [
          { arm: 0, gripper: 1, pose: cube, speed: 0.02 },
          { arm: 0, gripper: 0, pose: stay, hold: 4 },
          { arm: 0, gripper: 0, pose: lifted(0.12) },
          { arm: 0, gripper: 0, pose: (w, cur) => ({ p: [plate(w)[0], plate(w)[1], cur.p[2]], r: cur.r }) },
          { arm: 0, gripper: 0, pose: (w, cur) => ({ p: plate(w), r: cur.r }) },
          { arm: 0, gripper: 1, pose: stay, hold: 3 },
        ]);
        driveLabelled(env, policy, (label, w) => {
          const t = w.tcpPose(0).p;
          const o = w.objectPose('cube').p;
          const p = w.objectPose('plate').p;
          const opening = w.gripperOpening(0);
          if (o[2] > 0.06 && opening > 0.05 && opening < 0.7 && Math.hypot(t[0] - p[0], t[1] - p[1]) > 0.04) {
            carried++;
            if (label[label.length - 1] < 0.5) closed++;
            // the label's TCP target is nearer the plate (in xy) than the TCP
            if (Math.hypot(label[0] - p[0], label[1] - p[1]) < Math.hypot(t[0] - p[0], t[1] - p[1])) towards++;
          }
        });
      }
    } finally {
      env.close();
    }
    assert.ok(carried >= 20, `only ${carried} carrying frames`);
    assert.ok(closed >= 0.95 * carried, `the label says "keep closed" in ${closed} of ${carried} frames where the policy carries the cube`);
    assert.ok(towards >= 0.9 * carried, `the label moves towards the plate in ${towards} of ${carried} carrying frames`);
  });
});

describe('the expert labelling a policy that took the wrong object', () => {
  it('is told to set the other red cube down on the table, not to drop it in mid-air, then to go for the named one', async () => {
    const env = await createEnv({ robot: 'panda7', task: 'spatial-left-plate', imageSize: 8 });
    let high = 0;
    let openHigh = 0;
    let down = 0;
    let openLow = 0;
    try {
      for (const seed of [3, 4, 5]) {
        env.reset(seed);
        // the "policy" carries cube_b (the wrong one) towards the plate
        const policy = new Expert(env.world, pickAndPlacePlan(0, 'cube_b', (w) => {
          const p = w.objectPose('plate').p;
          return [p[0], p[1], p[2] + 0.04];
        }));
        driveLabelled(env, policy, (label, w) => {
          const t = w.tcpPose(0).p;
          const b = w.objectPose('cube_b').p;
          const opening = w.gripperOpening(0);
          if (opening > 0.05 && opening < 0.7 && Math.hypot(b[0] - t[0], b[1] - t[1], b[2] - t[2]) < 0.03) {
            if (b[2] > 0.06) {
              high++;
              if (label[label.length - 1] > 0.5) openHigh++;
              if (label[2] < t[2]) down++;
            } else if (label[label.length - 1] > 0.5) openLow++;
          }
        });
      }
    } finally {
      env.close();
    }
    assert.ok(high >= 30, `only ${high} frames with the wrong cube held high`);
    assert.equal(openHigh, 0, `"open" in ${openHigh} of ${high} frames with the wrong cube held high`);
    assert.ok(down >= 0.9 * high, `the label lowers the wrong cube in ${down} of ${high} frames`);
    assert.ok(openLow > 0, 'and lets it go once it is low');
  });
});
