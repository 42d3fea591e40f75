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
  wristCamera: 'wrist',
};

/** A UR5-like 6-DoF arm: long upper arm and forearm, three wrist joints. */
const UR_ARM: ArmSpec = {
  prefix: '',
  basePos: [-0.5, -0.25, 0],
  baseYaw: 0.35,
  joints: [
    j([0, 0, 0.09], Z, [-3.1, 3.1], 800, 0.055),
    j([0, 0, 0], Y, [-2.0, 2.0], 800, 0.055),
    j([0, 0, 0.425], Y, [0.05, 3.0], 600, 0.045),
    j([0, 0, 0.392], Y, [-1.0, 3.5], 300, 0.04),
    j([0, 0, 0.095], Z, [-3.1, 3.1], 200, 0.04),
    j([0, 0, 0.082], Y, [-2.0, 2.0], 150, 0.035),
  ],
  handPos: [0, 0, 0.05],
  tcpOffset: 0.105,
  fingerTravel: 0.04,
  fingerSize: [0.012, 0.006, 0.022],
  home: [0, 0.3, 1.9, 0.95, 0, 0],
  color: [0.55, 0.65, 0.75, 1],
};

/** A WidowX-like smaller 6-DoF arm with a spherical wrist (forearm roll, pitch, roll). */
const WIDOWX_ARM: ArmSpec = {
  prefix: '',
  basePos: [-0.42, 0, 0],
  baseYaw: 0,
  joints: [
    j([0, 0, 0.11], Z, [-3.1, 3.1], 300, 0.04),
    j([0, 0, 0], Y, [-1.8, 1.9], 300, 0.04),
    j([0.05, 0, 0.25], Y, [0.05, 3.0], 250, 0.035),
    j([0, 0, 0.1], Z, [-3.1, 3.1], 120, 0.03),
    j([0, 0, 0.15], Y, [-2.0, 2.2], 100, 0.03),
    j([0, 0, 0.07], Z, [-3.1, 3.1], 60, 0.025),
  ],
  handPos: [0, 0, 0.03],
  tcpOffset: 0.1,
  fingerTravel: 0.035,
  fingerSize: [0.01, 0.005, 0.02],
  home: [0, 0.2, 1.9, 0, 1.0, 0],
  color: [0.2, 0.2, 0.25, 1],
};

/** An SO-100-like 5-DoF arm: base yaw, three pitch joints, wrist roll (enough for top-down grasps). */
const SO_ARM: ArmSpec = {
  prefix: '',
  basePos: [-0.38, 0, 0],
  baseYaw: 0,
  joints: [
    j([0, 0, 0.1], Z, [-3.0, 3.0], 250, 0.035),
    j([0, 0, 0.02], Y, [-1.9, 1.9], 250, 0.035),
    j([0.03, 0, 0.27], Y, [0.05, 3.1], 200, 0.03),
    j([0, 0, 0.27], Y, [-1.5, 3.2], 120, 0.028),
    j([0, 0, 0.05], Z, [-3.0, 3.0], 60, 0.025),
  ],
  handPos: [0, 0, 0.02],
  tcpOffset: 0.1,
  fingerTravel: 0.035,
  fingerSize: [0.01, 0.005, 0.02],
  home: [0, 0.3, 1.8, 1.0, 0],
  color: [0.95, 0.85, 0.3, 1],
  wristCamera: 'wrist',
};

/** One arm of the bimanual station (6-DoF, the UR geometry scaled by 0.8). */
const bimanualArm = (side: 'right' | 'left', y: number): ArmSpec => ({
  ...UR_ARM,
  joints: UR_ARM.joints.map((jt) => ({ ...jt, pos: [0.8 * jt.pos[0], 0.8 * jt.pos[1], 0.8 * jt.pos[2]] as const, radius: 0.8 * jt.radius })),
  prefix: `${side}_`,
  basePos: [-0.35, y, 0],
  baseYaw: 0,
  wristCamera: `wrist_${side}`,
  color: [0.3, 0.3, 0.35, 1],
});

const ROBOTS: Readonly<Record<string, RobotSpec>> = Object.freeze({
  panda7: {
    embodiment: 'panda7',
    arms: [PANDA_ARM],
    control: 'eef',
    cameras: [{ name: 'front', pos: [0.38, 0, 0.42], target: [-0.04, 0, 0], fovy: 55 }],
  },
  ur6: {
    embodiment: 'ur6',
    arms: [UR_ARM],
    control: 'eef',
    cameras: [
      { name: 'front', pos: [0.4, 0.3, 0.5], target: [-0.05, 0, 0], fovy: 55 },
      { name: 'side', pos: [-0.05, 0.6, 0.45], target: [-0.05, -0.02, 0], fovy: 55 },
    ],
  },
  widowx6: {
    embodiment: 'widowx6',
    arms: [WIDOWX_ARM],
    control: 'eef',
    cameras: [{ name: 'over_shoulder', pos: [-0.6, 0.2, 0.55], target: [0, 0, 0], fovy: 50 }],
  },
  bimanual6: {
    embodiment: 'bimanual6',
    arms: [bimanualArm('right', -0.25), bimanualArm('left', 0.25)],
    control: 'joint',
    cameras: [{ name: 'top', pos: [0.1, 0, 0.8], target: [-0.05, 0, 0], fovy: 60 }],
  },
  so5: {
    embodiment: 'so5',
    arms: [SO_ARM],
    control: 'joint',
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
