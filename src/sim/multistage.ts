/**
 * The four multi-stage tasks scored in points like the paper's real-robot rubrics (appendix C),
 * on panda7. A stage counts once the stages before it were reached, all from simulator state:
 * - stack-bowls (3): lift the orange bowl, nest it in the blue bowl, nest the yellow bowl in it
 * - pick-to-drawer (5): open the drawer, lift the cube, bring it into the drawer, let go, close it
 * - wipe-board (4): push each of the four dirt patches off the board (a point each, any order)
 * - water-plant (3, tool use): lift the watering can, hold its spout over the plant, tilt it to pour
 */
import { matFromAxisAngle, matMul, matTranspose, matVec, type Pose, type Vec3 } from '../geometry/index.ts';
import type { Rng } from '../util/index.ts';
import { type Waypoint, yawMat, yawOf } from './expert.ts';
import { BOARD, BOWL, CABINET, CAN, CUBE_HALF, PATCH, POT, type SceneObject } from './scene.ts';
import { lifted, pickAndPlacePlan, type Placement, released, stay, type TaskSpec } from './tasks.ts';
import type { World } from './world.ts';

type Stage = (w: World) => boolean;

/** Stages in order -> a score: the stages reached so far, then as many more as hold now. */
function staged(stages: readonly Stage[]): (w: World, reached: number) => number {
  return (w, reached) => {
    let k = reached;
    while (k < stages.length && stages[k](w)) k++;
    return k;
  };
}

/** `p` (world) in the body frame of object `name`. */
function local(w: World, name: string, p: Vec3): Vec3 {
  const o = w.objectPose(name);
  return matVec(matTranspose(o.r), [p[0] - o.p[0], p[1] - o.p[1], p[2] - o.p[2]]);
}

/** A point of object `name`'s body frame, in the world. */
function world(w: World, name: string, p: Vec3): Vec3 {
  const o = w.objectPose(name);
  const v = matVec(o.r, p);
  return [o.p[0] + v[0], o.p[1] + v[1], o.p[2] + v[2]];
}

/** Rejection-samples placements until `ok` holds. */
function sampleUntil(rng: Rng, draw: () => Map<string, Placement>, ok: (m: Map<string, Placement>) => boolean): Map<string, Placement> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const m = draw();
    if (ok(m)) return m;
  }
  throw new Error('sim: no layout satisfies the task constraints');
}

const at = (x: number, y: number, z: number, yaw = 0): Placement => ({ x, y, z, yaw });
const dist2 = (a: Placement, b: Placement) => Math.hypot(a.x - b.x, a.y - b.y);

// --- stack-bowls ---------------------------------------------------------------------------------
const BOWLS = { big: 0.085, mid: 0.065, small: 0.045 } as const;
const bowl = (name: keyof typeof BOWLS, color: string): SceneObject => ({ name: `bowl_${name}`, kind: 'bowl', color, size: BOWLS[name], tab: true });

/** True when bowl `inner` (radius ri) sits nested in bowl `outer` (radius ro) and is let go. */
function nested(w: World, inner: string, ri: number, outer: string, ro: number): boolean {
  const i = w.objectPose(inner).p;
  const o = w.objectPose(outer).p;
  const dz = i[2] - o[2];
  // held by its tab, a bowl's origin is ~ri from the TCP
  return Math.hypot(i[0] - o[0], i[1] - o[1]) < ro - BOWL.wall - ri + 0.004 && dz > 0 && dz < 0.03 && released(w, inner, ri + 0.04);
}

/** Grasp of a bowl's tab (on the rim, facing the robot), the fingertips just above the rim. */
const bowlGrasp = (name: string, r: number) => (w: World): Pose => {
  const c = w.objectPose(name).p;
  return { p: [c[0] - (r - BOWL.wall / 2), c[1], c[2] + BOWL.height + 0.014], r: yawMat(0) };
};

/** Release a bowl 2.5 cm above the floor of bowl `outer` (the fingers stay above its rim). */
const intoBowl = (outer: string) => (w: World): Vec3 => {
  const o = w.objectPose(outer).p;
  return [o[0], o[1], o[2] + BOWL.wall + 0.025];
};

const stackBowls: TaskSpec = {
  name: 'stack-bowls',
  suite: 'multistage',
  instruction: 'put the orange bowl in the blue bowl, then the yellow bowl in the orange bowl',
  objects: [bowl('big', 'blue'), bowl('mid', 'orange'), bowl('small', 'yellow')],
  maxPoints: 3,
  stepBudget: 200,
  place(rng) {
    return sampleUntil(rng, () => {
      const side = rng.uniform() < 0.5 ? 1 : -1;
      return new Map([
        ['bowl_big', at(rng.range(-0.07, 0), rng.range(-0.02, 0.02), 0)],
        ['bowl_mid', at(rng.range(-0.1, 0.02), side * rng.range(0.17, 0.21), 0)],
        ['bowl_small', at(rng.range(-0.1, 0.02), -side * rng.range(0.15, 0.2), 0)],
      ]);
    }, (m) => dist2(m.get('bowl_big')!, m.get('bowl_mid')!) > BOWLS.big + BOWLS.mid + 0.015 && dist2(m.get('bowl_big')!, m.get('bowl_small')!) > BOWLS.big + BOWLS.small + 0.015);
  },
  score: staged([
    (w) => w.objectPose('bowl_mid').p[2] > 0.04,
    (w) => nested(w, 'bowl_mid', BOWLS.mid, 'bowl_big', BOWLS.big),
    (w) => nested(w, 'bowl_small', BOWLS.small, 'bowl_mid', BOWLS.mid) && nested(w, 'bowl_mid', BOWLS.mid, 'bowl_big', BOWLS.big),
  ]),
  plan: () => [
    ...pickAndPlacePlan(0, 'bowl_mid', intoBowl('bowl_big'), { grasp: bowlGrasp('bowl_mid', BOWLS.mid), keepOffset: true }),
    ...pickAndPlacePlan(0, 'bowl_small', intoBowl('bowl_mid'), { grasp: bowlGrasp('bowl_small', BOWLS.small), keepOffset: true }),
  ],
};

// --- pick-to-drawer ------------------------------------------------------------------------------
const DRAWER_JOINT = 'cabinet_drawer';
const OPEN = 0.12;

/** True when the cube is inside the drawer's box (in the drawer's frame, below its rim). */
function cubeInDrawer(w: World): boolean {
  const q = w.jointPosition(DRAWER_JOINT);
  const c = local(w, 'cabinet', w.objectPose('cube').p);
  const [ix, iy] = CABINET.drawerInner;
  return Math.abs(c[0] - CABINET.drawerX + q) < ix - 0.01 && Math.abs(c[1]) < iy - 0.01 && c[2] > CABINET.drawerFloor && c[2] < CABINET.drawerWall + 0.02;
}

/** The knob's centre (world) with the drawer open by `q`. */
const knobAt = (w: World, q: number): Vec3 => world(w, 'cabinet', [CABINET.knob.x - q, 0, CABINET.knob.z]);

const pickToDrawer: TaskSpec = {
  name: 'pick-to-drawer',
  suite: 'multistage',
  instruction: 'open the drawer, put the red cube in it and close the drawer',
  objects: [{ name: 'cabinet', kind: 'cabinet', color: 'cream' }, { name: 'cube', kind: 'cube', color: 'red' }],
  maxPoints: 5,
  stepBudget: 260,
  place: (rng) => new Map([
    ['cabinet', at(rng.range(0.15, 0.19), rng.range(0.05, 0.11), 0)],
    ['cube', at(rng.range(-0.12, -0.04), rng.range(-0.18, -0.08), CUBE_HALF, rng.range(-Math.PI / 6, Math.PI / 6))],
  ]),
  score: staged([
    (w) => w.jointPosition(DRAWER_JOINT) > 0.08,
    (w) => w.objectPose('cube').p[2] > CUBE_HALF + 0.04,
    cubeInDrawer,
    (w) => cubeInDrawer(w) && released(w, 'cube'),
    (w) => cubeInDrawer(w) && w.jointPosition(DRAWER_JOINT) < 0.015,
  ]),
  plan: () => {
    const knob = (w: World): Pose => ({ p: knobAt(w, w.jointPosition(DRAWER_JOINT)), r: yawMat(0) });
    let pushFrom: Vec3 = [0, 0, 0];
    const back = CABINET.knob.half[0] + 0.012; // closed fingers' half thickness in front of the knob's face
    return [
      // open: grasp the knob from above, pull it out, let go
      { arm: 0, gripper: 1, pose: (w) => { const k = knob(w); return { p: [k.p[0] - 0.005, k.p[1], k.p[2] + 0.1], r: k.r }; } },
      { arm: 0, gripper: 1, pose: (w) => { const k = knob(w); return { p: [k.p[0] - 0.005, k.p[1], k.p[2]], r: k.r }; }, speed: 0.02 },
      { arm: 0, gripper: 0, pose: stay, hold: 4 },
      { arm: 0, gripper: 0, pose: (w) => { const k = knobAt(w, OPEN); return { p: [k[0] - 0.005, k[1], k[2]], r: yawMat(0) }; }, speed: 0.02 },
      { arm: 0, gripper: 1, pose: stay, hold: 3 },
      { arm: 0, gripper: 1, pose: lifted(0.1) },
      // the cube into the open drawer, 4.5 cm behind its front wall
      ...pickAndPlacePlan(0, 'cube', (w) => world(w, 'cabinet', [CABINET.drawerX - w.jointPosition(DRAWER_JOINT) - CABINET.drawerInner[0] + 0.045, 0, CABINET.drawerFloor + CUBE_HALF + 0.01])),
      // close: in front of the knob, down, push it home, back off
      { arm: 0, gripper: 0, pose: (w) => { const k = knobAt(w, w.jointPosition(DRAWER_JOINT)); pushFrom = [k[0] - back - 0.03, k[1], k[2]]; return { p: [pushFrom[0], pushFrom[1], pushFrom[2] + 0.08], r: yawMat(0) }; } },
      { arm: 0, gripper: 0, pose: () => ({ p: pushFrom, r: yawMat(0) }), speed: 0.02 },
      { arm: 0, gripper: 0, pose: (w) => { const k = knobAt(w, -0.004); return { p: [k[0] - back, k[1], k[2]], r: yawMat(0) }; }, speed: 0.02 },
      { arm: 0, gripper: 0, pose: (_, cur) => ({ p: [cur.p[0] - 0.04, cur.p[1], cur.p[2] + 0.06], r: cur.r }) },
    ];
  },
};

// --- wipe-board ----------------------------------------------------------------------------------
const PATCHES = ['dirt_0', 'dirt_1', 'dirt_2', 'dirt_3'] as const;

/** True when a dirt patch's centre is off the board (outside its top face, or below it). */
function offBoard(w: World, patch: string): boolean {
  const p = local(w, 'board', w.objectPose(patch).p);
  return Math.abs(p[0]) > BOARD.half[0] || Math.abs(p[1]) > BOARD.half[1] || p[2] < 2 * BOARD.half[2];
}

/** Push `patch` along +y off the board's edge with the closed fingers just above the board. */
function pushOffPlan(patch: string): Waypoint[] {
  const z = 2 * BOARD.half[2] + 0.016; // the fingertips 3 mm above the board
  let start: Vec3 = [0, 0, 0];
  return [
    { arm: 0, gripper: 0, pose: (w) => { const p = w.objectPose(patch).p; start = [p[0], p[1] - PATCH.half[1] - 0.03, w.objectPose('board').p[2] + z]; return { p: [start[0], start[1], start[2] + 0.06], r: yawMat(0) }; } },
    { arm: 0, gripper: 0, pose: () => ({ p: start, r: yawMat(0) }), speed: 0.02 },
    { arm: 0, gripper: 0, pose: (w) => ({ p: [start[0], world(w, 'board', [0, BOARD.half[1] + 0.045, 0])[1], start[2]], r: yawMat(0) }), speed: 0.025 },
    { arm: 0, gripper: 0, pose: lifted(0.06) },
  ];
}

const wipeBoard: TaskSpec = {
  name: 'wipe-board',
  suite: 'multistage',
  instruction: 'wipe all the dirt off the board',
  objects: [{ name: 'board', kind: 'board', color: 'white' }, ...PATCHES.map((name): SceneObject => ({ name, kind: 'patch', color: 'brown' }))],
  maxPoints: 4,
  stepBudget: 200,
  place(rng) {
    const bx = rng.range(-0.07, 0.0);
    const by = rng.range(-0.08, -0.03);
    const z = 2 * BOARD.half[2] + PATCH.half[2];
    const m = new Map([['board', at(bx, by, 0)]]);
    PATCHES.forEach((name, i) => {
      const dx = (i % 2 === 0 ? -1 : 1) * 0.036;
      const dy = (i < 2 ? 1 : -1) * 0.045;
      m.set(name, at(bx + dx + rng.range(-0.008, 0.008), by + dy + rng.range(-0.01, 0.01), z, rng.range(-0.2, 0.2)));
    });
    return m;
  },
  score: (w) => PATCHES.filter((p) => offBoard(w, p)).length,
  // the patches nearer the +y edge first, so a push never drives one patch into another
  plan: () => PATCHES.flatMap(pushOffPlan),
};

// --- water-plant ---------------------------------------------------------------------------------
/** The spout's tip in the can's frame. */
const SPOUT_TIP: Vec3 = [CAN.spout[3], CAN.spout[4], CAN.spout[5] - CAN.half[2]];
const POUR_TILT = 0.9;

/** True when the spout's tip is over the plant, with the can above the pot. */
function overPlant(w: World): boolean {
  const tip = world(w, 'can', SPOUT_TIP);
  const pot = w.objectPose('pot').p;
  return Math.hypot(tip[0] - pot[0], tip[1] - pot[1]) < 0.05 && w.objectPose('can').p[2] > pot[2] + 2 * POT.half + 0.06;
}

/** The can's tilt from upright (rad), counted when its spout points down. */
function pourAngle(w: World): number {
  const r = w.objectPose('can').r;
  const up = Math.acos(Math.max(-1, Math.min(1, r[8])));
  return r[6] < 0 ? up : 0; // the can's x axis (the spout's side) pointing down
}

const waterPlant: TaskSpec = {
  name: 'water-plant',
  suite: 'multistage',
  instruction: 'water the plant with the watering can',
  objects: [{ name: 'can', kind: 'can', color: 'teal' }, { name: 'pot', kind: 'pot', color: 'terracotta' }],
  maxPoints: 3,
  stepBudget: 120,
  place: (rng) => new Map([
    ['can', at(rng.range(-0.1, -0.02), rng.range(-0.16, -0.08), CAN.half[2], rng.range(-0.3, 0.3))],
    ['pot', at(rng.range(-0.06, 0.04), rng.range(0.06, 0.16), 0)],
  ]),
  score: staged([
    (w) => w.objectPose('can').p[2] > CAN.half[2] + 0.05,
    overPlant,
    (w) => overPlant(w) && pourAngle(w) > 0.6,
  ]),
  plan: () => {
    let axis: Vec3 = [0, 1, 0];
    return [
      ...pickAndPlacePlan(0, 'can', (w) => {
        // the can's centre so that the spout's tip is over the plant, upright and tilted alike
        const pot = w.objectPose('pot').p;
        const yaw = yawOf(w.objectPose('can').r);
        const reach = 0.068;
        return [pot[0] - reach * Math.cos(yaw), pot[1] - reach * Math.sin(yaw), 0.1]; // carried 10 cm above this
      }, {
        grasp: (w) => { const o = w.objectPose('can'); return { p: [o.p[0], o.p[1], o.p[2]], r: yawMat(yawOf(o.r)) }; },
        keepOffset: true,
      }).slice(0, 5), // up to the carry: the can stays in the hand
      // tilt about the can's y axis (the fingers' closing axis), spout down, and hold
      { arm: 0, gripper: 0, pose: (w, cur) => { const r = w.objectPose('can').r; axis = [r[1], r[4], r[7]]; return { p: cur.p, r: matMul(matFromAxisAngle([POUR_TILT * axis[0], POUR_TILT * axis[1], POUR_TILT * axis[2]]), cur.r) }; }, hold: 3 },
    ];
  },
};

/** The multi-stage, point-scored tasks. */
export const MULTISTAGE_TASKS: readonly TaskSpec[] = [stackBowls, pickToDrawer, wipeBoard, waterPlant];
