/**
 * Rotations in 3D: matrices (row-major 3x3), unit quaternions (w, x, y, z), axis-angle vectors
 * (unit axis times angle in radians) and the continuous 6D representation (first two columns of
 * the matrix). All conversions are float64 and stable near angle 0 and near pi.
 *
 * The quaternion is the hub: matrix <-> quaternion uses Shepperd's method (accurate for every
 * rotation) and quaternion <-> axis-angle uses atan2 on (|v|, w), which keeps full precision for
 * angles near 0 and near pi where acos-based formulas lose it.
 */

/** A 3-vector. */
export type Vec3 = readonly [number, number, number];
/** A rotation matrix, row-major: m[3 * row + col]. */
export type Mat3 = readonly [number, number, number, number, number, number, number, number, number];
/** A unit quaternion (w, x, y, z). */
export type Quat = readonly [number, number, number, number];
/** 6D rotation: the first two columns of the matrix, [c0x, c0y, c0z, c1x, c1y, c1z]. */
export type Rot6d = readonly [number, number, number, number, number, number];

export const IDENTITY_MAT3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
export const IDENTITY_QUAT: Quat = [1, 0, 0, 0];

/** a + b */
export function add3(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

/** a - b */
export function sub3(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/** s * a */
export function scale3(a: Vec3, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

/** a . b */
export function dot3(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** a x b */
export function cross3(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** Euclidean norm |a|. */
export function norm3(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/** A B (3x3 matrix product). */
export function matMul(a: Mat3, b: Mat3): Mat3 {
  const out = new Array<number>(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[3 * r + c] = a[3 * r] * b[c] + a[3 * r + 1] * b[3 + c] + a[3 * r + 2] * b[6 + c];
    }
  }
  return out as unknown as Mat3;
}

/** A^T (the inverse of a rotation). */
export function matTranspose(a: Mat3): Mat3 {
  return [a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]];
}

/** A v */
export function matVec(a: Mat3, v: Vec3): Vec3 {
  return [
    a[0] * v[0] + a[1] * v[1] + a[2] * v[2],
    a[3] * v[0] + a[4] * v[1] + a[5] * v[2],
    a[6] * v[0] + a[7] * v[1] + a[8] * v[2],
  ];
}

/** Hamilton product q r (apply r first, then q). */
export function quatMul(q: Quat, r: Quat): Quat {
  return [
    q[0] * r[0] - q[1] * r[1] - q[2] * r[2] - q[3] * r[3],
    q[0] * r[1] + q[1] * r[0] + q[2] * r[3] - q[3] * r[2],
    q[0] * r[2] - q[1] * r[3] + q[2] * r[0] + q[3] * r[1],
    q[0] * r[3] + q[1] * r[2] - q[2] * r[1] + q[3] * r[0],
  ];
}

/** Conjugate (= inverse for a unit quaternion). */
export function quatConj(q: Quat): Quat {
  return [q[0], -q[1], -q[2], -q[3]];
}

/** q / |q|; throws on a zero or non-finite quaternion. */
export function quatNormalize(q: Quat): Quat {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`cannot normalize quaternion [${q.join(', ')}]`);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

/** The representative of q or -q with w >= 0 (both are the same rotation). */
export function quatCanonical(q: Quat): Quat {
  return q[0] < 0 ? [-q[0], -q[1], -q[2], -q[3]] : q;
}

/** Rotation matrix of a unit quaternion. */
export function matFromQuat(q: Quat): Mat3 {
  const [w, x, y, z] = q;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/** Unit quaternion (w >= 0) of a rotation matrix, by Shepperd's method. */
export function quatFromMat(m: Mat3): Quat {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m;
  const trace = m00 + m11 + m22;
  let q: Quat;
  // Use the largest of w, x, y, z as the divisor so no branch divides by a small number.
  if (trace >= m00 && trace >= m11 && trace >= m22) {
    const s = 2 * Math.sqrt(Math.max(0, 1 + trace));
    q = [s / 4, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s];
  } else if (m00 >= m11 && m00 >= m22) {
    const s = 2 * Math.sqrt(Math.max(0, 1 + m00 - m11 - m22));
    q = [(m21 - m12) / s, s / 4, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 >= m22) {
    const s = 2 * Math.sqrt(Math.max(0, 1 + m11 - m00 - m22));
    q = [(m02 - m20) / s, (m01 + m10) / s, s / 4, (m12 + m21) / s];
  } else {
    const s = 2 * Math.sqrt(Math.max(0, 1 + m22 - m00 - m11));
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, s / 4];
  }
  return quatCanonical(quatNormalize(q));
}

/**
 * Axis-angle vector r = theta * axis of a unit quaternion, with theta in [0, pi].
 * theta = 2 atan2(|v|, w) after choosing w >= 0; near theta = 0 the series 2/w (1 - |v|^2 / (3 w^2))
 * replaces theta / |v|.
 */
export function axisAngleFromQuat(q: Quat): Vec3 {
  const [w, x, y, z] = quatCanonical(q);
  const s = Math.hypot(x, y, z);
  const f = s < 1e-8 ? (2 / w) * (1 - (s * s) / (3 * w * w)) : (2 * Math.atan2(s, w)) / s;
  return [x * f, y * f, z * f];
}

/** Unit quaternion of an axis-angle vector: (cos(theta/2), sin(theta/2) axis). */
export function quatFromAxisAngle(r: Vec3): Quat {
  const theta = norm3(r);
  const half = theta / 2;
  // sin(theta/2)/theta, with its Taylor series near 0
  const k = theta < 1e-6 ? 0.5 - (theta * theta) / 48 : Math.sin(half) / theta;
  return [Math.cos(half), r[0] * k, r[1] * k, r[2] * k];
}

/**
 * Rotation matrix of an axis-angle vector (Rodrigues):
 * R = I + (sin t / t) [r]x + ((1 - cos t) / t^2) [r]x^2, with Taylor series near t = 0.
 */
export function matFromAxisAngle(r: Vec3): Mat3 {
  const t2 = dot3(r, r);
  const t = Math.sqrt(t2);
  const a = t < 1e-4 ? 1 - t2 / 6 + (t2 * t2) / 120 : Math.sin(t) / t;
  const b = t < 1e-4 ? 0.5 - t2 / 24 + (t2 * t2) / 720 : (1 - Math.cos(t)) / t2;
  const [x, y, z] = r;
  return [
    1 - b * (y * y + z * z), -a * z + b * x * y, a * y + b * x * z,
    a * z + b * x * y, 1 - b * (x * x + z * z), -a * x + b * y * z,
    -a * y + b * x * z, a * x + b * y * z, 1 - b * (x * x + y * y),
  ];
}

/** Axis-angle vector (theta in [0, pi]) of a rotation matrix: log(R) as a vector. */
export function axisAngleFromMat(m: Mat3): Vec3 {
  return axisAngleFromQuat(quatFromMat(m));
}

/** The first two columns of R. */
export function rot6dFromMat(m: Mat3): Rot6d {
  return [m[0], m[3], m[6], m[1], m[4], m[7]];
}

/**
 * Rotation matrix from a 6D representation by Gram-Schmidt: c0 = a / |a|,
 * c1 = (b - (c0 . b) c0) / |.|, c2 = c0 x c1. Accepts any two non-parallel vectors.
 */
export function matFromRot6d(d: Rot6d): Mat3 {
  const a: Vec3 = [d[0], d[1], d[2]];
  const b: Vec3 = [d[3], d[4], d[5]];
  const na = norm3(a);
  if (!(na > 0)) throw new RangeError('6D rotation: first column is zero');
  const c0 = scale3(a, 1 / na);
  const bPerp = sub3(b, scale3(c0, dot3(c0, b)));
  const nb = norm3(bPerp);
  if (!(nb > 1e-12 * Math.max(1, norm3(b)))) throw new RangeError('6D rotation: columns are parallel');
  const c1 = scale3(bPerp, 1 / nb);
  const c2 = cross3(c0, c1);
  return [c0[0], c1[0], c2[0], c0[1], c1[1], c2[1], c0[2], c1[2], c2[2]];
}

/** Angle in [0, pi] of the rotation R_a^T R_b between two rotations. */
export function rotationAngleBetween(a: Mat3, b: Mat3): number {
  return norm3(axisAngleFromMat(matMul(matTranspose(a), b)));
}

/** Spherical linear interpolation between unit quaternions, t in [0, 1], along the short arc. */
export function quatSlerp(a: Quat, b: Quat, t: number): Quat {
  let bb = b;
  let cos = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  if (cos < 0) {
    bb = [-b[0], -b[1], -b[2], -b[3]];
    cos = -cos;
  }
  // a^-1 b as axis-angle, scaled by t, applied to a: exact and stable for small angles
  const rel = axisAngleFromQuat(quatMul(quatConj(a), bb));
  return quatMul(a, quatFromAxisAngle(scale3(rel, t)));
}
