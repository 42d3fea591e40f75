/**
 * The registered embodiments: the simulated robots of the benchmark (SPEC section 5). Their
 * kinematics live in sim/; here is only how their native vectors sit in the unified layout.
 */
import { UserError } from '../util/errors.ts';
import { unknownNameMessage } from '../util/suggest.ts';
import { defineEmbodiment, type Embodiment, type EmbodimentSpecInput } from './embodiment.ts';

const POSE = ['x', 'y', 'z', 'rx', 'ry', 'rz'];
const prefixed = (prefix: string, names: string[]) => names.map((n) => `${prefix}${n}`);
const joints = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}joint${i + 1}`);

const SPECS: EmbodimentSpecInput[] = [
  {
    name: 'panda7',
    description: '7-DoF arm with a parallel gripper, EEF pose control (the downstream target robot)',
    robotType: 'vlalab_panda7',
    fps: 10,
    cameras: [{ name: 'front' }, { name: 'wrist' }],
    state: [
      { slot: 'eef.right', names: prefixed('eef_', POSE), control: 'eef-pose' },
      { slot: 'joint.right', names: joints('', 7), control: 'joint-position' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
    action: [
      { slot: 'eef.right', names: prefixed('target_', POSE), control: 'eef-pose' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
  },
  {
    name: 'ur6',
    description: '6-DoF arm with other kinematics and base placement, EEF pose control',
    robotType: 'vlalab_ur6',
    fps: 10,
    cameras: [{ name: 'front' }, { name: 'side' }],
    state: [
      { slot: 'eef.right', names: prefixed('eef_', POSE), control: 'eef-pose' },
      { slot: 'joint.right', names: joints('', 6), control: 'joint-position' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
    action: [
      { slot: 'eef.right', names: prefixed('target_', POSE), control: 'eef-pose' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
  },
  {
    name: 'widowx6',
    description: 'smaller 6-DoF arm, other scale and cameras, EEF pose control',
    robotType: 'vlalab_widowx6',
    fps: 5,
    cameras: [{ name: 'over_shoulder' }],
    state: [
      { slot: 'eef.right', names: prefixed('eef_', POSE), control: 'eef-pose' },
      { slot: 'joint.right', names: joints('', 6), control: 'joint-position' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
    action: [
      { slot: 'eef.right', names: prefixed('target_', POSE), control: 'eef-pose' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
  },
  {
    name: 'bimanual6',
    description: 'two 6-DoF arms with grippers, absolute joint control',
    robotType: 'vlalab_bimanual6',
    fps: 10,
    cameras: [{ name: 'top' }, { name: 'wrist_left' }, { name: 'wrist_right' }],
    state: [
      { slot: 'joint.right', names: joints('right_', 6), control: 'joint-position' },
      { slot: 'joint.left', names: joints('left_', 6), control: 'joint-position' },
      { slot: 'gripper.right', names: ['right_gripper'], control: 'gripper-position' },
      { slot: 'gripper.left', names: ['left_gripper'], control: 'gripper-position' },
    ],
    action: [
      { slot: 'joint.right', names: joints('right_', 6), control: 'joint-position' },
      { slot: 'joint.left', names: joints('left_', 6), control: 'joint-position' },
      { slot: 'gripper.right', names: ['right_gripper'], control: 'gripper-position' },
      { slot: 'gripper.left', names: ['left_gripper'], control: 'gripper-position' },
    ],
  },
  {
    name: 'so5',
    description: '5-DoF low-cost arm with a gripper, absolute joint control',
    robotType: 'vlalab_so5',
    fps: 10,
    cameras: [{ name: 'front' }, { name: 'wrist' }],
    state: [
      { slot: 'joint.right', names: joints('', 5), control: 'joint-position' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
    action: [
      { slot: 'joint.right', names: joints('', 5), control: 'joint-position' },
      { slot: 'gripper.right', names: ['gripper'], control: 'gripper-position' },
    ],
  },
  {
    name: 'dex',
    description: 'arm with a 12-joint multi-finger hand, EEF pose control of the wrist',
    robotType: 'vlalab_dex',
    fps: 10,
    cameras: [{ name: 'front' }, { name: 'wrist' }],
    state: [
      { slot: 'eef.right', names: prefixed('eef_', POSE), control: 'eef-pose' },
      { slot: 'joint.right', names: joints('', 7), control: 'joint-position' },
      { slot: 'hand.right', names: joints('finger_', 12), control: 'hand-position' },
    ],
    action: [
      { slot: 'eef.right', names: prefixed('target_', POSE), control: 'eef-pose' },
      { slot: 'hand.right', names: joints('finger_', 12), control: 'hand-position' },
    ],
  },
];

const REGISTRY: ReadonlyMap<string, Embodiment> = new Map(
  SPECS.map((s) => [s.name, defineEmbodiment(s, 'registered embodiment')]),
);

/** Names of the registered embodiments. */
export function embodimentNames(): string[] {
  return [...REGISTRY.keys()];
}

/** The registered embodiment `name`; unknown names get a "did you mean". */
export function getEmbodiment(name: string): Embodiment {
  const e = REGISTRY.get(name);
  if (!e) throw new UserError(unknownNameMessage('embodiment', name, embodimentNames()));
  return e;
}

/** The registered embodiment whose LeRobot robot_type is `robotType`, if any. */
export function embodimentForRobotType(robotType: string): Embodiment | undefined {
  for (const e of REGISTRY.values()) if (e.spec.robotType === robotType) return e;
  return undefined;
}
