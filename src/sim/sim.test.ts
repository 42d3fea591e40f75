import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserError } from '../util/index.ts';
import { createEnv, type Env, type StepResult } from './env.ts';
import { mujoco } from './mujoco.ts';

async function rollout(env: Env, seed: number): Promise<{ success: boolean; steps: number; qpos: Float64Array; actions: Float64Array[] }> {
  env.reset(seed);
  const actions: Float64Array[] = [];
  for (;;) {
    const a = env.expertAction();
    actions.push(a);
    const r = env.step(a);
    if (r.done) return { success: r.success, steps: r.steps, qpos: Float64Array.from(env.world.data.qpos as Float64Array), actions };
  }
}

describe('panda7 pick-place', () => {
  let env: Env;
  before(async () => {
    env = await createEnv({ robot: 'panda7', task: 'pick-place' });
  });
  after(() => env.close());

  it('the scripted expert succeeds within the budget', async () => {
    for (const seed of [0, 1, 2, 3]) {
      const r = await rollout(env, seed);
      assert.ok(r.success, `seed ${seed} failed after ${r.steps} steps`);
      assert.ok(r.steps < env.stepBudget);
    }
  });

  it('doing nothing does not succeed', () => {
    const obs = env.reset(5);
    const hold = new Float64Array(env.embodiment.actionNames.length);
    hold.set(obs.state.subarray(0, 6));
    hold[6] = 1;
    let r;
    for (let i = 0; i < 20; i++) r = env.step(hold);
    assert.equal(r!.success, false);
    assert.equal(r!.points, 0);
  });

  it('same seed and same actions give bitwise-identical states', async () => {
    const a = await rollout(env, 7);
    env.reset(7);
    let qpos = new Float64Array(0);
    for (const act of a.actions) {
      env.step(act);
      qpos = Float64Array.from(env.world.data.qpos as Float64Array);
    }
    assert.deepEqual(Buffer.from(qpos.buffer), Buffer.from(a.qpos.buffer));
    const other = env.reset(8);
    const again = env.reset(7);
    assert.notDeepEqual(other.state, again.state);
  });

  it('observations follow the embodiment spec', () => {
    const obs = env.reset(1);
    assert.deepEqual(Object.keys(obs.images), ['front', 'wrist']);
    for (const img of Object.values(obs.images)) assert.equal(img.length, 64 * 64 * 3);
    assert.equal(obs.state.length, env.embodiment.stateNames.length);
    // the TCP starts near (-0.1, 0, 0.22) pointing down: identity orientation, open gripper
    assert.ok(Math.abs(obs.state[0] + 0.1) < 0.03 && Math.abs(obs.state[2] - 0.22) < 0.03, `eef ${obs.state.subarray(0, 3)}`);
    assert.ok(Math.hypot(obs.state[3], obs.state[4], obs.state[5]) < 0.02);
    assert.ok(obs.state[13] > 0.95);
    assert.equal(obs.instruction, 'put the red cube on the plate');
  });

  it('rasterized depth agrees with mj_multiRay (median < 1 mm, 95% < 5 mm) and sees the same geoms', async () => {
    env.reset(3);
    for (let i = 0; i < 10; i++) env.step(env.expertAction());
    const mj = await mujoco();
    const { model: m, data: d } = env.world;
    const S = 32;
    const frame = env.render('front', S);
    const cp = Array.from((d.cam_xpos as Float64Array).subarray(0, 3));
    const R = Array.from((d.cam_xmat as Float64Array).subarray(0, 9));
    const focal = S / 2 / Math.tan(((m.cam_fovy as Float64Array)[0] * Math.PI) / 360);
    const vec: number[] = [];
    const norms: number[] = [];
    for (let v = 0; v < S; v++) {
      for (let u = 0; u < S; u++) {
        const c = [(u + 0.5 - S / 2) / focal, -(v + 0.5 - S / 2) / focal, -1];
        const n = Math.hypot(c[0], c[1], c[2]);
        norms.push(n);
        for (let r = 0; r < 3; r++) vec.push((R[3 * r] * c[0] + R[3 * r + 1] * c[1] + R[3 * r + 2] * c[2]) / n);
      }
    }
    const geomid = new mj.IntBuffer(S * S);
    const dist = new mj.DoubleBuffer(S * S);
    try {
      mj.mj_multiRay(m, d, cp, vec, null as unknown as number[], true, -1, geomid, dist, null, S * S, 100);
      const dv = dist.GetView() as Float64Array;
      const gv = geomid.GetView() as Int32Array;
      const errs: number[] = [];
      let same = 0;
      for (let i = 0; i < S * S; i++) {
        if (gv[i] === frame.geom[i]) same++;
        if (dv[i] >= 0 && Number.isFinite(frame.depth[i])) errs.push(Math.abs(dv[i] / norms[i] - frame.depth[i]));
      }
      errs.sort((a, b) => a - b);
      assert.ok(errs.length > 0.9 * S * S);
      assert.ok(errs[errs.length >> 1] < 1e-3, `median depth error ${errs[errs.length >> 1]}`);
      assert.ok(errs[Math.floor(0.95 * errs.length)] < 5e-3, `95th percentile depth error ${errs[Math.floor(0.95 * errs.length)]}`);
      assert.ok(same / (S * S) > 0.9, `only ${same} of ${S * S} pixels see the same geom`);
    } finally {
      geomid.delete();
      dist.delete();
    }
  });

  it('rejects bad input with clear errors', async () => {
    await assert.rejects(createEnv({ robot: 'panda', task: 'pick-place' }), (e: Error) => e instanceof UserError && /did you mean "panda7"/.test(e.message));
    await assert.rejects(createEnv({ robot: 'panda7', task: 'pick-plase' }), /did you mean "pick-place"/);
    await assert.rejects(createEnv({ robot: 'panda7', task: 'pick-place', imageSize: 3 }), /image size/);
    assert.throws(() => env.reset(-1), /seed must be an integer/);
    env.reset(0);
    assert.throws(() => env.step([1, 2, 3]), /panda7 actions have 7 values/);
    assert.throws(() => env.step([0, 0, 0.2, 0, 0, 0, NaN]), /action\[6\] \(gripper\) is NaN/);
  });
});

describe('pick-place on every robot', () => {
  for (const robot of ['ur6', 'widowx6', 'so5', 'bimanual6']) {
    it(`${robot}: the scripted expert succeeds, observations match the embodiment`, async () => {
      const env = await createEnv({ robot, task: 'pick-place' });
      try {
        for (const seed of [0, 1]) {
          const obs = env.reset(seed);
          assert.deepEqual(Object.keys(obs.images), env.embodiment.spec.cameras.map((c) => c.name));
          assert.equal(obs.state.length, env.embodiment.stateNames.length);
          let r;
          do r = env.step(env.expertAction()); while (!r.done);
          assert.ok(r.success, `${robot} seed ${seed} failed after ${r.steps} steps`);
        }
      } finally {
        env.close();
      }
    });
  }
});

describe('LIBERO-style suites', () => {
  it('has four suites of ten tasks with distinct instructions', async () => {
    const { allTasks, suiteNames } = await import('./index.ts');
    for (const suite of ['spatial', 'object', 'goal', 'long']) {
      const tasks = allTasks().filter((t) => t.suite === suite);
      assert.equal(tasks.length, 10, suite);
      assert.equal(new Set(tasks.map((t) => t.instruction)).size, 10, `${suite} instructions repeat`);
    }
    assert.deepEqual(suiteNames(), ['basic', 'spatial', 'object', 'goal', 'long', 'multistage', 'pretrain']);
  });

  it("object: each task lays out its own scene, so only the colour tells where its target is (one seed's layouts differ across tasks)", async () => {
    const { allTasks } = await import('./index.ts');
    const { Rng } = await import('../util/index.ts');
    const tasks = allTasks().filter((t) => t.suite === 'object');
    for (const seed of [0, 1, 2]) {
      const targets = tasks.map((t) => {
        const p = t.place(new Rng(seed)).get(t.name.split('-')[1])!; // object-COLOUR-DEST: the cube of that colour
        return `${p.x.toFixed(3)},${p.y.toFixed(3)}`;
      });
      assert.equal(new Set(targets).size, tasks.length, `seed ${seed}: target places ${targets.join(' ')}`);
    }
    const again = (t: (typeof tasks)[number]) => JSON.stringify([...t.place(new Rng(7))]);
    assert.equal(again(tasks[3]), again(tasks[3]), 'a seed still fixes a task\'s layout');
  });

  for (const task of ['spatial-far-bowl', 'object-orange-plate', 'goal-green-red', 'long-red-green-then-yellow-plate']) {
    it(`${task}: the expert earns every point; stage points count partial progress`, async () => {
      const env = await createEnv({ robot: 'panda7', task });
      try {
        env.reset(11);
        let r;
        let sawPartial = false;
        do {
          r = env.step(env.expertAction());
          if (r.points > 0 && r.points < r.maxPoints) sawPartial = true;
        } while (!r.done);
        assert.ok(r.success, `${task} failed with ${r.points}/${r.maxPoints} points`);
        assert.equal(r.points, r.maxPoints);
        if (r.maxPoints > 1) assert.ok(sawPartial, 'a two-goal task should pass through 1 point');
      } finally {
        env.close();
      }
    });
  }
});

describe('goal criteria', () => {
  it('a cube is on another when it rests on the top face: centre within half a cube of the base\'s, released', async () => {
    const { cubeOnCube } = await import('./suites.ts');
    const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const fake = (dx: number, dz: number, gripper = 1) => ({
      objectPose: (name: string) => ({ p: name === 'red' ? [0.1 + dx, 0, 0.02 + dz] : [0.1, 0, 0.02], r: identity }),
      tcpPose: () => ({ p: [0.1, 0, 0.3], r: identity }),
      gripperOpening: () => gripper,
    }) as unknown as import('./world.ts').World;
    assert.equal(cubeOnCube(fake(0, 0.04), 'red', 'green'), true, 'centred');
    assert.equal(cubeOnCube(fake(0.018, 0.04), 'red', 'green'), true, 'offset 1.8 cm: resting on the 4 cm top face (the DART-noised expert stacks like this)');
    assert.equal(cubeOnCube(fake(0.022, 0.04), 'red', 'green'), false, 'offset 2.2 cm: its centre is beyond the edge');
    assert.equal(cubeOnCube(fake(0, 0.0), 'red', 'green'), false, 'beside it on the table');
  });
});

describe('why a failed episode failed (failureMode)', () => {
  /** Steps `env` with `next` until the episode ends or `stop` holds for the step's result; that result. */
  function drive(env: Env, next: () => Float64Array, stop: (r: StepResult) => boolean = () => false): StepResult {
    let r;
    do r = env.step(next());
    while (!r.done && !stop(r));
    return r;
  }
  /** The action that keeps the arm where it is (gripper open, or as `gripper` says) until the budget runs out. */
  const still = (env: Env, gripper?: number) => {
    const a = env.expertAction(true);
    if (gripper !== undefined) a[a.length - 1] = gripper;
    return () => a;
  };

  it('spatial: nothing lifted, the other red cube carried, the target let go in mid-air, solved', async () => {
    const { pickAndPlacePlan } = await import('./tasks.ts');
    const { Expert } = await import('./expert.ts');
    const env = await createEnv({ robot: 'panda7', task: 'spatial-left-plate' });
    try {
      env.reset(3);
      assert.equal(env.failureMode(), 'no-grasp', 'before any step');
      assert.equal(drive(env, still(env)).success, false);
      assert.equal(env.failureMode(), 'no-grasp');

      env.reset(3);
      const other = new Expert(env.world, pickAndPlacePlan(0, 'cube_b', (w) => {
        const p = w.objectPose('plate').p;
        return [p[0], p[1], p[2] + 0.04];
      }));
      assert.equal(drive(env, () => other.nextAction(env.world)).success, false);
      assert.equal(env.failureMode(), 'wrong-object');

      env.reset(3);
      drive(env, () => env.expertAction(), () => env.world.objectPose('cube_a').p[2] > 0.08);
      assert.equal(drive(env, still(env, 1)).success, false);
      assert.ok(env.world.objectPose('cube_a').p[2] < 0.05, 'the cube fell');
      assert.equal(env.failureMode(), 'not-placed');

      env.reset(3);
      assert.equal(drive(env, () => env.expertAction()).success, true);
      assert.equal(env.failureMode(), undefined);
    } finally {
      env.close();
    }
  });

  it('a two-goal task judges the goal it is on: after the first point, the second cube not lifted is "no-grasp"', async () => {
    const env = await createEnv({ robot: 'panda7', task: 'long-red-plate-then-green-bowl' });
    try {
      env.reset(11);
      const r = drive(env, () => env.expertAction(), (x) => x.points === 1);
      assert.equal(r.points, 1);
      assert.equal(env.failureMode(), 'no-grasp', 'the red cube lifted for the first goal no longer counts');
      assert.equal(drive(env, still(env)).success, false);
      assert.equal(env.failureMode(), 'no-grasp');
    } finally {
      env.close();
    }
  });
});

describe('multi-stage point-scored tasks', () => {
  const rubric = { 'stack-bowls': 3, 'pick-to-drawer': 5, 'wipe-board': 4, 'water-plant': 3 } as const;

  for (const [task, max] of Object.entries(rubric)) {
    it(`${task}: the expert earns all ${max} points, one stage after another`, async () => {
      const env = await createEnv({ robot: 'panda7', task });
      try {
        env.reset(7);
        const seen: number[] = [0];
        let r;
        do {
          r = env.step(env.expertAction());
          if (r.points !== seen[seen.length - 1]) seen.push(r.points);
        } while (!r.done);
        assert.equal(r.maxPoints, max);
        assert.ok(r.success, `${task} ended with ${r.points}/${max} points`);
        // points never fall, and (the expert doing one stage at a time) every count is passed through
        assert.deepEqual(seen, Array.from({ length: max + 1 }, (_, k) => k), `points went ${seen.join(' -> ')}`);
      } finally {
        env.close();
      }
    });
  }

  it('a stage counts only after the stages before it (pick-to-drawer with a fake world)', async () => {
    const { getTask } = await import('./index.ts');
    const task = getTask('pick-to-drawer');
    const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const fake = (drawer: number, cubeZ: number) => ({
      jointPosition: () => drawer,
      objectPose: (name: string) => ({ p: name === 'cube' ? [-0.2, -0.2, cubeZ] : [0.17, 0.08, 0], r: identity }),
      tcpPose: () => ({ p: [-0.2, -0.2, cubeZ], r: identity }),
      gripperOpening: () => 0.5,
    }) as unknown as import('./world.ts').World;
    assert.equal(task.score(fake(0, 0.1), 0), 0, 'lifting the cube before opening the drawer earns nothing');
    assert.equal(task.score(fake(0, 0.1), 1), 2, 'once the drawer was opened, lifting the cube is stage 2');
    assert.equal(task.score(fake(0.1, 0.1), 0), 2, 'both in one state: two stages');
    assert.equal(task.score(fake(0, 0.02), 3), 3, 'points reached stay reached');
  });
});

describe('unified actions in every parameterization', () => {
  it('the expert, encoded in each mode and stepped with stepUnified, follows the native trajectory', async () => {
    const { actionToUnified, encodeChunk, EEF_MODES, stateToUnified } = await import('../actions/index.ts');
    const env = await createEnv({ robot: 'panda7', task: 'pick-place' });
    try {
      const native = await rollout(env, 5);
      for (const mode of [...EEF_MODES, 'absolute'] as const) {
        env.reset(5);
        const e = env.embodiment;
        let r;
        let k = 0;
        do {
          const u = actionToUnified(e, native.actions[k++]);
          const a = mode === 'absolute' ? u : encodeChunk(e, mode, stateToUnified(e, env.world.nativeState()), [u])[0];
          r = env.stepUnified(a, mode);
        } while (!r.done && k < native.actions.length);
        assert.ok(r.success, `${mode}: the encoded expert failed`);
        const q = env.world.data.qpos as Float64Array;
        const worst = Math.max(...Array.from(q, (v, i) => Math.abs(v - native.qpos[i])));
        // decode(encode(a)) equals a to ~1e-15; contacts amplify that over an episode to ~1e-5
        assert.ok(worst < 1e-3, `${mode}: final state differs by ${worst}`);
      }
    } finally {
      env.close();
    }
  });
});

describe('appearance domains', () => {
  it('the alt domain changes the pictures, not the physics', async () => {
    const a = await createEnv({ robot: 'panda7', task: 'pick-place' });
    const b = await createEnv({ robot: 'panda7', task: 'pick-place', domain: 'alt' });
    try {
      const ra = await rollout(a, 3);
      const rb = await rollout(b, 3);
      assert.deepEqual(rb.qpos, ra.qpos, 'same seed, same expert: the same states');
      const pa = a.render('front').rgb;
      const pb = b.render('front').rgb;
      let differ = 0;
      for (let i = 0; i < pa.length; i += 3) if (pa[i] !== pb[i] || pa[i + 1] !== pb[i + 1] || pa[i + 2] !== pb[i + 2]) differ++;
      assert.ok(differ > pa.length / 3 / 2, `most pixels change colour (${differ} of ${pa.length / 3})`);
      await assert.rejects(createEnv({ robot: 'panda7', task: 'pick-place', domain: 'mars' }), /unknown domain "mars"/);
    } finally {
      a.close();
      b.close();
    }
  });
});
