/**
 * The LIBERO-style suites (panda7), 10 tasks each, built from cubes, a plate and a bowl:
 * - spatial: two identical red cubes; the instruction says which one by its place
 * - object: three cubes of different colours; the instruction names the colour
 * - goal: one fixed scene (red, green, blue cubes, plate, bowl), ten different goals
 * - long: the same scene, two goals in a row (a point per goal; success needs both)
 *
 * "Left" and "right" are the robot's (it stands at -x looking towards +x: its left is +y).
 */
import type { Vec3 } from '../geometry/index.ts';
import { Rng } from '../util/index.ts';
import { BOWL, CUBE_HALF, PLATE, type SceneObject } from './scene.ts';
import { cubeOnPlate, pickAndPlacePlan, type Placement, released, sampleLayout, type TaskSpec } from './tasks.ts';
import type { World } from './world.ts';

/** A goal: put cube `obj` on/in `dest` (the plate, the bowl or another cube). */
type Goal = { obj: string; dest: string };

/** Region boxes [x0, x1, y0, y1] of the table (m). */
type Box = readonly [number, number, number, number];
const TABLE: Box = [-0.14, 0.1, -0.22, 0.22];

function kindOf(name: string): 'plate' | 'bowl' | 'cube' {
  return name === 'plate' ? 'plate' : name === 'bowl' ? 'bowl' : 'cube';
}

/** True when cube `obj` sits in the bowl (inside the wall, below the rim, let go). */
export function cubeInBowl(w: World, obj: string, bowl: string): boolean {
  const o = w.objectPose(obj).p;
  const b = w.objectPose(bowl).p;
  return Math.hypot(o[0] - b[0], o[1] - b[1]) < BOWL.radius - BOWL.wall - 0.005 && o[2] > b[2] && o[2] < b[2] + BOWL.height && released(w, obj);
}

/**
 * True when cube `obj` rests on cube `base`: its centre over the base's top face (within half a cube;
 * until 2026-12-02 within 1.5 cm, which refused stable stacks the DART-noised expert makes), one
 * cube higher, let go.
 */
export function cubeOnCube(w: World, obj: string, base: string): boolean {
  const o = w.objectPose(obj).p;
  const b = w.objectPose(base).p;
  const dz = o[2] - b[2];
  return Math.hypot(o[0] - b[0], o[1] - b[1]) < CUBE_HALF && dz > 2 * CUBE_HALF - 0.006 && dz < 2 * CUBE_HALF + 0.01 && released(w, obj);
}

function achieved(w: World, g: Goal): boolean {
  const k = kindOf(g.dest);
  return k === 'plate' ? cubeOnPlate(w, g.obj, g.dest) : k === 'bowl' ? cubeInBowl(w, g.obj, g.dest) : cubeOnCube(w, g.obj, g.dest);
}

/** Where the expert releases a cube for `g` (k-th cube onto the same plate shifts sideways). */
function releasePoint(g: Goal, slot: number): (w: World) => Vec3 {
  return (w) => {
    const d = w.objectPose(g.dest).p;
    const k = kindOf(g.dest);
    // side by side along x (the fingers close along y), 3.2 cm apart (at +-2.8 cm, 1.6 cm apart, the second cube often knocked the first off under execution noise)
    if (k === 'plate') return [d[0] + (slot === 0 ? 0 : slot === 1 ? -0.036 : 0.036), d[1], d[2] + PLATE.half + CUBE_HALF + 0.008];
    if (k === 'bowl') return [d[0], d[1], d[2] + BOWL.wall + CUBE_HALF + 0.012];
    return [d[0], d[1], d[2] + 2 * CUBE_HALF + 0.008];
  };
}

/** A task from objects, a layout sampler and goals. */
function goalTask(o: { name: string; suite: string; instruction: string; objects: SceneObject[]; layout: (rng: Rng) => Map<string, Placement>; goals: Goal[] }): TaskSpec {
  const plateSlots = new Map<Goal, number>();
  let onPlate = 0;
  for (const g of o.goals) if (g.dest === 'plate') plateSlots.set(g, o.goals.filter((x) => x.dest === 'plate').length > 1 ? ++onPlate : 0);
  return {
    name: o.name,
    suite: o.suite,
    instruction: o.instruction,
    objects: o.objects,
    maxPoints: o.goals.length,
    stepBudget: 40 + 70 * o.goals.length,
    place: o.layout,
    score: (w) => o.goals.filter((g) => achieved(w, g)).length,
    plan: () => o.goals.flatMap((g) => pickAndPlacePlan(0, g.obj, releasePoint(g, plateSlots.get(g) ?? 0), { placed: (w) => achieved(w, g) })),
    target: (w) => o.goals.find((g) => !achieved(w, g))?.obj,
  };
}

const cube = (name: string, color: string): SceneObject => ({ name, kind: 'cube', color });
const PLATE_OBJ: SceneObject = { name: 'plate', kind: 'plate', color: 'white' };
const BOWL_OBJ: SceneObject = { name: 'bowl', kind: 'bowl', color: 'blue' };

/** Placements for `names` in `boxes` (one box each), at least `gap` apart, cubes with random yaw. */
function place(rng: Rng, names: readonly string[], boxes: readonly Box[], gap = 0.11): Map<string, Placement> {
  const pts = sampleLayout(rng, boxes, gap);
  return new Map(names.map((n, i) => {
    const k = kindOf(n);
    const z = k === 'cube' ? CUBE_HALF : k === 'plate' ? PLATE.half : 0;
    return [n, { x: pts[i][0], y: pts[i][1], z, yaw: k === 'cube' ? rng.range(-Math.PI / 4, Math.PI / 4) : 0 }];
  }));
}

// --- spatial: which of two red cubes -------------------------------------------------------------
const LEFT: Box = [-0.14, 0.1, 0.06, 0.22];
const RIGHT: Box = [-0.14, 0.1, -0.22, -0.06];
const NEAR: Box = [-0.14, -0.06, -0.2, 0.2];
const FAR: Box = [0.02, 0.1, -0.2, 0.2];

function spatial(name: string, which: string, dest: 'plate' | 'bowl', target: Box, other: Box, placeRest: (rng: Rng, cubes: Map<string, Placement>) => Map<string, Placement>): TaskSpec {
  return goalTask({
    name, suite: 'spatial',
    instruction: `put the red cube ${which} ${dest === 'plate' ? 'on the plate' : 'in the bowl'}`,
    objects: [cube('cube_a', 'red'), cube('cube_b', 'red'), PLATE_OBJ, BOWL_OBJ],
    layout: (rng) => placeRest(rng, place(rng, ['cube_a', 'cube_b'], [target, other], 0.12)),
    goals: [{ obj: 'cube_a', dest }],
  });
}

/** Puts the plate and bowl anywhere free on the table. */
function restAnywhere(rng: Rng, cubes: Map<string, Placement>): Map<string, Placement> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const rest = place(rng, ['plate', 'bowl'], [TABLE, TABLE], 0.16);
    const clear = [...rest.values()].every((r) => [...cubes.values()].every((c) => Math.hypot(r.x - c.x, r.y - c.y) > 0.11));
    if (clear) return new Map([...cubes, ...rest]);
  }
  throw new Error('sim: no free layout for the plate and bowl');
}

/** The target cube next to `anchor` (within 12 cm), the other cube far from it (over 22 cm). */
function nextTo(anchor: 'plate' | 'bowl'): (rng: Rng) => Map<string, Placement> {
  const other = anchor === 'plate' ? 'bowl' : 'plate';
  return (rng) => {
    for (let attempt = 0; attempt < 500; attempt++) {
      const m = place(rng, [anchor, other, 'cube_a', 'cube_b'], [TABLE, TABLE, TABLE, TABLE], 0.11);
      const a = m.get(anchor)!;
      const dist = (n: string) => Math.hypot(m.get(n)!.x - a.x, m.get(n)!.y - a.y);
      if (dist('cube_a') < 0.12 && dist('cube_b') > 0.22 && Math.hypot(m.get(other)!.x - a.x, m.get(other)!.y - a.y) > 0.16) return m;
    }
    throw new Error('sim: no layout with the cube next to the ' + anchor);
  };
}

const SPATIAL: TaskSpec[] = [
  spatial('spatial-left-plate', "on the robot's left", 'plate', LEFT, RIGHT, restAnywhere),
  spatial('spatial-right-plate', "on the robot's right", 'plate', RIGHT, LEFT, restAnywhere),
  spatial('spatial-near-plate', 'closer to the robot', 'plate', NEAR, FAR, restAnywhere),
  spatial('spatial-far-plate', 'farther from the robot', 'plate', FAR, NEAR, restAnywhere),
  spatial('spatial-left-bowl', "on the robot's left", 'bowl', LEFT, RIGHT, restAnywhere),
  spatial('spatial-right-bowl', "on the robot's right", 'bowl', RIGHT, LEFT, restAnywhere),
  spatial('spatial-near-bowl', 'closer to the robot', 'bowl', NEAR, FAR, restAnywhere),
  spatial('spatial-far-bowl', 'farther from the robot', 'bowl', FAR, NEAR, restAnywhere),
  goalTask({
    name: 'spatial-by-bowl-plate', suite: 'spatial', instruction: 'put the red cube next to the bowl on the plate',
    objects: [cube('cube_a', 'red'), cube('cube_b', 'red'), PLATE_OBJ, BOWL_OBJ], layout: nextTo('bowl'), goals: [{ obj: 'cube_a', dest: 'plate' }],
  }),
  goalTask({
    name: 'spatial-by-plate-bowl', suite: 'spatial', instruction: 'put the red cube next to the plate in the bowl',
    objects: [cube('cube_a', 'red'), cube('cube_b', 'red'), PLATE_OBJ, BOWL_OBJ], layout: nextTo('plate'), goals: [{ obj: 'cube_a', dest: 'bowl' }],
  }),
];

// --- object: which colour ----------------------------------------------------------------------
const COLORS = ['red', 'green', 'yellow', 'purple', 'orange'] as const;

// Each task lays its scene out from its own stream (the episode seed's draw, salted by the task's
// index): with the seed's stream alone, every task of the suite put its target cube in the same
// place for a given seed (the first of the layout's slots), so the place, not the colour, told a
// policy which cube to take, and one set of 50 layouts served all ten tasks (until 2026-12-03).
const OBJECT: TaskSpec[] = COLORS.flatMap((color, i) => {
  const distractors = [COLORS[(i + 1) % COLORS.length], COLORS[(i + 3) % COLORS.length]];
  const objects = [cube(color, color), ...distractors.map((c) => cube(c, c)), PLATE_OBJ, BOWL_OBJ];
  return (['plate', 'bowl'] as const).map((dest, d) => goalTask({
    name: `object-${color}-${dest}`, suite: 'object', instruction: `put the ${color} cube ${dest === 'plate' ? 'on the plate' : 'in the bowl'}`,
    objects, goals: [{ obj: color, dest }],
    layout: (rng: Rng) => place(new Rng(rng.nextU32() * 16 + 2 * i + d), objects.map((o) => o.name), objects.map(() => TABLE), 0.11),
  }));
});

// --- goal and long: one scene, many goals -------------------------------------------------------
const SCENE = [cube('red', 'red'), cube('green', 'green'), cube('yellow', 'yellow'), PLATE_OBJ, BOWL_OBJ];
const sceneLayout = (rng: Rng) => place(rng, SCENE.map((o) => o.name), SCENE.map(() => TABLE), 0.11);
const phrase = (g: Goal) => `the ${g.obj} cube ${g.dest === 'plate' ? 'on the plate' : g.dest === 'bowl' ? 'in the bowl' : `on the ${g.dest} cube`}`;

const GOALS: Goal[][] = [
  [{ obj: 'red', dest: 'plate' }], [{ obj: 'green', dest: 'plate' }], [{ obj: 'yellow', dest: 'plate' }],
  [{ obj: 'red', dest: 'bowl' }], [{ obj: 'green', dest: 'bowl' }], [{ obj: 'yellow', dest: 'bowl' }],
  [{ obj: 'red', dest: 'green' }], [{ obj: 'green', dest: 'yellow' }], [{ obj: 'yellow', dest: 'red' }], [{ obj: 'green', dest: 'red' }],
];
const GOAL: TaskSpec[] = GOALS.map((goals) => goalTask({
  name: `goal-${goals[0].obj}-${goals[0].dest}`, suite: 'goal', instruction: `put ${phrase(goals[0])}`, objects: SCENE, layout: sceneLayout, goals,
}));

const LONGS: Goal[][] = [
  [{ obj: 'red', dest: 'plate' }, { obj: 'green', dest: 'bowl' }],
  [{ obj: 'green', dest: 'plate' }, { obj: 'yellow', dest: 'bowl' }],
  [{ obj: 'yellow', dest: 'plate' }, { obj: 'red', dest: 'bowl' }],
  [{ obj: 'red', dest: 'bowl' }, { obj: 'green', dest: 'plate' }],
  [{ obj: 'red', dest: 'plate' }, { obj: 'green', dest: 'plate' }],
  [{ obj: 'green', dest: 'plate' }, { obj: 'yellow', dest: 'plate' }],
  [{ obj: 'red', dest: 'green' }, { obj: 'yellow', dest: 'plate' }],
  [{ obj: 'yellow', dest: 'green' }, { obj: 'red', dest: 'bowl' }],
  [{ obj: 'red', dest: 'plate' }, { obj: 'yellow', dest: 'bowl' }],
  [{ obj: 'green', dest: 'bowl' }, { obj: 'yellow', dest: 'plate' }],
];
const LONG: TaskSpec[] = LONGS.map((goals) => goalTask({
  name: `long-${goals.map((g) => `${g.obj}-${g.dest}`).join('-then-')}`, suite: 'long',
  instruction: `put ${phrase(goals[0])}, then put ${phrase(goals[1])}`, objects: SCENE, layout: sceneLayout, goals,
}));

/** The four suites' tasks. */
export const SUITE_TASKS: readonly TaskSpec[] = [...SPATIAL, ...OBJECT, ...GOAL, ...LONG];
