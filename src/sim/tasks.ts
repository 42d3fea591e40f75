/**
 * Tasks: objects, a language instruction, a seeded initial-state distribution, stage points and
 * success computed from the simulator state, a step budget, and the scripted expert's plan.
 */
import type { Pose, Vec3 } from '../geometry/index.ts';
import type { Rng } from '../util/index.ts';
import { boxGraspYaw, EXPERT, type Waypoint, yawMat, yawOf } from './expert.ts';
import { CUBE_HALF, PLATE, type SceneObject } from './scene.ts';
import type { World } from './world.ts';

/** Where an object starts: position of its body frame (m, world) and yaw about z (rad). */
export type Placement = { x: number; y: number; z: number; yaw: number };

/** A task of the benchmark. */
export type TaskSpec = {
  name: string;
  suite: string;
  instruction: string;
  objects: readonly SceneObject[];
  /** points of a fully solved episode (1 for single-stage tasks) */
  maxPoints: number;
  /** control steps allowed */
  stepBudget: number;
  /** seeded object placements */
  place(rng: Rng): Map<string, Placement>;
  /**
   * Points earned in the current state given the points `reached` so far (success = maxPoints);
   * staged tasks count a stage only once the stages before it were reached.
   */
  score(w: World, reached: number): number;
  /** the scripted expert's plan for arm 0 */
  plan(): Waypoint[];
  /**
   * The object the task needs carried next in state `w` (the first goal not yet reached), for the
   * diagnosis of failed episodes (Env.failureMode); absent for tasks that are not about carrying one.
   */
  target?(w: World): string | undefined;
};

/** Samples non-overlapping xy positions, each in its own box, at least `gap` apart (rejection). */
export function sampleLayout(rng: Rng, boxes: readonly (readonly [number, number, number, number])[], gap: number): [number, number][] {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const pts = boxes.map(([x0, x1, y0, y1]) => [rng.range(x0, x1), rng.range(y0, y1)] as [number, number]);
    let ok = true;
    for (let i = 0; i < pts.length && ok; i++) {
      for (let j = 0; j < i && ok; j++) ok = Math.hypot(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1]) >= gap;
    }
    if (ok) return pts;
  }
  throw new Error('sim: could not place the objects without overlap (the layout boxes are too small)');
}

/** A waypoint pose: `dz` above the commanded one. */
export const lifted = (dz: number) => (_: World, cur: Pose): Pose => ({ p: [cur.p[0], cur.p[1], cur.p[2] + dz], r: cur.r });
/** A waypoint pose: stay where commanded (to open or close the gripper). */
export const stay = (_: World, cur: Pose): Pose => cur;

/** Options of pickAndPlacePlan for objects other than cubes. */
export type PickOptions = {
  /** the grasp pose (default: a cube's centre, yaw snapped to its faces) */
  grasp?: (w: World) => Pose;
  /** `dest` is where the object's body origin goes, and the TCP keeps its offset from it (default: the TCP goes to `dest`) */
  keepOffset?: boolean;
  /** the segment's goal reached, for labelling other policies' states (default: let go within 2 cm of `dest`) */
  placed?: (w: World) => boolean;
};

/** Gripper opening below which a closed gripper holds nothing (its fingers met). */
const CLOSED_ON_AIR = 0.05;
/** Gripper opening above which it is open (closed on a cube it is ~0.5). */
const OPEN = 0.7;
/** How near (m) the TCP must be to a pose for the state to be at it, when labelling another policy's states. */
const NEAR = 0.02;
/** How far (m) an object in the closed fingers may be from where the grasp holds it (a cube taken by its edge: ~3 cm). */
const IN_FINGERS = 0.04;
/** How far (m) the object may drift from the TCP, beyond its distance at the grasp, and still count as held. */
const HOLD_SLACK = 0.02;
/** Heights (m): of the approach above the grasp, and of the carry above the release point. */
const APPROACH = 0.1;
const CARRY = 0.1;
/** The waypoints of a pick-and-place segment, by index (`done`: past the last). */
const STAGE = { above: 0, descend: 1, close: 2, lift: 3, carry: 4, lower: 5, open: 6, retreat: 7, done: 8 } as const;

/**
 * Pick `obj` and release it at `dest` (computed when the carry starts): above, descend, close,
 * lift, carry, lower, open, retreat. By default `obj` is a cube grasped at its centre. While
 * lifting, carrying and lowering, the object must stay in the gripper (its distance from the TCP
 * as at the grasp, the fingers not closed on air); when it does not, the expert re-plans from the
 * approach above the object's new place (expert.ts).
 *
 * The segment's phase, for labelling states another policy reached: the object in the gripper
 * (closed on it, at its grasp distance) -> lift while low, carry, lower over the release point,
 * open at it; another object in the gripper -> lower it to the table where it is, open there (let
 * go in mid-air, and the policy learns to drop what it carries: the right and wrong cube of the
 * spatial suite look alike); let go -> retreat once placed, else close at the grasp pose, descend
 * when over the object, approach from above otherwise.
 */
export function pickAndPlacePlan(arm: number, obj: string, dest: (w: World) => Vec3, opts: PickOptions = {}): Waypoint[] {
  const grasp = opts.grasp ?? ((w: World): Pose => {
    const o = w.objectPose(obj);
    return { p: [o.p[0], o.p[1], o.p[2]], r: yawMat(boxGraspYaw(yawOf(o.r))) };
  });
  let target: Vec3 = [0, 0, 0];
  let gripDistance: number | undefined; // |TCP - object| when the lift starts
  const distance = (w: World) => {
    const o = w.objectPose(obj).p;
    const t = w.tcpPose(arm).p;
    return Math.hypot(o[0] - t[0], o[1] - t[1], o[2] - t[2]);
  };
  const holding = (w: World) => w.gripperOpening(arm) > CLOSED_ON_AIR && (gripDistance === undefined || distance(w) < gripDistance + HOLD_SLACK);
  const carryTarget = (w: World): Vec3 => {
    const d = dest(w);
    if (!opts.keepOffset) return d;
    const o = w.objectPose(obj).p;
    const t = w.tcpPose(arm).p;
    return [d[0] + t[0] - o[0], d[1] + t[1] - o[1], d[2] + t[2] - o[2]];
  };
  const placed = opts.placed ?? ((w: World) => {
    const o = w.objectPose(obj).p;
    const d = dest(w);
    return Math.hypot(o[0] - d[0], o[1] - d[1]) < NEAR && Math.abs(o[2] - d[2]) < NEAR && w.gripperOpening(arm) > OPEN;
  });
  const phase = (w: World): number => {
    const t = w.tcpPose(arm).p;
    const g = grasp(w).p;
    const o = w.objectPose(obj).p;
    const opening = w.gripperOpening(arm);
    const closedOnSomething = opening > CLOSED_ON_AIR && opening < OPEN;
    const inHand = closedOnSomething && distance(w) < Math.hypot(g[0] - o[0], g[1] - o[1], g[2] - o[2]) + IN_FINGERS;
    if (inHand) {
      gripDistance ??= distance(w);
      target = carryTarget(w);
      if (Math.hypot(t[0] - target[0], t[1] - target[1]) < NEAR) return t[2] < target[2] + NEAR / 2 ? STAGE.open : STAGE.lower;
      return t[2] < target[2] + CARRY - 3 * NEAR ? STAGE.lift : STAGE.carry;
    }
    gripDistance = undefined;
    const other = closedOnSomething && w.objectNames.some((n) => {
      const p = w.objectPose(n).p;
      return n !== obj && Math.hypot(p[0] - t[0], p[1] - t[1], p[2] - t[2]) < IN_FINGERS;
    });
    if (other) {
      target = [t[0], t[1], g[2]]; // the TCP's height holding a cube like the target on the table
      return t[2] < g[2] + NEAR ? STAGE.open : STAGE.lower; // (on a plate, a cube rests ~1 cm higher)
    }
    if (placed(w)) return t[2] > o[2] + APPROACH / 2 ? STAGE.done : STAGE.retreat;
    const off = Math.hypot(t[0] - g[0], t[1] - g[1]);
    if (off < EXPERT.tolerance && Math.abs(t[2] - g[2]) < EXPERT.tolerance) return STAGE.close;
    return off < 1.5 * NEAR && t[2] > g[2] - EXPERT.tolerance && t[2] < g[2] + APPROACH + NEAR ? STAGE.descend : STAGE.above;
  };
  return [
    { arm, gripper: 1, pose: (w) => { gripDistance = undefined; const g = grasp(w); return { p: [g.p[0], g.p[1], g.p[2] + APPROACH], r: g.r }; }, phase: { length: STAGE.done, at: phase } },
    { arm, gripper: 1, pose: grasp, speed: 0.02 },
    { arm, gripper: 0, pose: stay, hold: 4 },
    { arm, gripper: 0, pose: (w, cur) => { gripDistance = distance(w); return lifted(0.12)(w, cur); }, requires: holding, backTo: 3 },
    { arm, gripper: 0, pose: (w, cur) => { target = carryTarget(w); return { p: [target[0], target[1], Math.max(cur.p[2], target[2] + CARRY)], r: cur.r }; }, requires: holding, backTo: 4 },
    { arm, gripper: 0, pose: (_, cur) => ({ p: target, r: cur.r }), speed: 0.02, requires: holding, backTo: 5 },
    { arm, gripper: 1, pose: stay, hold: 3 },
    { arm, gripper: 1, pose: lifted(0.1) },
  ];
}

/** True when `obj` (a cube) rests on the plate `plate`: centred within its rim, at plate height, and let go. */
export function cubeOnPlate(w: World, obj: string, plate: string): boolean {
  const o = w.objectPose(obj).p;
  const p = w.objectPose(plate).p;
  const within = Math.hypot(o[0] - p[0], o[1] - p[1]) < PLATE.radius - 0.01;
  const resting = o[2] > p[2] && o[2] < p[2] + PLATE.half + CUBE_HALF + 0.01;
  return within && resting && released(w, obj);
}

/** True when arm 0 is not holding `obj`: gripper open, or the TCP farther than `reach` from its origin. */
export function released(w: World, obj: string, reach = 0.06): boolean {
  const o = w.objectPose(obj).p;
  const t = w.tcpPose(0).p;
  return w.gripperOpening(0) > OPEN || Math.hypot(o[0] - t[0], o[1] - t[1], o[2] - t[2]) > reach;
}

const pickPlace: TaskSpec = {
  name: 'pick-place',
  suite: 'basic',
  instruction: 'put the red cube on the plate',
  objects: [{ name: 'cube', kind: 'cube', color: 'red' }, { name: 'plate', kind: 'plate', color: 'white' }],
  maxPoints: 1,
  stepBudget: 100,
  place(rng) {
    // LIBERO-like perturbations: each object within a 10 cm square around its nominal place
    const [c, p] = sampleLayout(rng, [[-0.07, 0.03, -0.15, -0.05], [-0.07, 0.03, 0.07, 0.17]], 0.12);
    return new Map([
      ['cube', { x: c[0], y: c[1], z: CUBE_HALF, yaw: rng.range(-Math.PI / 6, Math.PI / 6) }],
      ['plate', { x: p[0], y: p[1], z: PLATE.half, yaw: 0 }],
    ]);
  },
  score: (w) => (cubeOnPlate(w, 'cube', 'plate') ? 1 : 0),
  target: () => 'cube',
  plan: () => pickAndPlacePlan(0, 'cube', (w) => {
    const p = w.objectPose('plate').p;
    return [p[0], p[1], p[2] + PLATE.half + CUBE_HALF + 0.008];
  }, { placed: (w) => cubeOnPlate(w, 'cube', 'plate') }),
};

/** The basic task every robot has (the quickstart's): one red cube onto the plate. */
export const PICK_PLACE: TaskSpec = pickPlace;
