/**
 * Scene generation: a table (top at z = 0), the task's objects on free joints, the robot and its
 * cameras, as one MJCF string. Grasp-friendly contact settings (SPEC section 0): elliptic cones,
 * impratio 10, condim 4 and friction 1.5 on fingers and objects.
 */
import { armActuators, armBody } from './arm.ts';
import { COLORS, el, type Element, lookAtXyAxes, type Rgba, toXml } from './mjcf.ts';
import type { RobotSpec } from './robots.ts';

/** Object kinds the scene builder knows. */
export type ObjectKind = 'cube' | 'plate' | 'bowl';

/** An object of a task: a free body named `name`. */
export type SceneObject = { name: string; kind: ObjectKind; color: string };

/** Physics step (s) and control period (s): 10 Hz control. */
export const PHYSICS_DT = 0.004;
export const CONTROL_DT = 0.1;

/** Half extent of a cube (m). */
export const CUBE_HALF = 0.02;
/** Plate radius and half thickness (m). */
export const PLATE = { radius: 0.07, half: 0.006 } as const;
/** Bowl outer radius, wall height and thickness (m). */
export const BOWL = { radius: 0.06, height: 0.045, wall: 0.006 } as const;

const OBJ_GEOM = { condim: 4, friction: [1.5, 0.02, 0.001], solref: [0.01, 1] } as const;

function rgba(color: string): Rgba {
  const c = COLORS[color];
  if (!c) throw new Error(`sim: unknown colour "${color}"`);
  return c;
}

function objectBody(o: SceneObject): Element {
  const joint = el('freejoint', { name: `${o.name}_joint` });
  const parts: Element[] = [];
  if (o.kind === 'cube') {
    parts.push(el('geom', { type: 'box', size: [CUBE_HALF, CUBE_HALF, CUBE_HALF], rgba: rgba(o.color), mass: 0.05, ...OBJ_GEOM }));
  } else if (o.kind === 'plate') {
    parts.push(el('geom', { type: 'cylinder', size: [PLATE.radius, PLATE.half], rgba: rgba(o.color), mass: 0.3, ...OBJ_GEOM }));
  } else {
    // a bowl: a disc and a ring of 12 wall boxes
    const { radius: r, height: h, wall: w } = BOWL;
    parts.push(el('geom', { type: 'cylinder', size: [r, w / 2], pos: [0, 0, w / 2], rgba: rgba(o.color), mass: 0.08, ...OBJ_GEOM }));
    const n = 12;
    const halfLen = r * Math.tan(Math.PI / n) + w / 2;
    for (let i = 0; i < n; i++) {
      const a = (2 * Math.PI * i) / n;
      parts.push(el('geom', {
        type: 'box', size: [w / 2, halfLen, h / 2], pos: [(r - w / 2) * Math.cos(a), (r - w / 2) * Math.sin(a), h / 2],
        quat: [Math.cos(a / 2), 0, 0, Math.sin(a / 2)], rgba: rgba(o.color), mass: 0.01, ...OBJ_GEOM,
      }));
    }
  }
  return el('body', { name: o.name, pos: [0, 0, 0.1] }, [joint, ...parts]);
}

/** The MJCF of `robot` at a table with `objects`. */
export function sceneXml(robot: RobotSpec, objects: readonly SceneObject[]): string {
  const world: Element[] = [
    el('geom', { name: 'floor', type: 'plane', size: [3, 3, 0.1], pos: [0, 0, -0.75], rgba: [0.35, 0.37, 0.4, 1], contype: 0, conaffinity: 0 }),
    el('geom', { name: 'table', type: 'box', size: [0.75, 0.6, 0.025], pos: [-0.2, 0, -0.025], rgba: COLORS.wood, condim: 3, friction: [1, 0.02, 0.001] }),
    el('geom', { name: 'wall', type: 'box', size: [0.02, 1.5, 0.8], pos: [-1.2, 0, 0.05], rgba: [0.8, 0.82, 0.85, 1], contype: 0, conaffinity: 0 }),
    ...robot.cameras.map((c) => el('camera', { name: c.name, pos: c.pos, xyaxes: lookAtXyAxes(c.pos, c.target), fovy: c.fovy })),
    ...robot.arms.map(armBody),
    ...objects.map(objectBody),
  ];
  const root = el('mujoco', { model: `vlalab_${robot.embodiment}` }, [
    el('compiler', { angle: 'radian', autolimits: 'true' }),
    el('option', { timestep: PHYSICS_DT, integrator: 'implicitfast', cone: 'elliptic', impratio: 10 }),
    el('worldbody', {}, world),
    el('actuator', {}, robot.arms.flatMap(armActuators)),
  ]);
  return toXml(root) + '\n';
}
