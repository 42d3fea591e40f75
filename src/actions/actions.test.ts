import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertClose, maxAbsDiff } from '../../test/helpers/close.ts';
import { matFromAxisAngle, norm3, type PosAxisAngle, type Pose, posAxisAngleFromPose } from '../geometry/index.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import {
  actionFromUnified,
  actionToUnified,
  decodeChunk,
  decodePoses,
  defineEmbodiment,
  EEF_MODES,
  type EmbodimentSpecInput,
  embodimentNames,
  encodeChunk,
  encodePoses,
  getEmbodiment,
  chunkNormalizers,
  makeNormalizer,
  MIN_SPREAD,
  parseEefMode,
  SLOTS,
  slot,
  stateFromUnified,
  stateToUnified,
  UNIFIED_DIM,
  unifiedDimName,
} from './index.ts';

function randomPose(rng: Rng, maxAngle = Math.PI): Pose {
  const axis = [rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(axis[0], axis[1], axis[2]);
  const t = rng.uniform() * maxAngle;
  return {
    p: [rng.range(-1, 1), rng.range(-1, 1), rng.range(-1, 1)],
    r: matFromAxisAngle([(axis[0] / n) * t, (axis[1] / n) * t, (axis[2] / n) * t]),
  };
}

/** H independent random target poses (not a smooth trajectory: the exact inverses must hold for any chunk). */
function randomChunk(rng: Rng, h: number): Pose[] {
  return Array.from({ length: h }, () => randomPose(rng));
}

const MINIMAL: EmbodimentSpecInput = {
  name: 'test-arm',
  robotType: 'test_arm',
  fps: 10,
  cameras: [{ name: 'front' }],
  state: [{ slot: 'joint.right', names: ['j1', 'j2'], control: 'joint-position' }],
  action: [{ slot: 'joint.right', names: ['j1', 'j2'], control: 'joint-position' }],
};

describe('unified layout', () => {
  it('has the SPEC slots, contiguous, 60 dims', () => {
    assert.deepEqual(
      SLOTS.map((s) => [s.name, s.dims]),
      [['eef.right', 6], ['eef.left', 6], ['joint.right', 7], ['joint.left', 7], ['gripper.right', 1], ['gripper.left', 1], ['hand.right', 12], ['hand.left', 12], ['aux', 8]],
    );
    assert.equal(UNIFIED_DIM, 60);
    let offset = 0;
    for (const s of SLOTS) {
      assert.equal(s.offset, offset);
      offset += s.dims;
    }
    assert.equal(unifiedDimName(26), 'gripper.right[0]');
    assert.throws(() => slot('eef.middle'), /unknown slot "eef.middle"/);
  });
});

describe('embodiments', () => {
  it('registers the simulated robots with masks matching their bindings', () => {
    assert.deepEqual(embodimentNames(), ['panda7', 'ur6', 'widowx6', 'bimanual6', 'so5', 'dex']);
    const panda = getEmbodiment('panda7');
    const used = (m: Float32Array) => Array.from(m).flatMap((v, i) => (v ? [unifiedDimName(i)] : []));
    assert.deepEqual(used(panda.actionMask), ['eef.right[0]', 'eef.right[1]', 'eef.right[2]', 'eef.right[3]', 'eef.right[4]', 'eef.right[5]', 'gripper.right[0]']);
    assert.equal(panda.stateNames.length, 14);
    assert.deepEqual(panda.eefSlots, ['eef.right']);
    const bi = getEmbodiment('bimanual6');
    assert.equal(Array.from(bi.actionMask).reduce((a, b) => a + b, 0), 14);
    assert.deepEqual(bi.eefSlots, []);
    const so5 = getEmbodiment('so5');
    // 5 of the 7 joint.right dims used
    const j = slot('joint.right');
    assert.deepEqual(Array.from(so5.actionMask.subarray(j.offset, j.offset + 7)), [1, 1, 1, 1, 1, 0, 0]);
    for (const name of embodimentNames()) {
      const e = getEmbodiment(name);
      assert.equal(e.actionMask.length, UNIFIED_DIM);
      assert.equal(Array.from(e.actionMask).reduce((a, b) => a + b, 0), e.actionNames.length, `${name} mask size`);
    }
  });

  it('suggests a close name for a typo', () => {
    assert.throws(() => getEmbodiment('pand7'), /unknown embodiment "pand7"; did you mean "panda7"\?/);
  });

  it('maps native vectors into the unified vector and back, zeros elsewhere', () => {
    const rng = new Rng(1);
    for (const name of embodimentNames()) {
      const e = getEmbodiment(name);
      const native = Float64Array.from(e.actionNames, () => rng.normal());
      const u = actionToUnified(e, native);
      assert.equal(u.length, UNIFIED_DIM);
      for (let i = 0; i < UNIFIED_DIM; i++) if (!e.actionMask[i]) assert.equal(u[i], 0);
      assert.deepEqual(Array.from(actionFromUnified(e, u)), Array.from(native));
      const s = Float64Array.from(e.stateNames, () => rng.normal());
      assert.deepEqual(Array.from(stateFromUnified(e, stateToUnified(e, s))), Array.from(s));
    }
    assert.throws(() => actionToUnified(getEmbodiment('panda7'), [1, 2, 3]), /panda7 action has 3 values but the embodiment expects 7/);
  });

  it('rejects overlapping slots, naming the field', () => {
    const spec: EmbodimentSpecInput = {
      ...MINIMAL,
      action: [
        { slot: 'joint.right', names: ['a', 'b', 'c'], control: 'joint-position' },
        { slot: 'joint.right', names: ['d'], offset: 2, control: 'joint-position' },
      ],
    };
    assert.throws(() => defineEmbodiment(spec), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /field "action\.1".*joint\.right\[2\] is already filled.*overlap/);
      return true;
    });
  });

  it('rejects out-of-range slots, naming the field', () => {
    const spec: EmbodimentSpecInput = {
      ...MINIMAL,
      state: [{ slot: 'gripper.right', names: ['g1', 'g2'], control: 'gripper-position' }],
    };
    assert.throws(() => defineEmbodiment(spec), /field "state\.0": 2 names from offset 0 run past slot gripper\.right, which has 1 dims/);
    const unknownSlot = { ...MINIMAL, action: [{ slot: 'wing.left', names: ['x'], control: 'joint-position' }] };
    assert.throws(() => defineEmbodiment(unknownSlot as unknown as EmbodimentSpecInput), /field "action\.0\.slot"/);
    assert.throws(() => defineEmbodiment({ ...MINIMAL, fps: -1 }), /field "fps"/);
  });

  it('rejects duplicate names and eef bindings that are not whole poses or lack the state pose', () => {
    const dup = { ...MINIMAL, action: [{ slot: 'joint.right' as const, names: ['a', 'a'], control: 'joint-position' as const }] };
    assert.throws(() => defineEmbodiment(dup), /field "action\.0\.names": "a" appears twice/);
    const partialEef: EmbodimentSpecInput = {
      ...MINIMAL,
      action: [{ slot: 'eef.right', names: ['x', 'y', 'z'], control: 'eef-pose' }],
    };
    assert.throws(() => defineEmbodiment(partialEef), /eef-pose binding fills all 6 dims/);
    const noStatePose: EmbodimentSpecInput = {
      ...MINIMAL,
      action: [{ slot: 'eef.right', names: ['x', 'y', 'z', 'rx', 'ry', 'rz'], control: 'eef-pose' }],
    };
    assert.throws(() => defineEmbodiment(noStatePose), /field "state".*eef\.right pose must be in the state/);
    const wrongControl: EmbodimentSpecInput = {
      ...MINIMAL,
      action: [{ slot: 'joint.right', names: ['j1'], control: 'eef-pose' }],
    };
    assert.throws(() => defineEmbodiment(wrongControl), /field "action\.0\.control"/);
  });
});

describe('EEF parameterizations (eq. 4)', () => {
  it('every mode round-trips random chunks to 1e-9', () => {
    const rng = new Rng(2);
    for (const mode of EEF_MODES) {
      let worst = 0;
      for (let trial = 0; trial < 200; trial++) {
        const start = randomPose(rng);
        const targets = randomChunk(rng, 8);
        const back = decodePoses(mode, start, encodePoses(mode, start, targets));
        targets.forEach((t, i) => {
          worst = Math.max(worst, maxAbsDiff(back[i].p, t.p), maxAbsDiff(back[i].r, t.r));
        });
      }
      assert.ok(worst < 1e-9, `${mode}: worst round-trip error ${worst}`);
    }
  });

  it('round-trips chunks whose rotations are near 0 and near pi', () => {
    const rng = new Rng(3);
    for (const mode of EEF_MODES) {
      for (const angle of [0, 1e-12, 1e-7, Math.PI - 1e-7, Math.PI - 1e-10]) {
        const start = randomPose(rng);
        // targets rotate by exactly `angle` about a random axis relative to start (and to each other)
        const axis = [rng.normal(), rng.normal(), rng.normal()];
        const n = Math.hypot(axis[0], axis[1], axis[2]);
        const step: PosAxisAngle = [0.01, -0.02, 0.005, (axis[0] / n) * angle, (axis[1] / n) * angle, (axis[2] / n) * angle];
        const targets = decodePoses('eef-delta', start, [step, step, step]);
        const actions = encodePoses(mode, start, targets);
        assert.ok(actions.flat().every(Number.isFinite), `${mode} finite at ${angle}`);
        const back = decodePoses(mode, start, actions);
        targets.forEach((t, i) => {
          assertClose(back[i].p, t.p, 1e-9, `${mode} p at ${angle}`);
          assertClose(back[i].r, t.r, 1e-9, `${mode} R at ${angle}`);
        });
      }
    }
  });

  it('matches the formulas of eq. 4 on a hand-checked example', () => {
    // start at (1, 0, 0) rotated 90 deg about z; target 0.1 further along world x, rotated 90 + 10 deg
    const rz = (t: number) => matFromAxisAngle([0, 0, t]);
    const start: Pose = { p: [1, 0, 0], r: rz(Math.PI / 2) };
    const t1: Pose = { p: [1.1, 0, 0], r: rz(Math.PI / 2 + 0.1) };
    const t2: Pose = { p: [1.1, 0.2, 0], r: rz(Math.PI / 2 + 0.3) };
    assertClose(encodePoses('world-rel', start, [t1])[0], [0.1, 0, 0, 0, 0, 0.1], 1e-12);
    // in the EEF frame (x_ee = world y, y_ee = -world x), +0.1 world x is -0.1 along y_ee
    assertClose(encodePoses('eef-rel', start, [t1])[0], [0, -0.1, 0, 0, 0, 0.1], 1e-12);
    assertClose(encodePoses('world-delta', start, [t1, t2])[1], [0, 0.2, 0, 0, 0, 0.2], 1e-12);
    // t2 relative to t1's frame (rotated 90 + 5.7 deg): world +y 0.2
    const d = encodePoses('eef-delta', start, [t1, t2])[1];
    assertClose([Math.hypot(d[0], d[1]), d[2], d[5]], [0.2, 0, 0.2], 1e-12);
    assertClose(d[0], 0.2 * Math.cos(-(Math.PI / 2 + 0.1) + Math.PI / 2), 1e-12);
  });

  it('delta modes are step-to-step, rel modes are from the start', () => {
    const rng = new Rng(4);
    const start = randomPose(rng);
    const targets = randomChunk(rng, 3);
    assert.deepEqual(encodePoses('world-rel', start, targets)[0], encodePoses('world-delta', start, targets)[0]);
    assert.notDeepEqual(encodePoses('world-rel', start, targets)[2], encodePoses('world-delta', start, targets)[2]);
  });

  it('encodes unified chunks: eef slots relative to the state pose, other dims absolute', () => {
    const rng = new Rng(5);
    const e = getEmbodiment('panda7');
    const eef = slot('eef.right');
    const grip = slot('gripper.right');
    const state = stateToUnified(e, Float64Array.from(e.stateNames, () => rng.range(-1, 1)));
    const chunk = Array.from({ length: 4 }, () => {
      const pose = posAxisAngleFromPose(randomPose(rng, 3));
      return actionToUnified(e, [...pose, rng.uniform()]);
    });
    for (const mode of EEF_MODES) {
      const enc = encodeChunk(e, mode, state, chunk);
      enc.forEach((a, t) => assert.equal(a[grip.offset], chunk[t][grip.offset], 'gripper stays absolute'));
      const dec = decodeChunk(e, mode, state, enc);
      // round trip through axis-angle: compare as rotation matrices and positions
      dec.forEach((a, t) => {
        const got = Array.from(a.subarray(eef.offset, eef.offset + 6));
        const want = Array.from(chunk[t].subarray(eef.offset, eef.offset + 6));
        assertClose(got.slice(0, 3), want.slice(0, 3), 1e-9);
        assertClose(matFromAxisAngle(got.slice(3) as never), matFromAxisAngle(want.slice(3) as never), 1e-9);
        for (let i = 0; i < UNIFIED_DIM; i++) if (i < eef.offset || i >= eef.offset + 6) assert.equal(a[i], chunk[t][i]);
      });
      // a target equal to the state pose encodes to zero in the rel modes
      const still = [Float64Array.from(state)];
      if (mode.endsWith('rel')) assertClose(encodeChunk(e, mode, state, still)[0].subarray(eef.offset, eef.offset + 6), [0, 0, 0, 0, 0, 0], 1e-12);
    }
    // joint-space robots have nothing to parameterize: chunks pass through unchanged
    const bi = getEmbodiment('bimanual6');
    const biChunk = [actionToUnified(bi, Float64Array.from(bi.actionNames, () => rng.normal()))];
    assert.deepEqual(encodeChunk(bi, 'eef-rel', new Float64Array(UNIFIED_DIM), biChunk), biChunk);
  });

  it('parses mode names with a suggestion', () => {
    assert.equal(parseEefMode('eef-rel'), 'eef-rel');
    assert.throws(() => parseEefMode('eef_rel'), /did you mean "eef-rel"/);
  });
});

describe('normalization', () => {
  const e = getEmbodiment('panda7');
  const rng = new Rng(6);
  const mean = Array.from({ length: UNIFIED_DIM }, () => rng.normal());
  const std = Array.from({ length: UNIFIED_DIM }, () => rng.range(0.1, 2));
  const q01 = mean.map((m, i) => m - 2 * std[i]);
  const q99 = mean.map((m, i) => m + 2 * std[i]);

  it('scales nearly constant dims by at least MIN_SPREAD, so their jitter stays small', () => {
    const flat = { mean: new Array(UNIFIED_DIM).fill(0), std: new Array(UNIFIED_DIM).fill(1e-4), q01: new Array(UNIFIED_DIM).fill(-1e-4), q99: new Array(UNIFIED_DIM).fill(1e-4) };
    const d = e.actionIndex[3]; // target_rx: a top-down gripper's roll only jitters
    for (const mode of ['zscore', 'quantile'] as const) {
      const x = new Float64Array(UNIFIED_DIM);
      x[d] = 1e-3;
      const y = makeNormalizer(flat, e.actionMask, mode).normalize(x);
      assert.ok(Math.abs(y[d]) <= 2e-3 / MIN_SPREAD + 1e-12, `${mode}: ${y[d]}`);
      assert.ok(Math.abs(y[d]) > 0);
    }
  });

  it('gives each chunk step its own normalizer from per-step stats, the pooled one to every step otherwise', () => {
    const stats = (k: number) => ({ mean: mean.map((m) => m + k), std: std.map((s) => s * (k + 1)) });
    const pooled = chunkNormalizers(stats(0), undefined, e.actionMask, 'zscore', 3);
    assert.equal(pooled.length, 3);
    assert.ok(pooled.every((n) => n === pooled[0]));
    const perStep = chunkNormalizers(stats(0), [stats(1), stats(2), stats(3)], e.actionMask, 'zscore', 3);
    const d = e.actionIndex[0];
    perStep.forEach((n, h) => {
      const x = new Float64Array(UNIFIED_DIM);
      x[d] = mean[d] + h + 1 + std[d] * (h + 2); // one std of step h's stats above its mean
      assertClose(n.normalize(x)[d], 1, 1e-9, `step ${h}`);
    });
    assert.throws(() => chunkNormalizers(stats(0), [stats(1)], e.actionMask, 'zscore', 3), /per-step action stats cover 1 chunk steps; the model's chunks have 3/);
  });

  it('z-score and quantile round-trip, and masked dims stay exactly zero', () => {
    for (const mode of ['zscore', 'quantile'] as const) {
      const norm = makeNormalizer({ mean, std, q01, q99 }, e.actionMask, mode);
      for (let trial = 0; trial < 100; trial++) {
        const x = Float64Array.from({ length: UNIFIED_DIM }, () => rng.normal() * 3);
        const y = norm.normalize(x);
        const back = norm.unnormalize(y);
        for (let i = 0; i < UNIFIED_DIM; i++) {
          if (e.actionMask[i]) assertClose(back[i], x[i], 1e-9, `${mode} dim ${i}`);
          else {
            assert.equal(y[i], 0, `${mode}: masked dim ${i} normalized to 0`);
            assert.equal(back[i], 0, `${mode}: masked dim ${i} unnormalized to 0`);
          }
        }
      }
    }
  });

  it('maps mean to 0 and mean + std to 1 (z-score); q01 to -1 and q99 to 1 (quantile)', () => {
    const z = makeNormalizer({ mean, std }, e.actionMask, 'zscore');
    const q = makeNormalizer({ mean, std, q01, q99 }, e.actionMask, 'quantile');
    const i = slot('gripper.right').offset;
    assertClose(z.normalize(mean)[i], 0, 1e-12);
    assertClose(z.normalize(mean.map((m, k) => m + std[k]))[i], 1, 1e-5);
    assertClose(q.normalize(q01)[i], -1, 1e-5);
    assertClose(q.normalize(q99)[i], 1, 1e-5);
  });

  it('survives a constant dim and says which stats are missing', () => {
    const zeroStd = std.map(() => 0);
    const z = makeNormalizer({ mean, std: zeroStd }, e.actionMask, 'zscore');
    assert.ok(z.normalize(mean).every(Number.isFinite));
    assert.throws(() => makeNormalizer({ mean, std }, e.actionMask, 'quantile'), /needs "q01"/);
    assert.throws(() => makeNormalizer({ mean: [1], std: [1] }, e.actionMask, 'zscore'), /has 1 values; unified stats have 60/);
  });
});

describe('geometry sanity used by actions', () => {
  it('axis-angle of a decoded pose stays within pi', () => {
    const rng = new Rng(7);
    const start = randomPose(rng);
    const out = decodePoses('eef-rel', start, [[0, 0, 0, 0, 0, 3.1]]);
    assert.ok(norm3(posAxisAngleFromPose(out[0]).slice(3) as never) <= Math.PI + 1e-12);
  });
});
