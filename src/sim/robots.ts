/**
 * The simulated robots of the benchmark (SPEC section 5), written for this project. Each names the
 * embodiment spec of the actions layer it implements, its arms, its fixed cameras, and how its
 * native action is applied (EEF pose through IK, or absolute joints).
 *
 * The table top is the plane z = 0; the workspace is roughly x in [-0.2, 0.2], y in [-0.3, 0.3].
 */
import { UserError, unknownNameMessage } from '../util/index.ts';
import type { ArmJoint, ArmSpec } from './arm.ts';

/** A fixed scene camera. */
export type FixedCamera = { name: string; pos: readonly [number, number, number]; target: readonly [number, number, number]; fovy: number };

/** A simulated robot. */
export type RobotSpec = {
  /** the embodiment name in the actions registry */
  embodiment: string;
  /** one arm, or [right, left] */
  arms: readonly ArmSpec[];
  /** 'eef': actions are absolute TCP poses solved by IK; 'joint': absolute joint targets */
  control: 'eef' | 'joint';
  cameras: readonly FixedCamera[];
};

const j = (pos: ArmJoint['pos'], axis: ArmJoint['axis'], range: ArmJoint['range'], kp: number, radius: number): ArmJoint =>
  ({ pos, axis, range, kp, damping: kp / 10, radius });
const Z = [0, 0, 1] as const;
const Y = [0, 1, 0] as const;

/** A Panda-like 7-DoF arm (shoulder 0.333 m, upper arm 0.316 m, forearm 0.384 m). */
const PANDA_ARM: ArmSpec = {
  prefix: '',
  basePos: [-0.45, 0, 0],
  baseYaw: 0,
  joints: [
    j([0, 0, 0.333], Z, [-2.9, 2.9], 800, 0.06),
    j([0, 0, 0], Y, [-1.76, 1.76], 800, 0.06),
    j([0, 0, 0.316], Z, [-2.9, 2.9], 600, 0.05),
    j([0.0825, 0, 0], Y, [0.07, 3.0], 600, 0.05),
    j([-0.0825, 0, 0.384], Z, [-2.9, 2.9], 300, 0.045),
    j([0, 0, 0], Y, [-1.0, 3.75], 300, 0.045),
    j([0.088, 0, 0], Z, [-2.9, 2.9], 150, 0.04),
  ],
  handPos: [0, 0, 0.06],
  tcpOffset: 0.105,
  fingerTravel: 0.04,
  fingerSize: [0.012, 0.006, 0.022],
  home: [0, 0.1, 0, 2.0, 0, 1.0, 0],
  color: [0.93, 0.93, 0.95, 1],
  wristCamera: true,
};

const ROBOTS: Readonly<Record<string, RobotSpec>> = Object.freeze({
  panda7: {
    embodiment: 'panda7',
    arms: [PANDA_ARM],
    control: 'eef',
    cameras: [{ name: 'front', pos: [0.38, 0, 0.42], target: [-0.04, 0, 0], fovy: 55 }],
  },
});

/** Names of the simulated robots. */
export function robotNames(): string[] {
  return Object.keys(ROBOTS);
}

/** The robot `name`; unknown names get a "did you mean". */
export function getRobot(name: string): RobotSpec {
  const r = ROBOTS[name];
  if (!r) throw new UserError(unknownNameMessage('robot', name, robotNames()));
  return r;
}
