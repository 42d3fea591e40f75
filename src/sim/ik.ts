/**
 * Damped-least-squares inverse kinematics of one arm on a scratch MjData (the simulation's own
 * state is never touched):
 *
 *   e  = [p* - p ; log(R* R^T)]                       (world frame, 6)
 *   dq = J^T (J J^T + lambda^2 I)^-1 e + (I - J^+ J) k (q_home - q)
 *
 * with J the 6 x n site Jacobian of the arm's joints, J^+ = J^T (J J^T + lambda^2 I)^-1 its damped
 * pseudo-inverse, and a small null-space pull towards the home posture (7-DoF arms).
 */
import { axisAngleFromMat, matMul, matTranspose, type Mat3, type Pose } from '../geometry/index.ts';
import { type ArmSpec, armNames } from './arm.ts';
import { type MjData, type MjModel, type Mujoco, objectId } from './mujoco.ts';

/** Convergence and step settings. */
export const IK_DEFAULTS = Object.freeze({ lambda: 0.03, maxIters: 30, posTol: 2e-4, rotTol: 2e-3, maxStep: 0.25, nullGain: 0.05 });

/** The pose of a site from a MjData (world frame). */
export function sitePose(data: MjData, siteId: number): Pose {
  const p = data.site_xpos as Float64Array;
  const m = data.site_xmat as Float64Array;
  const o = siteId * 9;
  return {
    p: [p[siteId * 3], p[siteId * 3 + 1], p[siteId * 3 + 2]],
    r: [m[o], m[o + 1], m[o + 2], m[o + 3], m[o + 4], m[o + 5], m[o + 6], m[o + 7], m[o + 8]] as unknown as Mat3,
  };
}

/** Solves A x = b in place for a symmetric positive definite n x n A (row-major); returns x. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k <= i; k++) {
      let s = a[i * n + k];
      for (let m = 0; m < k; m++) s -= l[i * n + m] * l[k * n + m];
      l[i * n + k] = i === k ? Math.sqrt(s) : s / l[k * n + k];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let m = 0; m < i; m++) s -= l[i * n + m] * y[m];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let m = i + 1; m < n; m++) s -= l[m * n + i] * x[m];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/** IK for one arm of a model. Call `dispose()` to free the scratch state. */
export class ArmIk {
  readonly n: number;
  private readonly mj: Mujoco;
  private readonly model: MjModel;
  private readonly scratch: MjData;
  private readonly site: number;
  private readonly qadr: number[];
  private readonly dadr: number[];
  private readonly lo: number[];
  private readonly hi: number[];
  private readonly home: readonly number[];
  private readonly jacp: InstanceType<Mujoco['DoubleBuffer']>;
  private readonly jacr: InstanceType<Mujoco['DoubleBuffer']>;

  constructor(mj: Mujoco, model: MjModel, arm: ArmSpec) {
    this.mj = mj;
    this.model = model;
    this.scratch = new mj.MjData(model);
    const names = armNames(arm);
    this.site = objectId(mj, model, 'site', names.tcp);
    const jnt = names.joints.map((n) => objectId(mj, model, 'joint', n));
    const qposadr = model.jnt_qposadr as Int32Array;
    const dofadr = model.jnt_dofadr as Int32Array;
    const range = model.jnt_range as Float64Array;
    this.qadr = jnt.map((id) => qposadr[id]);
    this.dadr = jnt.map((id) => dofadr[id]);
    this.lo = jnt.map((id) => range[2 * id]);
    this.hi = jnt.map((id) => range[2 * id + 1]);
    this.n = jnt.length;
    this.home = arm.home;
    this.jacp = new mj.DoubleBuffer(3 * model.nv);
    this.jacr = new mj.DoubleBuffer(3 * model.nv);
  }

  /** The TCP pose at joint angles `q` (world frame). */
  forward(q: ArrayLike<number>): Pose {
    const qpos = this.scratch.qpos as Float64Array;
    for (let i = 0; i < this.n; i++) qpos[this.qadr[i]] = q[i];
    this.mj.mj_kinematics(this.model, this.scratch);
    return sitePose(this.scratch, this.site);
  }

  /**
   * Joint angles (within limits) whose TCP pose is closest to `target`, starting from `seed`.
   * Returns the solution and its remaining position (m) and rotation (rad) errors.
   */
  solve(target: Pose, seed: ArrayLike<number>, opts: Partial<typeof IK_DEFAULTS> = {}): { q: Float64Array; posErr: number; rotErr: number } {
    const o = { ...IK_DEFAULTS, ...opts };
    const n = this.n;
    const nv = this.model.nv;
    const q = Float64Array.from(seed);
    const J = new Float64Array(6 * n);
    const e = new Float64Array(6);
    let posErr = Infinity;
    let rotErr = Infinity;
    for (let iter = 0; iter <= o.maxIters; iter++) {
      const pose = this.forward(q);
      e[0] = target.p[0] - pose.p[0];
      e[1] = target.p[1] - pose.p[1];
      e[2] = target.p[2] - pose.p[2];
      const w = axisAngleFromMat(matMul(target.r, matTranspose(pose.r)));
      e[3] = w[0];
      e[4] = w[1];
      e[5] = w[2];
      posErr = Math.hypot(e[0], e[1], e[2]);
      rotErr = Math.hypot(w[0], w[1], w[2]);
      if ((posErr < o.posTol && rotErr < o.rotTol) || iter === o.maxIters) break;
      this.mj.mj_comPos(this.model, this.scratch);
      this.mj.mj_jacSite(this.model, this.scratch, this.jacp, this.jacr, this.site);
      const jp = this.jacp.GetView() as Float64Array;
      const jr = this.jacr.GetView() as Float64Array;
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < n; c++) {
          J[r * n + c] = jp[r * nv + this.dadr[c]];
          J[(r + 3) * n + c] = jr[r * nv + this.dadr[c]];
        }
      }
      // A = J J^T + lambda^2 I  [6, 6]
      const A = new Float64Array(36);
      for (let r = 0; r < 6; r++) {
        for (let c = 0; c <= r; c++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += J[r * n + k] * J[c * n + k];
          A[r * 6 + c] = s;
          A[c * 6 + r] = s;
        }
        A[r * 6 + r] += o.lambda * o.lambda;
      }
      const x = choleskySolve(A, e, 6);
      const dq = new Float64Array(n);
      for (let c = 0; c < n; c++) for (let r = 0; r < 6; r++) dq[c] += J[r * n + c] * x[r];
      if (n > 6 && o.nullGain > 0) {
        // null-space pull: z - J^+ (J z) with z = k (home - q)
        const z = new Float64Array(n);
        for (let c = 0; c < n; c++) z[c] = o.nullGain * (this.home[c] - q[c]);
        const jz = new Float64Array(6);
        for (let r = 0; r < 6; r++) for (let c = 0; c < n; c++) jz[r] += J[r * n + c] * z[c];
        const y = choleskySolve(A, jz, 6);
        for (let c = 0; c < n; c++) {
          let s = 0;
          for (let r = 0; r < 6; r++) s += J[r * n + c] * y[r];
          dq[c] += z[c] - s;
        }
      }
      let big = 0;
      for (let c = 0; c < n; c++) big = Math.max(big, Math.abs(dq[c]));
      const scale = big > o.maxStep ? o.maxStep / big : 1;
      for (let c = 0; c < n; c++) q[c] = Math.min(this.hi[c], Math.max(this.lo[c], q[c] + scale * dq[c]));
    }
    return { q, posErr, rotErr };
  }

  /** Frees the scratch state and buffers. */
  dispose(): void {
    this.jacp.delete();
    this.jacr.delete();
    this.scratch.delete();
  }
}
