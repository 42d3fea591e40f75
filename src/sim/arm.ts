/**
 * Serial arms with a parallel gripper, described declaratively and generated as MJCF.
 *
 * Frames: every link frame is aligned with its parent at zero joint angles; a joint rotates its
 * link about `axis` (link frame). The hand's z axis is the approach direction; its fingers slide
 * along +-y. The `tcp` site sits between the fingertips and is rotated by pi about x, so that when
 * the gripper points straight down the TCP frame equals the world frame (EEF orientations of
 * top-down work stay far from the axis-angle discontinuity at pi).
 */
import { el, type Element, lookAtXyAxes, COLORS } from './mjcf.ts';

/** One revolute joint and the link it moves. */
export type ArmJoint = {
  /** link frame origin in the parent link frame (m) */
  pos: readonly [number, number, number];
  /** rotation axis in the link frame */
  axis: readonly [number, number, number];
  /** joint limits (rad) */
  range: readonly [number, number];
  /** position servo gain (N m / rad) and joint damping (N m s / rad) */
  kp: number;
  damping: number;
  /** capsule radius of the link drawn from the parent origin to this origin (m) */
  radius: number;
};

/** A serial arm with a parallel-jaw gripper. */
export type ArmSpec = {
  /** name prefix of every element ('' or e.g. 'left_') */
  prefix: string;
  /** base position on the table (m, world) and yaw about world z (rad) */
  basePos: readonly [number, number, number];
  baseYaw: number;
  joints: readonly ArmJoint[];
  /** hand origin in the last link frame (m) */
  handPos: readonly [number, number, number];
  /** TCP distance along the hand's z (m) */
  tcpOffset: number;
  /** travel of each finger (m): the jaw gap is 2x this when open */
  fingerTravel: number;
  /** finger half-extents (m) [x, y, z] */
  fingerSize: readonly [number, number, number];
  /** a joint posture near the working configuration (IK seed and rest posture) */
  home: readonly number[];
  /** link colour */
  color: readonly [number, number, number, number];
  /** name of a camera on the hand, if any */
  wristCamera?: string;
};

/** Names of the generated elements of an arm. */
export type ArmNames = { joints: string[]; actuators: string[]; fingers: [string, string]; fingerActuators: [string, string]; tcp: string; hand: string };

/** Element names of `arm` (joint i is `${prefix}joint${i + 1}`). */
export function armNames(arm: ArmSpec): ArmNames {
  const p = arm.prefix;
  return {
    joints: arm.joints.map((_, i) => `${p}joint${i + 1}`),
    actuators: arm.joints.map((_, i) => `${p}act${i + 1}`),
    fingers: [`${p}finger_l`, `${p}finger_r`],
    fingerActuators: [`${p}grip_l`, `${p}grip_r`],
    tcp: `${p}tcp`,
    hand: `${p}hand`,
  };
}

/** A closed gripper drives its fingers this far past touching (m), so thin objects are held firmly too. */
export const GRIP_SQUEEZE = 0.02;

const ARM_GEOM = { contype: 0, conaffinity: 0, group: 1 } as const; // links are visual only: no self-collision to tune
const GRIP_GEOM = { contype: 1, conaffinity: 1, condim: 4, friction: [1.5, 0.02, 0.001], solref: [0.01, 1] } as const;

function hand(arm: ArmSpec, n: ArmNames): Element {
  const [fx, fy, fz] = arm.fingerSize;
  const fingerZ = arm.tcpOffset - fz * 0.4; // finger pads centred a little behind the TCP
  const finger = (name: string, side: 1 | -1) =>
    el('body', { name, pos: [0, 0, fingerZ] }, [
      el('joint', { name, type: 'slide', axis: [0, side, 0], range: [0, arm.fingerTravel], damping: 2, armature: 0.01 }),
      el('geom', { type: 'box', size: [fx, fy, fz], pos: [0, side * fy, 0], rgba: COLORS.dark, mass: 0.02, ...GRIP_GEOM }),
    ]);
  const palmHalf = [0.02, arm.fingerTravel + arm.fingerSize[1] * 2 + 0.005, 0.015];
  const children: Element[] = [
    el('geom', { type: 'box', size: palmHalf, pos: [0, 0, palmHalf[2]], rgba: COLORS.grey, mass: 0.3, ...GRIP_GEOM }),
    el('site', { name: n.tcp, pos: [0, 0, arm.tcpOffset], quat: [0, 0, 1, 0], size: [0.005], rgba: [1, 0, 0, 0] }),
    finger(n.fingers[0], 1),
    finger(n.fingers[1], -1),
  ];
  if (arm.wristCamera) {
    const pos = [-0.075, 0, 0.02];
    children.push(el('camera', { name: arm.wristCamera, pos, xyaxes: lookAtXyAxes(pos, [0, 0, arm.tcpOffset + 0.06], [-1, 0, 0]), fovy: 75 }));
  }
  return el('body', { name: n.hand, pos: arm.handPos, gravcomp: 1 }, children);
}

/** The arm's body tree (to place in worldbody). */
export function armBody(arm: ArmSpec): Element {
  const n = armNames(arm);
  let inner = hand(arm, n);
  for (let i = arm.joints.length - 1; i >= 0; i--) {
    const j = arm.joints[i];
    const len = Math.hypot(...j.pos);
    const geoms: Element[] = [el('geom', { type: 'sphere', size: [j.radius * 1.1], rgba: arm.color, mass: 0.5, ...ARM_GEOM })];
    if (len > 1e-3) {
      geoms.push(el('geom', { type: 'capsule', fromto: [-j.pos[0], -j.pos[1], -j.pos[2], 0, 0, 0], size: [j.radius], rgba: arm.color, mass: 1, ...ARM_GEOM }));
    }
    inner = el('body', { name: `${arm.prefix}link${i + 1}`, pos: j.pos, gravcomp: 1 }, [
      el('joint', { name: n.joints[i], axis: j.axis, range: j.range, damping: j.damping, armature: 0.1 }),
      ...geoms,
      inner,
    ]);
  }
  const c = Math.cos(arm.baseYaw / 2);
  const s = Math.sin(arm.baseYaw / 2);
  return el('body', { name: `${arm.prefix}base`, pos: arm.basePos, quat: [c, 0, 0, s] }, [
    el('geom', { type: 'cylinder', size: [0.07, 0.02], pos: [0, 0, 0.02], rgba: COLORS.dark, ...ARM_GEOM }),
    inner,
  ]);
}

/** Position servos of the joints and fingers (to place in <actuator>). */
export function armActuators(arm: ArmSpec): Element[] {
  const n = armNames(arm);
  const joints = arm.joints.map((j, i) =>
    el('position', { name: n.actuators[i], joint: n.joints[i], kp: j.kp, ctrlrange: j.range, forcerange: [-j.kp, j.kp] }));
  const fingers = n.fingers.map((f, i) =>
    el('position', { name: n.fingerActuators[i], joint: f, kp: 300, ctrlrange: [-GRIP_SQUEEZE, arm.fingerTravel], forcerange: [-15, 15] }));
  return [...joints, ...fingers];
}
