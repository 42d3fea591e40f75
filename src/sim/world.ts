/**
 * A running scene: the compiled model, its MjData, the arms' IK, and the read-outs tasks and
 * experts use (object and TCP poses, gripper openings). Applying a native action and advancing
 * one control period lives here too.
 *
 * Determinism: the state is reset with mj_resetData and rebuilt by the same sequence of calls, so
 * the same seed and the same actions give bitwise-identical states.
 */
import { getEmbodiment, type Embodiment } from '../actions/index.ts';
import { matFromQuat, type Pose, poseFromPosAxisAngle, posAxisAngleFromPose } from '../geometry/index.ts';
import { armNames, GRIP_SQUEEZE } from './arm.ts';
import { ArmIk, sitePose } from './ik.ts';
import { type MjData, type MjModel, type Mujoco, objectId } from './mujoco.ts';
import type { RobotSpec } from './robots.ts';
import { CONTROL_DT, type Domain, PHYSICS_DT, type SceneObject, sceneXml } from './scene.ts';

/** Suffixes of the native EEF pose names (target_x .. target_rz, eef_x .. eef_rz). */
const POSE_KEYS = ['x', 'y', 'z', 'rx', 'ry', 'rz'] as const;

type ArmHandles = {
  ik: ArmIk;
  tcp: number;
  qadr: number[];
  act: number[];
  fingerQadr: [number, number];
  fingerAct: [number, number];
  travel: number;
  /** joint targets last sent to the servos */
  target: Float64Array;
};

/** An object's free-joint qpos address, keyed by name. */
type ObjectHandles = Map<string, { qadr: number; body: number }>;

/** The simulation of one robot with one set of objects. Call `dispose()` to free wasm memory. */
export class World {
  readonly mj: Mujoco;
  readonly model: MjModel;
  readonly data: MjData;
  readonly robot: RobotSpec;
  readonly embodiment: Embodiment;
  private readonly arms: ArmHandles[];
  private readonly objects: ObjectHandles;
  private readonly substeps: number;

  constructor(mj: Mujoco, robot: RobotSpec, objects: readonly SceneObject[], domain: Domain = 'default') {
    this.mj = mj;
    this.robot = robot;
    this.embodiment = getEmbodiment(robot.embodiment);
    this.model = mj.MjModel.from_xml_string(sceneXml(robot, objects, domain));
    this.data = new mj.MjData(this.model);
    // views into wasm memory detach when it grows (every new MjData): read them afresh
    const jq = (name: string) => (this.model.jnt_qposadr as Int32Array)[objectId(mj, this.model, 'joint', name)];
    this.arms = robot.arms.map((arm) => {
      const n = armNames(arm);
      return {
        ik: new ArmIk(mj, this.model, arm),
        tcp: objectId(mj, this.model, 'site', n.tcp),
        qadr: n.joints.map(jq),
        act: n.actuators.map((a) => objectId(mj, this.model, 'actuator', a)),
        fingerQadr: [jq(n.fingers[0]), jq(n.fingers[1])],
        fingerAct: [objectId(mj, this.model, 'actuator', n.fingerActuators[0]), objectId(mj, this.model, 'actuator', n.fingerActuators[1])],
        travel: arm.fingerTravel,
        target: Float64Array.from(arm.home),
      };
    });
    this.objects = new Map(objects.map((o) => [o.name, { qadr: jq(`${o.name}_joint`), body: objectId(mj, this.model, 'body', o.name) }]));
    this.substeps = Math.round(CONTROL_DT / PHYSICS_DT);
  }

  /** Names of the scene's objects. */
  get objectNames(): string[] {
    return [...this.objects.keys()];
  }

  /** Number of arms. */
  get armCount(): number {
    return this.arms.length;
  }

  /**
   * Resets to the given arm joint postures and object placements (position + yaw about z), then
   * lets the objects settle for `settle` physics steps.
   */
  reset(armQ: readonly (readonly number[])[], placements: ReadonlyMap<string, { x: number; y: number; z: number; yaw: number }>, settle = 25): void {
    this.mj.mj_resetData(this.model, this.data);
    const qpos = this.data.qpos as Float64Array;
    this.arms.forEach((a, i) => {
      a.qadr.forEach((adr, k) => { qpos[adr] = armQ[i][k]; });
      a.target = Float64Array.from(armQ[i]);
      qpos[a.fingerQadr[0]] = a.travel;
      qpos[a.fingerQadr[1]] = a.travel;
    });
    for (const [name, p] of placements) {
      const h = this.objects.get(name);
      if (!h) throw new Error(`sim: no object "${name}" in the scene`);
      qpos.set([p.x, p.y, p.z, Math.cos(p.yaw / 2), 0, 0, Math.sin(p.yaw / 2)], h.qadr);
    }
    this.arms.forEach((_, i) => this.setGripper(i, 1));
    this.sendTargets();
    this.mj.mj_forward(this.model, this.data);
    for (let s = 0; s < settle; s++) this.mj.mj_step(this.model, this.data);
  }

  /** Position of the scalar joint `name` (a slide's m or a hinge's rad), e.g. a drawer's. */
  jointPosition(name: string): number {
    const id = objectId(this.mj, this.model, 'joint', name);
    return (this.data.qpos as Float64Array)[(this.model.jnt_qposadr as Int32Array)[id]];
  }

  /** Current joint angles of arm `i` (rad). */
  jointAngles(i: number): Float64Array {
    const qpos = this.data.qpos as Float64Array;
    return Float64Array.from(this.arms[i].qadr, (adr) => qpos[adr]);
  }

  /** Joint targets last sent to arm `i`'s servos (rad). */
  jointTargets(i: number): Float64Array {
    return Float64Array.from(this.arms[i].target);
  }

  /** Gripper opening of arm `i`: 0 closed .. 1 fully open (mean of the two fingers). */
  gripperOpening(i: number): number {
    const qpos = this.data.qpos as Float64Array;
    const a = this.arms[i];
    return (qpos[a.fingerQadr[0]] + qpos[a.fingerQadr[1]]) / (2 * a.travel);
  }

  /** World pose of arm `i`'s TCP. */
  tcpPose(i: number): Pose {
    return sitePose(this.data, this.arms[i].tcp);
  }

  /** TCP pose of arm `i` at joint angles `q` (no effect on the simulation). */
  forwardKinematics(i: number, q: ArrayLike<number>): Pose {
    return this.arms[i].ik.forward(q);
  }

  /** Joint angles reaching `target` with arm `i`, seeded at its current targets. */
  inverseKinematics(i: number, target: Pose, seed?: ArrayLike<number>): Float64Array {
    return this.arms[i].ik.solve(target, seed ?? this.arms[i].target).q;
  }

  /** World pose of object `name` (its body frame). */
  objectPose(name: string): Pose {
    const h = this.objects.get(name);
    if (!h) throw new Error(`sim: no object "${name}" in the scene`);
    const q = this.data.qpos as Float64Array;
    const a = h.qadr;
    return { p: [q[a], q[a + 1], q[a + 2]], r: matFromQuat([q[a + 3], q[a + 4], q[a + 5], q[a + 6]]) };
  }

  /** Sets arm `i`'s joint targets (clamped by the actuators' ctrlrange). */
  setJointTargets(i: number, q: ArrayLike<number>): void {
    this.arms[i].target = Float64Array.from(q);
  }

  /** Sets arm `i`'s gripper command: 0 closed .. 1 open (clamped). */
  setGripper(i: number, g: number): void {
    const a = this.arms[i];
    const ctrl = this.data.ctrl as Float64Array;
    const v = -GRIP_SQUEEZE + Math.min(1, Math.max(0, g)) * (a.travel + GRIP_SQUEEZE); // 0 squeezes, 1 opens fully
    ctrl[a.fingerAct[0]] = v;
    ctrl[a.fingerAct[1]] = v;
  }

  private sendTargets(): void {
    const ctrl = this.data.ctrl as Float64Array;
    for (const a of this.arms) a.act.forEach((id, k) => { ctrl[id] = a.target[k]; });
  }

  /** Advances one control period (CONTROL_DT) with the current targets. */
  advance(): void {
    this.sendTargets();
    for (let s = 0; s < this.substeps; s++) this.mj.mj_step(this.model, this.data);
  }

  /**
   * The native action that commands TCP poses `poses` and grippers `grippers` per arm (the inverse
   * of applyAction): EEF robots get the poses, joint robots the IK solution from their current targets.
   */
  nativeAction(poses: readonly Pose[], grippers: readonly number[]): Float64Array {
    const names = this.embodiment.actionNames;
    const out = new Float64Array(names.length);
    const put = (name: string, v: number) => {
      const k = names.indexOf(name);
      if (k < 0) throw new Error(`sim: embodiment ${this.embodiment.name} has no action "${name}"`);
      out[k] = v;
    };
    this.robot.arms.forEach((arm, i) => {
      const p = arm.prefix;
      if (this.robot.control === 'eef') {
        const v = posAxisAngleFromPose(poses[i]);
        POSE_KEYS.forEach((k, j) => put(`${p}target_${k}`, v[j]));
      } else {
        this.inverseKinematics(i, poses[i]).forEach((q, k) => put(`${p}joint${k + 1}`, q));
      }
      put(`${p}gripper`, grippers[i]);
    });
    return out;
  }

  /**
   * Applies a native action of the embodiment: EEF robots get absolute TCP poses (x, y, z, rx, ry,
   * rz, world frame, solved by IK), joint robots absolute joint targets; grippers 0 closed .. 1 open.
   */
  applyAction(action: ArrayLike<number>): void {
    const names = this.embodiment.actionNames;
    const at = (name: string) => action[names.indexOf(name)];
    this.robot.arms.forEach((arm, i) => {
      const p = arm.prefix;
      if (this.robot.control === 'eef') {
        const v = POSE_KEYS.map((k) => at(`${p}target_${k}`)) as unknown as [number, number, number, number, number, number];
        this.arms[i].target = this.arms[i].ik.solve(poseFromPosAxisAngle(v), this.arms[i].target).q;
      } else {
        this.arms[i].target = Float64Array.from(arm.joints, (_, k) => at(`${p}joint${k + 1}`));
      }
      this.setGripper(i, at(`${p}gripper`));
    });
  }

  /** The native state vector of the embodiment (order = embodiment.stateNames). */
  nativeState(): Float64Array {
    const names = this.embodiment.stateNames;
    const out = new Float64Array(names.length);
    this.robot.arms.forEach((arm, i) => {
      const p = arm.prefix;
      const put = (name: string, v: number) => {
        const k = names.indexOf(name);
        if (k >= 0) out[k] = v;
      };
      const pose = posAxisAngleFromPose(this.tcpPose(i));
      POSE_KEYS.forEach((k, j) => put(`${p}eef_${k}`, pose[j]));
      this.jointAngles(i).forEach((q, k) => put(`${p}joint${k + 1}`, q));
      put(`${p}gripper`, this.gripperOpening(i));
    });
    return out;
  }

  /** Frees the model, data and IK scratch states. */
  dispose(): void {
    for (const a of this.arms) a.ik.dispose();
    this.data.delete();
    this.model.delete();
  }
}
