/**
 * Rigid transforms in SE(3). A Pose maps points of its source frame into its target frame, and
 * variables are named target-from-source: `worldFromEe` maps end-effector coordinates to world
 * coordinates, so `compose(worldFromEe, eeFromTool)` is `worldFromTool`.
 */
import {
  add3,
  axisAngleFromMat,
  cross3,
  dot3,
  type Mat3,
  matFromAxisAngle,
  matFromQuat,
  matMul,
  matTranspose,
  matVec,
  norm3,
  type Quat,
  quatFromMat,
  quatNormalize,
  quatSlerp,
  scale3,
  sub3,
  type Vec3,
} from './rotation.ts';

/** A rigid transform: x_target = r x_source + p. */
export type Pose = { readonly p: Vec3; readonly r: Mat3 };
/** Pose as [x, y, z, qw, qx, qy, qz]. */
export type PosQuat = readonly [number, number, number, number, number, number, number];
/** Pose as [x, y, z, rx, ry, rz] (translation then axis-angle rotation). */
export type PosAxisAngle = readonly [number, number, number, number, number, number];
/** A twist [v (3), w (3)]: the SE(3) logarithm, translation part first. */
export type Twist = readonly [number, number, number, number, number, number];

export const IDENTITY_POSE: Pose = { p: [0, 0, 0], r: [1, 0, 0, 0, 1, 0, 0, 0, 1] };

/** aFromC = aFromB o bFromC. */
export function compose(aFromB: Pose, bFromC: Pose): Pose {
  return { p: add3(matVec(aFromB.r, bFromC.p), aFromB.p), r: matMul(aFromB.r, bFromC.r) };
}

/** bFromA from aFromB: (R^T, -R^T p). */
export function invert(aFromB: Pose): Pose {
  const rt = matTranspose(aFromB.r);
  return { p: scale3(matVec(rt, aFromB.p), -1), r: rt };
}

/** Applies a pose to a point: r x + p. */
export function transformPoint(aFromB: Pose, x: Vec3): Vec3 {
  return add3(matVec(aFromB.r, x), aFromB.p);
}

/** Pose from [x, y, z, qw, qx, qy, qz]; the quaternion is normalized. */
export function poseFromPosQuat(v: PosQuat): Pose {
  return { p: [v[0], v[1], v[2]], r: matFromQuat(quatNormalize([v[3], v[4], v[5], v[6]])) };
}

/** [x, y, z, qw, qx, qy, qz] with qw >= 0. */
export function posQuatFromPose(pose: Pose): PosQuat {
  const q = quatFromMat(pose.r);
  return [pose.p[0], pose.p[1], pose.p[2], q[0], q[1], q[2], q[3]];
}

/** Pose from [x, y, z, rx, ry, rz]. */
export function poseFromPosAxisAngle(v: PosAxisAngle): Pose {
  return { p: [v[0], v[1], v[2]], r: matFromAxisAngle([v[3], v[4], v[5]]) };
}

/** [x, y, z, rx, ry, rz] with the rotation angle in [0, pi]. */
export function posAxisAngleFromPose(pose: Pose): PosAxisAngle {
  const r = axisAngleFromMat(pose.r);
  return [pose.p[0], pose.p[1], pose.p[2], r[0], r[1], r[2]];
}

/**
 * The world-frame difference a (-) b used by the paper's eq. 4:
 * (p_a - p_b, log(R_a R_b^T)) as [dx, dy, dz, rx, ry, rz].
 */
export function worldDifference(a: Pose, b: Pose): PosAxisAngle {
  const d = sub3(a.p, b.p);
  const r = axisAngleFromMat(matMul(a.r, matTranspose(b.r)));
  return [d[0], d[1], d[2], r[0], r[1], r[2]];
}

/** Inverse of worldDifference: the pose a with worldDifference(a, b) = delta. */
export function worldApply(delta: PosAxisAngle, b: Pose): Pose {
  return {
    p: add3(b.p, [delta[0], delta[1], delta[2]]),
    r: matMul(matFromAxisAngle([delta[3], delta[4], delta[5]]), b.r),
  };
}

/**
 * The local-frame difference b^-1 o a used by the paper's eq. 4 (EEF modes):
 * (R_b^T (p_a - p_b), log(R_b^T R_a)) as [dx, dy, dz, rx, ry, rz].
 */
export function localDifference(a: Pose, b: Pose): PosAxisAngle {
  const rbt = matTranspose(b.r);
  const d = matVec(rbt, sub3(a.p, b.p));
  const r = axisAngleFromMat(matMul(rbt, a.r));
  return [d[0], d[1], d[2], r[0], r[1], r[2]];
}

/** Inverse of localDifference: the pose a = b o delta. */
export function localApply(delta: PosAxisAngle, b: Pose): Pose {
  return compose(b, poseFromPosAxisAngle(delta));
}

/**
 * SE(3) exponential of a twist [v, w]: R = exp([w]x), p = V v with
 * V = I + ((1 - cos t) / t^2) [w]x + ((t - sin t) / t^3) [w]x^2, t = |w|.
 */
export function poseExp(xi: Twist): Pose {
  const v: Vec3 = [xi[0], xi[1], xi[2]];
  const w: Vec3 = [xi[3], xi[4], xi[5]];
  const t2 = dot3(w, w);
  const t = Math.sqrt(t2);
  const b = t < 1e-4 ? 0.5 - t2 / 24 + (t2 * t2) / 720 : (1 - Math.cos(t)) / t2;
  const c = t < 1e-4 ? 1 / 6 - t2 / 120 + (t2 * t2) / 5040 : (t - Math.sin(t)) / (t2 * t);
  const wv = cross3(w, v);
  const wwv = cross3(w, wv);
  return { p: add3(add3(v, scale3(wv, b)), scale3(wwv, c)), r: matFromAxisAngle(w) };
}

/**
 * SE(3) logarithm: the twist [v, w] with poseExp([v, w]) = pose, rotation angle in [0, pi].
 * v = V^-1 p with V^-1 = I - [w]x / 2 + (1 / t^2) (1 - (t sin t) / (2 (1 - cos t))) [w]x^2.
 */
export function poseLog(pose: Pose): Twist {
  const w = axisAngleFromMat(pose.r);
  const t2 = dot3(w, w);
  const t = Math.sqrt(t2);
  const d =
    t < 1e-4
      ? 1 / 12 + t2 / 720 + (t2 * t2) / 30240
      : (1 - (t * Math.sin(t)) / (2 * (1 - Math.cos(t)))) / t2;
  const wp = cross3(w, pose.p);
  const wwp = cross3(w, wp);
  const v = add3(sub3(pose.p, scale3(wp, 0.5)), scale3(wwp, d));
  return [v[0], v[1], v[2], w[0], w[1], w[2]];
}

/**
 * Interpolates between poses: position linearly, rotation by slerp; t in [0, 1].
 * (Decoupled interpolation, the usual choice for end-effector waypoints.)
 */
export function interpolatePose(a: Pose, b: Pose, t: number): Pose {
  const q: Quat = quatSlerp(quatFromMat(a.r), quatFromMat(b.r), t);
  return { p: add3(a.p, scale3(sub3(b.p, a.p), t)), r: matFromQuat(q) };
}

/** Translation distance and rotation angle between two poses. */
export function poseDistance(a: Pose, b: Pose): { translation: number; rotation: number } {
  const rel = localDifference(b, a);
  return { translation: norm3(sub3(a.p, b.p)), rotation: Math.hypot(rel[3], rel[4], rel[5]) };
}

