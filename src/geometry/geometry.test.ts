import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertClose, maxAbsDiff } from '../../test/helpers/close.ts';
import { Rng } from '../util/rng.ts';
import {
  axisAngleFromMat,
  axisAngleFromQuat,
  compose,
  interpolatePose,
  invert,
  localApply,
  localDifference,
  type Mat3,
  matFromAxisAngle,
  matFromQuat,
  matFromRot6d,
  matMul,
  matTranspose,
  norm3,
  type Pose,
  poseExp,
  poseFromPosQuat,
  poseDistance,
  poseLog,
  posQuatFromPose,
  type Quat,
  quatFromAxisAngle,
  quatFromMat,
  quatMul,
  quatSlerp,
  rotationAngleBetween,
  transformPoint,
  rot6dFromMat,
  type Vec3,
  worldApply,
  worldDifference,
} from './index.ts';

const TOL = 1e-9;
const N = 500;

function randomAxis(rng: Rng): Vec3 {
  const v: Vec3 = [rng.normal(), rng.normal(), rng.normal()];
  const n = norm3(v);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** Axis-angle with angle uniform in [0, pi). */
function randomAxisAngle(rng: Rng, maxAngle = Math.PI): Vec3 {
  const a = randomAxis(rng);
  const t = rng.uniform() * maxAngle;
  return [a[0] * t, a[1] * t, a[2] * t];
}

function randomPose(rng: Rng): Pose {
  return { p: [rng.range(-1, 1), rng.range(-1, 1), rng.range(-1, 1)], r: matFromAxisAngle(randomAxisAngle(rng)) };
}

function assertPoseClose(a: Pose, b: Pose, tol = TOL, what = 'pose'): void {
  assertClose(a.p, b.p, tol, `${what}.p`);
  assertClose(a.r, b.r, tol, `${what}.r`);
}

/** Angles at and around the hard spots: 0, tiny, near pi, pi. */
const EDGE_ANGLES = [0, 1e-300, 1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 0.5, Math.PI - 1e-3, Math.PI - 1e-6, Math.PI - 1e-9, Math.PI - 1e-12];

describe('rotation conversions', () => {
  it('matrices from axis-angle are orthonormal with det 1', () => {
    const rng = new Rng(1);
    for (let i = 0; i < N; i++) {
      const m = matFromAxisAngle(randomAxisAngle(rng));
      assertClose(matMul(m, matTranspose(m)), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12, 'R R^T');
      const det =
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
      assertClose(det, 1, 1e-12, 'det');
    }
  });

  it('axis-angle -> matrix -> axis-angle round-trips for random rotations', () => {
    const rng = new Rng(2);
    for (let i = 0; i < N; i++) {
      const r = randomAxisAngle(rng);
      assertClose(axisAngleFromMat(matFromAxisAngle(r)), r, TOL, 'axis-angle');
    }
  });

  it('quaternion -> matrix -> quaternion round-trips (w >= 0)', () => {
    const rng = new Rng(3);
    for (let i = 0; i < N; i++) {
      const q = quatFromAxisAngle(randomAxisAngle(rng));
      assertClose(quatFromMat(matFromQuat(q)), q, TOL, 'quat');
      assertClose(axisAngleFromQuat(q), axisAngleFromMat(matFromQuat(q)), TOL, 'aa via quat');
    }
  });

  it('6D -> matrix round-trips and Gram-Schmidt repairs a perturbed 6D vector', () => {
    const rng = new Rng(4);
    for (let i = 0; i < N; i++) {
      const m = matFromAxisAngle(randomAxisAngle(rng));
      assertClose(matFromRot6d(rot6dFromMat(m)), m, TOL, '6d');
      const d = rot6dFromMat(m);
      const scaled = [d[0] * 3, d[1] * 3, d[2] * 3, d[3] + 0.1 * d[0], d[4] + 0.1 * d[1], d[5] + 0.1 * d[2]] as const;
      assertClose(matFromRot6d(scaled), m, 1e-12, '6d repaired');
    }
    assert.throws(() => matFromRot6d([1, 0, 0, 2, 0, 0]), /parallel/);
  });

  it('is exact and NaN-free near angle 0 and near pi, for every axis', () => {
    const rng = new Rng(5);
    for (const t of EDGE_ANGLES) {
      for (let i = 0; i < 50; i++) {
        const a = randomAxis(rng);
        const r: Vec3 = [a[0] * t, a[1] * t, a[2] * t];
        const m = matFromAxisAngle(r);
        assert.ok(m.every(Number.isFinite), `matrix finite at angle ${t}`);
        const back = axisAngleFromMat(m);
        assert.ok(back.every(Number.isFinite), `axis-angle finite at angle ${t}`);
        assertClose(back, r, TOL, `axis-angle at angle ${t}`);
        const q = quatFromAxisAngle(r);
        assertClose(axisAngleFromQuat(q), r, TOL, `quat at angle ${t}`);
      }
    }
  });

  it('treats angle pi as one rotation: +axis and -axis give the same matrix and a valid log', () => {
    const rng = new Rng(6);
    for (let i = 0; i < 100; i++) {
      const a = randomAxis(rng);
      const m = matFromAxisAngle([a[0] * Math.PI, a[1] * Math.PI, a[2] * Math.PI]);
      const m2 = matFromAxisAngle([-a[0] * Math.PI, -a[1] * Math.PI, -a[2] * Math.PI]);
      assertClose(m, m2, 1e-12, 'R(pi a) = R(-pi a)');
      const back = axisAngleFromMat(m);
      assertClose(norm3(back), Math.PI, TOL, 'angle');
      assertClose(matFromAxisAngle(back), m, TOL, 'exp(log(R)) at pi');
    }
  });

  it('quaternion product matches matrix product; slerp hits its ends and midpoint', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) {
      const q: Quat = quatFromAxisAngle(randomAxisAngle(rng));
      const r: Quat = quatFromAxisAngle(randomAxisAngle(rng));
      assertClose(matFromQuat(quatMul(q, r)), matMul(matFromQuat(q), matFromQuat(r)), 1e-12, 'q r');
      assertClose(matFromQuat(quatSlerp(q, r, 0)), matFromQuat(q), 1e-12, 'slerp 0');
      assertClose(matFromQuat(quatSlerp(q, r, 1)), matFromQuat(r), 1e-9, 'slerp 1');
    }
    const mid = quatSlerp([1, 0, 0, 0], quatFromAxisAngle([0, 0, 1]), 0.5);
    assertClose(axisAngleFromQuat(mid), [0, 0, 0.5], 1e-12, 'slerp midpoint');
  });
});

describe('SE(3) poses', () => {
  it('compose with the inverse gives the identity', () => {
    const rng = new Rng(10);
    for (let i = 0; i < N; i++) {
      const t = randomPose(rng);
      assertPoseClose(compose(t, invert(t)), { p: [0, 0, 0], r: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, 1e-12);
      assertPoseClose(compose(invert(t), t), { p: [0, 0, 0], r: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, 1e-12);
    }
  });

  it('composition is associative', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 100; i++) {
      const [a, b, c] = [randomPose(rng), randomPose(rng), randomPose(rng)];
      assertPoseClose(compose(compose(a, b), c), compose(a, compose(b, c)), 1e-12);
    }
  });

  it('log and exp are inverse, including near angle 0 and pi', () => {
    const rng = new Rng(12);
    for (let i = 0; i < N; i++) {
      const t = randomPose(rng);
      assertPoseClose(poseExp(poseLog(t)), t, TOL, 'exp(log(T))');
    }
    for (const angle of EDGE_ANGLES) {
      const a = randomAxis(rng);
      const xi = [rng.range(-1, 1), rng.range(-1, 1), rng.range(-1, 1), a[0] * angle, a[1] * angle, a[2] * angle] as const;
      const back = poseLog(poseExp(xi));
      assert.ok(back.every(Number.isFinite), `finite at ${angle}`);
      assertClose(back, xi, 1e-8, `log(exp(xi)) at angle ${angle}`);
    }
  });

  it('pos-quat round-trips and the world/local differences invert exactly', () => {
    const rng = new Rng(13);
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const a = randomPose(rng);
      const b = randomPose(rng);
      assertPoseClose(poseFromPosQuat(posQuatFromPose(a)), a, TOL, 'posquat');
      const wd = worldApply(worldDifference(a, b), b);
      const ld = localApply(localDifference(a, b), b);
      worst = Math.max(worst, maxAbsDiff(wd.r, a.r), maxAbsDiff(wd.p, a.p), maxAbsDiff(ld.r, a.r), maxAbsDiff(ld.p, a.p));
    }
    assert.ok(worst < TOL, `worst round-trip error ${worst}`);
  });

  it('local difference is b^-1 o a and is frame-invariant under a common world change', () => {
    const rng = new Rng(14);
    for (let i = 0; i < 100; i++) {
      const [a, b, g] = [randomPose(rng), randomPose(rng), randomPose(rng)];
      const rel = compose(invert(b), a);
      assertClose(localDifference(a, b), [...rel.p, ...axisAngleFromMat(rel.r)], TOL, 'b^-1 a');
      // Re-expressing both poses in another world frame leaves the local (EEF) difference unchanged
      assertClose(localDifference(compose(g, a), compose(g, b)), localDifference(a, b), 1e-9, 'invariance');
    }
  });

  it('applies a pose to a point as composing with a translation; measures distances and angles between poses', () => {
    const rng = new Rng(7);
    for (let i = 0; i < N; i++) {
      const a = randomPose(rng);
      const x: Vec3 = [rng.range(-1, 1), rng.range(-1, 1), rng.range(-1, 1)];
      assertClose(transformPoint(a, x), compose(a, { p: x, r: matFromAxisAngle([0, 0, 0]) }).p, TOL, 'transformPoint');
      const w = randomAxisAngle(rng);
      const b = { p: [a.p[0] + 0.3, a.p[1] - 0.4, a.p[2]] as Vec3, r: matMul(a.r, matFromAxisAngle(w)) };
      const d = poseDistance(a, b);
      assert.ok(Math.abs(d.translation - 0.5) < 1e-12, `translation ${d.translation}`);
      assert.ok(Math.abs(d.rotation - norm3(w)) < 1e-7, `rotation ${d.rotation} vs ${norm3(w)}`);
      assert.ok(Math.abs(rotationAngleBetween(a.r, b.r) - norm3(w)) < 1e-7);
    }
    const id = matFromAxisAngle([0, 0, 0]);
    assert.equal(rotationAngleBetween(id, id), 0);
    assert.ok(Math.abs(rotationAngleBetween(id, matFromAxisAngle([0, Math.PI, 0])) - Math.PI) < 1e-9, 'angle pi');
  });

  it('interpolates poses between their ends', () => {
    const rng = new Rng(15);
    const a = randomPose(rng);
    const b = randomPose(rng);
    assertPoseClose(interpolatePose(a, b, 0), a, 1e-12);
    assertPoseClose(interpolatePose(a, b, 1), b, 1e-9);
    const mid = interpolatePose(a, b, 0.5);
    assertClose(mid.p, [(a.p[0] + b.p[0]) / 2, (a.p[1] + b.p[1]) / 2, (a.p[2] + b.p[2]) / 2], 1e-12);
    const m: Mat3 = mid.r;
    assertClose(matMul(m, matTranspose(m)), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12);
  });
});
