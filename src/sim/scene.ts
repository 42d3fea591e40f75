/**
 * Scene generation: a table (top at z = 0), the task's objects on free joints, the robot and its
 * cameras, as one MJCF string. Grasp-friendly contact settings (SPEC section 0): elliptic cones,
 * impratio 10, condim 4 and friction 1.5 on fingers and objects.
 */
import { armActuators, armBody } from './arm.ts';
import { type AttrValue, COLORS, el, type Element, lookAtXyAxes, type Rgba, toXml } from './mjcf.ts';
import type { RobotSpec } from './robots.ts';

/** Object kinds the scene builder knows. */
export type ObjectKind = 'cube' | 'plate' | 'bowl' | 'cabinet' | 'board' | 'patch' | 'can' | 'pot' | 'cylinder' | 'tray';

/**
 * An object of a task: a free body named `name`. `size` scales bowls (their outer radius, m;
 * default BOWL.radius); `tab` gives a bowl a grip tab standing on its rim at -x (BOWL.tab). A
 * cabinet's drawer slides on the joint `${name}_drawer`.
 */
export type SceneObject = { name: string; kind: ObjectKind; color: string; size?: number; tab?: boolean };

/** Physics step (s) and control period (s): 10 Hz control. */
export const PHYSICS_DT = 0.004;
export const CONTROL_DT = 0.1;

/** Half extent of a cube (m). */
export const CUBE_HALF = 0.02;
/** Plate radius and half thickness (m). */
export const PLATE = { radius: 0.07, half: 0.006 } as const;
/** Bowl outer radius, wall height and thickness (m). */
export const BOWL = { radius: 0.06, height: 0.045, wall: 0.006, tab: [0.006, 0.012, 0.012] } as const;
/**
 * A cabinet (body frame on the table at its footprint's centre) whose drawer opens towards -x:
 * outer half extents, the drawer's inner half extents and floor height, its travel, and the knob
 * (a box sticking out of the drawer front) the gripper pulls and pushes. x positions are in the
 * cabinet's frame with the drawer closed (drawerX: the drawer's centre, its front flush with the carcass).
 */
export const CABINET = {
  half: [0.09, 0.1, 0.045], drawerX: -0.015, drawerInner: [0.065, 0.075], drawerFloor: 0.022, drawerWall: 0.06, travel: 0.13,
  knob: { x: -0.11, z: 0.042, half: [0.02, 0.012, 0.012] },
} as const;
/** A whiteboard to wipe (half extents; body frame on the table) and the dirt patches on it. */
export const BOARD = { half: [0.075, 0.1, 0.006] } as const;
export const PATCH = { half: [0.015, 0.015, 0.005] } as const;
/** A watering can (body half extents, spout from the top of its +x face) and a potted plant. */
export const CAN = { half: [0.02, 0.02, 0.035], spout: [0.02, 0, 0.055, 0.065, 0, 0.075], spoutRadius: 0.006 } as const;
export const POT = { radius: 0.04, half: 0.025, leaves: 0.035 } as const;
/** An upright cylinder as tall as a cube (radius, half height; m): the pretraining family's second shape. */
export const CYLINDER = { radius: 0.018, half: CUBE_HALF } as const;
/** A square tray (body frame on the table): base half side and thickness, wall height and thickness (m). */
export const TRAY = { half: 0.065, base: 0.006, wall: 0.025, thickness: 0.006 } as const;

const OBJ_GEOM = { condim: 4, friction: [1.5, 0.02, 0.001], solref: [0.01, 1] } as const;

function rgba(color: string): Rgba {
  const c = COLORS[color];
  if (!c) throw new Error(`sim: unknown colour "${color}"`);
  return c;
}

function bowlGeoms(o: SceneObject): Element[] {
  // a disc and a ring of 12 wall boxes standing on it (only the disc touches the table: twelve
  // box-on-table contacts per bowl made a three-bowl scene 7x slower to step); smaller bowls are lighter
  const r = o.size ?? BOWL.radius;
  const { height: h, wall: w } = BOWL;
  const n = 12;
  const halfLen = r * Math.tan(Math.PI / n) + w / 2;
  const parts = [el('geom', { type: 'cylinder', size: [r, w / 2], pos: [0, 0, w / 2], rgba: rgba(o.color), mass: 0.08 * (r / BOWL.radius) ** 2, ...OBJ_GEOM })];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    parts.push(el('geom', {
      type: 'box', size: [w / 2, halfLen, (h - w) / 2], pos: [(r - w / 2) * Math.cos(a), (r - w / 2) * Math.sin(a), (h + w) / 2],
      quat: [Math.cos(a / 2), 0, 0, Math.sin(a / 2)], rgba: rgba(o.color), mass: 0.01 * (r / BOWL.radius), ...OBJ_GEOM,
    }));
  }
  // the tab is as wide as the fingers are apart when closed on a cube's half: thin walls would slip through
  if (o.tab) parts.push(box([-(r - w / 2), 0, h + BOWL.tab[2]], BOWL.tab, o.color, { mass: 0.005 }));
  return parts;
}

/** A box geom from its centre and half extents. */
const box = (pos: readonly number[], size: readonly number[], color: string, extra: Record<string, AttrValue> = {}): Element =>
  el('geom', { type: 'box', pos, size, rgba: rgba(color), ...OBJ_GEOM, ...extra });

function cabinetGeoms(o: SceneObject): Element[] {
  // a heavy open-fronted carcass, and the drawer on a damped slide joint (0 closed .. travel open)
  const [hx, hy, hz] = CABINET.half;
  const t = 0.005;
  const [ix, iy] = CABINET.drawerInner;
  const f = CABINET.drawerFloor;
  const top = CABINET.drawerWall;
  const k = CABINET.knob;
  const drawer = el('body', { name: `${o.name}_drawer_body`, pos: [CABINET.drawerX, 0, 0] }, [
    el('joint', { name: `${o.name}_drawer`, type: 'slide', axis: [-1, 0, 0], range: [0, CABINET.travel], damping: 8, frictionloss: 0.3, armature: 0.05 }),
    box([0, 0, f - t], [ix + t, iy + t, t], 'wood', { mass: 0.2 }),
    box([-ix - t, 0, (f + top) / 2], [t, iy + t, (top - f) / 2 + t], 'wood', { mass: 0.05 }),
    box([ix + t, 0, (f + top) / 2], [t, iy + t, (top - f) / 2], 'wood', { mass: 0.05 }),
    box([0, iy + t, (f + top) / 2], [ix, t, (top - f) / 2], 'wood', { mass: 0.05 }),
    box([0, -iy - t, (f + top) / 2], [ix, t, (top - f) / 2], 'wood', { mass: 0.05 }),
    box([k.x - CABINET.drawerX, 0, k.z], k.half, 'dark', { mass: 0.02 }),
  ]);
  return [
    box([0, 0, t], [hx, hy, t], o.color, { mass: 6 }),
    box([0, 0, 2 * hz - t], [hx, hy, t], o.color, { mass: 0.5 }),
    box([hx - t, 0, hz], [t, hy, hz], o.color, { mass: 0.5 }),
    box([0, hy - t, hz], [hx, t, hz], o.color, { mass: 0.5 }),
    box([0, -hy + t, hz], [hx, t, hz], o.color, { mass: 0.5 }),
    drawer,
  ];
}

function trayGeoms(o: SceneObject): Element[] {
  // a base plate and four low walls; light enough to move a little, heavy enough not to tip
  const { half: h, base: b, wall, thickness: t } = TRAY;
  const z = b + wall / 2;
  return [
    box([0, 0, b / 2], [h, h, b / 2], o.color, { mass: 0.25 }),
    box([h - t / 2, 0, z], [t / 2, h, wall / 2], o.color, { mass: 0.03 }),
    box([-h + t / 2, 0, z], [t / 2, h, wall / 2], o.color, { mass: 0.03 }),
    box([0, h - t / 2, z], [h - t, t / 2, wall / 2], o.color, { mass: 0.03 }),
    box([0, -h + t / 2, z], [h - t, t / 2, wall / 2], o.color, { mass: 0.03 }),
  ];
}

function objectGeoms(o: SceneObject): Element[] {
  switch (o.kind) {
    case 'cube': return [box([0, 0, 0], [CUBE_HALF, CUBE_HALF, CUBE_HALF], o.color, { mass: 0.05 })];
    case 'plate': return [el('geom', { type: 'cylinder', size: [PLATE.radius, PLATE.half], rgba: rgba(o.color), mass: 0.3, ...OBJ_GEOM })];
    case 'bowl': return bowlGeoms(o);
    case 'cabinet': return cabinetGeoms(o);
    case 'board': return [box([0, 0, BOARD.half[2]], BOARD.half, o.color, { mass: 3 })];
    // dirt: light, slippery, flat, so a push slides it off the board
    case 'patch': return [box([0, 0, 0], PATCH.half, o.color, { mass: 0.01, condim: 3, friction: [0.3, 0.005, 0.0001] })];
    case 'can': return [
      box([0, 0, 0], CAN.half, o.color, { mass: 0.08 }),
      el('geom', { type: 'capsule', fromto: CAN.spout.map((v, i) => (i % 3 === 2 ? v - CAN.half[2] : v)), size: [CAN.spoutRadius], rgba: rgba(o.color), mass: 0.01, ...OBJ_GEOM }),
    ];
    case 'cylinder': return [el('geom', { type: 'cylinder', size: [CYLINDER.radius, CYLINDER.half], rgba: rgba(o.color), mass: 0.04, ...OBJ_GEOM })];
    case 'tray': return trayGeoms(o);
    case 'pot': return [
      el('geom', { type: 'cylinder', size: [POT.radius, POT.half], pos: [0, 0, POT.half], rgba: rgba(o.color), mass: 1.5, ...OBJ_GEOM }),
      el('geom', { type: 'sphere', size: [POT.leaves], pos: [0, 0, 2 * POT.half + POT.leaves * 0.6], rgba: rgba('green'), mass: 0.05, ...OBJ_GEOM }),
    ];
  }
}

function objectBody(o: SceneObject): Element {
  return el('body', { name: o.name, pos: [0, 0, 0.1] }, [el('freejoint', { name: `${o.name}_joint` }), ...objectGeoms(o)]);
}

/**
 * Appearance domains of the room (physics is the same in all): `default`, and `alt`, a visually
 * different "sim" domain (dark blue-grey table, sand floor, red-brown wall) for mixtures that mix
 * domains (corpus D3).
 */
export const DOMAINS = Object.freeze({
  default: { floor: [0.35, 0.37, 0.4, 1], table: COLORS.wood, wall: [0.8, 0.82, 0.85, 1] },
  alt: { floor: [0.78, 0.72, 0.55, 1], table: [0.22, 0.27, 0.35, 1], wall: [0.45, 0.2, 0.15, 1] },
} satisfies Record<string, { floor: Rgba; table: Rgba; wall: Rgba }>);

/** An appearance domain's name. */
export type Domain = keyof typeof DOMAINS;

/** The MJCF of `robot` at a table with `objects`, in appearance `domain`. */
export function sceneXml(robot: RobotSpec, objects: readonly SceneObject[], domain: Domain = 'default'): string {
  const look = DOMAINS[domain];
  const world: Element[] = [
    el('geom', { name: 'floor', type: 'plane', size: [3, 3, 0.1], pos: [0, 0, -0.75], rgba: look.floor, contype: 0, conaffinity: 0 }),
    el('geom', { name: 'table', type: 'box', size: [0.75, 0.6, 0.025], pos: [-0.2, 0, -0.025], rgba: look.table, condim: 3, friction: [1, 0.02, 0.001] }),
    el('geom', { name: 'wall', type: 'box', size: [0.02, 1.5, 0.8], pos: [-1.2, 0, 0.05], rgba: look.wall, contype: 0, conaffinity: 0 }),
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
