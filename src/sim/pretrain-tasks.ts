/**
 * The pretraining task family: procedural pick-and-place tasks that share no task, instruction,
 * object or container with the downstream benchmark (the four panda7 suites, the multi-stage tasks
 * and the basic pick-place), as the paper's pretraining corpus shares nothing with LIBERO or
 * RoboCasa. Pretraining corpora (D1..D4) are drawn from it; evaluation never uses it.
 *
 * What differs from the benchmark, by construction:
 * - shapes: blocks and upright cylinders (the benchmark's are called cubes and only cubes move)
 * - colours: pink, cyan, lime, magenta, maroon, navy objects; grey, silver, olive, dark containers
 * - containers: plates and bowls in those colours (bowls 10% wider) and square trays
 * - instructions: "place / move / set / drop ..."; no benchmark instruction says anything but "put"
 * - layouts: the object and the container on either side or diagonal, with or without a distractor
 */
import type { Vec3 } from '../geometry/index.ts';
import { Rng } from '../util/index.ts';
import { BOWL, CUBE_HALF, PLATE, type SceneObject, TRAY } from './scene.ts';
import { pickAndPlacePlan, type Placement, released, sampleLayout, type TaskSpec } from './tasks.ts';
import type { World } from './world.ts';

/** Suite name of the family (`vlalab sim tasks` lists it; corpora select it). */
export const PRETRAIN_SUITE = 'pretrain';

type Shape = 'block' | 'cylinder';
type Container = 'plate' | 'bowl' | 'tray';
type Box = readonly [number, number, number, number];

const SHAPES: readonly Shape[] = ['block', 'cylinder'];
const OBJECT_COLORS = ['pink', 'cyan', 'lime', 'magenta', 'maroon', 'navy'] as const;
const CONTAINER_COLORS: Readonly<Record<Container, readonly string[]>> = { plate: ['grey', 'olive'], bowl: ['silver', 'olive'], tray: ['grey', 'silver', 'dark'] };
/** The family's bowls are wider than the benchmark's (outer radius, m). */
const BOWL_SIZE = 0.066;

/** Instruction templates per container: `{o}` the object phrase, `{c}` the container's colour. */
const TEMPLATES: Readonly<Record<Container, readonly string[]>> = {
  plate: ['place the {o} on the {c} plate', 'set the {o} down on the {c} plate', 'move the {o} onto the {c} plate'],
  bowl: ['drop the {o} into the {c} bowl', 'place the {o} inside the {c} bowl', 'move the {o} into the {c} bowl'],
  tray: ['place the {o} in the {c} tray', 'move the {o} into the {c} tray', 'set the {o} inside the {c} tray'],
};

/**
 * Layouts: [object box, container box] on the table ([x0, x1, y0, y1], m), sized like the basic
 * pick-place's 10 cm squares so every robot of the benchmark reaches them; a distractor goes in DISTRACTOR.
 */
const LAYOUTS: Readonly<Record<string, readonly [Box, Box]>> = {
  rtl: [[-0.07, 0.03, -0.15, -0.05], [-0.07, 0.03, 0.07, 0.17]],
  ltr: [[-0.07, 0.03, 0.05, 0.15], [-0.07, 0.03, -0.17, -0.07]],
  diag: [[-0.02, 0.06, -0.14, -0.06], [-0.1, -0.02, 0.06, 0.14]],
};
const DISTRACTOR: Box = [-0.12, -0.06, -0.04, 0.04];

/** Where a container's floor is above the table (m): a cube dropped in rests at floor + CUBE_HALF. */
function floorHeight(c: Container): number {
  return c === 'plate' ? 2 * PLATE.half : c === 'bowl' ? BOWL.wall : TRAY.base;
}

/** True when `obj` rests in or on `container` (within its rim, at its floor, let go). */
function inContainer(w: World, obj: string, container: Container): boolean {
  const o = w.objectPose(obj).p;
  const c = w.objectPose('container').p;
  const dx = Math.abs(o[0] - c[0]);
  const dy = Math.abs(o[1] - c[1]);
  const within = container === 'tray' ? Math.max(dx, dy) < TRAY.half - TRAY.thickness - 0.012
    : Math.hypot(dx, dy) < (container === 'plate' ? PLATE.radius - 0.01 : BOWL_SIZE - BOWL.wall - 0.012);
  const floor = c[2] + floorHeight(container) - (container === 'plate' ? PLATE.half : 0);
  return within && o[2] > floor && o[2] < floor + CUBE_HALF + 0.012 && released(w, obj);
}

type Recipe = { shape: Shape; color: string; container: Container; containerColor: string; template: number; layout: string; distractor: boolean };

function containerObject(r: Recipe): SceneObject {
  return { name: 'container', kind: r.container, color: r.containerColor, ...(r.container === 'bowl' ? { size: BOWL_SIZE } : {}) };
}

function pretrainTask(r: Recipe): TaskSpec {
  const shapeKind = r.shape === 'block' ? 'cube' : 'cylinder';
  const other = OBJECT_COLORS[(OBJECT_COLORS.indexOf(r.color as (typeof OBJECT_COLORS)[number]) + 3) % OBJECT_COLORS.length];
  const objects: SceneObject[] = [
    { name: 'target', kind: shapeKind, color: r.color }, containerObject(r),
    ...(r.distractor ? [{ name: 'distractor', kind: 'cube' as const, color: other }] : []),
  ];
  const [objBox, conBox] = LAYOUTS[r.layout];
  const instruction = TEMPLATES[r.container][r.template].replace('{o}', `${r.color} ${r.shape}`).replace('{c}', r.containerColor);
  return {
    name: `pt-${r.color}-${r.shape}-${r.containerColor}-${r.container}-${r.layout}${r.distractor ? '-d' : ''}`,
    suite: PRETRAIN_SUITE,
    instruction,
    objects,
    maxPoints: 1,
    stepBudget: 110,
    place(rng: Rng): Map<string, Placement> {
      const pts = sampleLayout(rng, r.distractor ? [objBox, conBox, DISTRACTOR] : [objBox, conBox], 0.1);
      const m = new Map<string, Placement>([
        ['target', { x: pts[0][0], y: pts[0][1], z: CUBE_HALF, yaw: rng.range(-Math.PI / 4, Math.PI / 4) }],
        ['container', { x: pts[1][0], y: pts[1][1], z: r.container === 'plate' ? PLATE.half : 0, yaw: 0 }],
      ]);
      if (r.distractor) m.set('distractor', { x: pts[2][0], y: pts[2][1], z: CUBE_HALF, yaw: rng.range(-Math.PI / 4, Math.PI / 4) });
      return m;
    },
    score: (w) => (inContainer(w, 'target', r.container) ? 1 : 0),
    target: () => 'target',
    plan: () => pickAndPlacePlan(0, 'target', (w): Vec3 => {
      const c = w.objectPose('container').p;
      const floor = c[2] + floorHeight(r.container) - (r.container === 'plate' ? PLATE.half : 0);
      return [c[0], c[1], floor + CUBE_HALF + (r.container === 'plate' ? 0.008 : 0.012)];
    }, { placed: (w) => inContainer(w, 'target', r.container) }),
  };
}

/** Draws `n` distinct recipes, seeded, so the family is the same on every machine. */
function drawRecipes(n: number, seed: number): Recipe[] {
  const rng = new Rng(seed);
  const containers: Container[] = ['plate', 'bowl', 'tray'];
  const out: Recipe[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < n; i++) {
    if (i > 100 * n) throw new Error('sim: the pretraining family has fewer distinct recipes than asked');
    const container = containers[out.length % containers.length];
    const colors = CONTAINER_COLORS[container];
    const r: Recipe = {
      shape: SHAPES[rng.int(SHAPES.length)], color: OBJECT_COLORS[rng.int(OBJECT_COLORS.length)], container,
      containerColor: colors[rng.int(colors.length)], template: rng.int(TEMPLATES[container].length),
      layout: Object.keys(LAYOUTS)[rng.int(Object.keys(LAYOUTS).length)], distractor: rng.int(3) === 0,
    };
    const key = `${r.shape}${r.color}${r.container}${r.containerColor}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** The family: 36 tasks (a third each onto plates, into bowls, into trays). */
export const PRETRAIN_TASKS: readonly TaskSpec[] = drawRecipes(36, 2602).map(pretrainTask);
