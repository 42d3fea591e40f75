/**
 * Scripted experts: a task's plan is a list of waypoints (TCP pose + gripper per arm). A waypoint's
 * pose is computed from the simulator state when the expert reaches it (so it follows where the
 * objects really are), then the commanded pose moves towards it at a bounded speed; the expert
 * moves on once the commanded pose has arrived, the real TCP is within tolerance, and the
 * waypoint's hold count has passed.
 *
 * Re-planning: a waypoint may require a condition of the state while it runs (e.g. "the cube is
 * still in the gripper" while lifting and carrying it). When the condition fails (a missed grasp,
 * a cube knocked away or dropped), the expert goes back `backTo` waypoints (to the approach above
 * the object), starting again from where the arm really is, so the plan's poses are recomputed
 * from the new state; at most EXPERT.retries times per episode.
 *
 * Labelling another policy's states (DAgger, `resync`): a plan made of segments that say where the
 * state stands (`Waypoint.phase`: approaching, grasping, carrying, releasing) follows the state
 * rather than its own schedule, so a policy that grasped early is told to carry, not to approach.
 */
import { type Mat3, matFromAxisAngle, matMul, matTranspose, type Pose, axisAngleFromMat, type Vec3 } from '../geometry/index.ts';
import type { World } from './world.ts';

/** One step of a plan. */
export type Waypoint = {
  /** which arm moves (0 = the only / right arm) */
  arm: number;
  /** the TCP pose to reach, computed from the state when the waypoint starts */
  pose: (w: World, current: Pose) => Pose;
  /** gripper command while moving to it: 0 closed .. 1 open */
  gripper: number;
  /** control steps to stay after arriving (e.g. while the gripper closes) */
  hold?: number;
  /** translation speed limit (m per control step); default EXPERT.speed */
  speed?: number;
  /** a condition of the state that must hold while this waypoint runs; when it fails the expert re-plans */
  requires?: (w: World) => boolean;
  /** waypoints to go back when `requires` fails (default 0: retry this one) */
  backTo?: number;
  /**
   * On the first waypoint of a segment of `length` waypoints: how many of them an expert that
   * brought the world to state `w` would have done (`length`: the segment's goal is reached).
   */
  phase?: { length: number; at: (w: World) => number };
};

/** True when `plan` is a sequence of segments that each say their phase (so `resync` can follow the state). */
function phased(plan: readonly Waypoint[]): boolean {
  let i = 0;
  while (i < plan.length && plan[i].phase) i += plan[i].phase!.length;
  return plan.length > 0 && i === plan.length;
}

/** Speed limits and tolerances of the experts. */
export const EXPERT = Object.freeze({ speed: 0.03, turn: 0.2, tolerance: 0.012, maxWait: 15, retries: 3 });

/** Rotation about world z by `yaw` (rad). */
export function yawMat(yaw: number): Mat3 {
  return matFromAxisAngle([0, 0, yaw]);
}

/** Yaw of a rotation's x axis about world z (rad). */
export function yawOf(r: Mat3): number {
  return Math.atan2(r[3], r[0]);
}

/** The grasp yaw for a box with yaw `yaw`: the equivalent angle (mod pi/2) closest to 0. */
export function boxGraspYaw(yaw: number): number {
  const q = Math.PI / 2;
  return yaw - q * Math.round(yaw / q);
}

function stepTowards(from: Pose, to: Pose, speed: number, turn: number): Pose {
  const d: Vec3 = [to.p[0] - from.p[0], to.p[1] - from.p[1], to.p[2] - from.p[2]];
  const dist = Math.hypot(...d);
  const s = dist > speed ? speed / dist : 1;
  const rel = axisAngleFromMat(matMul(to.r, matTranspose(from.r)));
  const angle = Math.hypot(...rel);
  const t = angle > turn ? turn / angle : 1;
  return {
    p: [from.p[0] + s * d[0], from.p[1] + s * d[1], from.p[2] + s * d[2]],
    r: matMul(matFromAxisAngle([t * rel[0], t * rel[1], t * rel[2]]), from.r),
  };
}

/** A running scripted expert for one episode. */
export class Expert {
  private readonly plan: readonly Waypoint[];
  private index = 0;
  private goal: Pose | undefined;
  private held = 0;
  private waited = 0;
  private readonly commanded: Pose[];
  private readonly grippers: number[];
  private replans = 0;
  private readonly phased: boolean;

  constructor(w: World, plan: readonly Waypoint[]) {
    this.plan = plan;
    this.phased = phased(plan);
    this.commanded = Array.from({ length: w.armCount }, (_, i) => w.tcpPose(i));
    this.grippers = Array.from({ length: w.armCount }, () => 1);
  }

  /** True once every waypoint has been reached. */
  get done(): boolean {
    return this.index >= this.plan.length;
  }

  /**
   * Re-bases the commanded poses on the arms' real TCP poses, so the next command is the expert's
   * move from the state as it is (labelling states another policy drove the arm to: DAgger). A
   * phased plan also moves to the waypoint the state is at (a waypoint that holds, closing or
   * opening the gripper, finishes its hold before the state's next phase starts).
   */
  resync(w: World): void {
    for (let i = 0; i < this.commanded.length; i++) this.commanded[i] = w.tcpPose(i);
    if (!this.phased) return;
    const at = this.phaseOf(w);
    const finishingHold = !this.done && (this.plan[this.index].hold ?? 0) > 0 && at === this.index + 1;
    if (at !== this.index && !finishingHold) {
      this.index = at;
      this.goal = undefined;
      this.held = 0;
      this.waited = 0;
    }
  }

  /** The waypoint state `w` is at: in the first segment whose goal it has not reached. */
  private phaseOf(w: World): number {
    let i = 0;
    while (i < this.plan.length) {
      const { length, at } = this.plan[i].phase!;
      const k = at(w);
      if (k < length) return i + k;
      i += length;
    }
    return i;
  }

  /** Times the expert went back in its plan because a waypoint's condition failed. */
  get retries(): number {
    return this.replans;
  }

  /** The commanded TCP poses and gripper commands for the next control step. */
  next(w: World): { poses: Pose[]; grippers: number[] } {
    if (!this.done && this.plan[this.index].requires && this.replans < EXPERT.retries && !this.plan[this.index].requires!(w)) {
      const wp = this.plan[this.index];
      this.index = Math.max(0, this.index - (wp.backTo ?? 0));
      this.commanded[wp.arm] = w.tcpPose(wp.arm); // re-plan from where the arm is
      this.goal = undefined;
      this.held = 0;
      this.waited = 0;
      this.replans++;
    }
    if (!this.done) {
      const wp = this.plan[this.index];
      this.goal ??= wp.pose(w, this.commanded[wp.arm]);
      const cur = this.commanded[wp.arm];
      const moved = stepTowards(cur, this.goal, wp.speed ?? EXPERT.speed, EXPERT.turn);
      this.commanded[wp.arm] = moved;
      this.grippers[wp.arm] = wp.gripper;
      const arrived = Math.hypot(moved.p[0] - this.goal.p[0], moved.p[1] - this.goal.p[1], moved.p[2] - this.goal.p[2]) < 1e-9;
      if (arrived) {
        const real = w.tcpPose(wp.arm).p;
        const close = Math.hypot(real[0] - this.goal.p[0], real[1] - this.goal.p[1], real[2] - this.goal.p[2]) < EXPERT.tolerance;
        this.waited++;
        if (close || this.waited > EXPERT.maxWait) {
          if (this.held >= (wp.hold ?? 0)) {
            this.index++;
            this.goal = undefined;
            this.held = 0;
            this.waited = 0;
          } else {
            this.held++;
          }
        }
      }
    }
    return { poses: this.commanded.slice(), grippers: this.grippers.slice() };
  }

  /** The next native action of the world's embodiment (EEF poses, or joint targets by IK). */
  nextAction(w: World): Float64Array {
    const { poses, grippers } = this.next(w);
    return w.nativeAction(poses, grippers);
  }
}
