/**
 * The benchmark environment: one robot, one task, cameras, the scripted expert. This is the API
 * data recording, closed-loop evaluation and the CLI use.
 *
 *   const env = await createEnv({ robot: 'panda7', task: 'pick-place' });
 *   let obs = env.reset(0);
 *   while (true) { const r = env.step(env.expertAction()); if (r.done) break; obs = r.obs; }
 *   env.close();
 */
import { actionFromUnified, decodeChunk, type EefMode, type Embodiment, stateToUnified } from '../actions/index.ts';
import { poseFromPosAxisAngle } from '../geometry/index.ts';
import { Rng, UserError, unknownNameMessage } from '../util/index.ts';
import { DOMAINS, type Domain } from './scene.ts';
import { Expert } from './expert.ts';
import { mujoco, objectId } from './mujoco.ts';
import { type Frame, Rasterizer } from './render.ts';
import { getRobot } from './robots.ts';
import { getTask } from './catalog.ts';
import type { TaskSpec } from './tasks.ts';
import { type FailureMode, GraspLog } from './diagnosis.ts';
import { World } from './world.ts';

/** What the policy sees at one step. */
export type SimObservation = {
  /** RGB u8 [S, S, 3] per camera (names and order of the embodiment's cameras) */
  images: Record<string, Uint8Array>;
  /** native state vector (order = embodiment.stateNames) */
  state: Float64Array;
  instruction: string;
};

/** The result of one control step. */
export type StepResult = { obs: SimObservation; points: number; maxPoints: number; success: boolean; done: boolean; steps: number };

/** Options of createEnv (`domain`: the room's appearance, DOMAINS; default 'default'). */
export type EnvOptions = { robot: string; task: string; seed?: number; imageSize?: number; domain?: string };

/** A running environment. */
export type Env = {
  readonly robot: string;
  readonly task: TaskSpec;
  readonly embodiment: Embodiment;
  readonly instruction: string;
  readonly stepBudget: number;
  readonly imageSize: number;
  /** the simulation (for tests and tools; policies only see observations) */
  readonly world: World;
  /** starts an episode from the seeded initial-state distribution */
  reset(seed: number): SimObservation;
  /** applies a native action for one control period (0.1 s) */
  step(action: ArrayLike<number>): StepResult;
  /**
   * applies a unified action (the 60-dim layout): absolute, or its EEF slots in parameterization
   * `mode` relative to the current state's pose (joint robots take absolute joints either way)
   */
  stepUnified(action: ArrayLike<number>, mode?: EefMode | 'absolute'): StepResult;
  /**
   * the scripted expert's next native action for the current state; with `fromState`, moving from
   * where the arm really is rather than from its own last command (when another policy drives the arm)
   */
  expertAction(fromState?: boolean): Float64Array;
  /** times this episode's expert went back in its plan (a missed or lost grasp; expert.ts) */
  expertRetries(): number;
  /**
   * Why the episode has not succeeded so far (FailureMode), judged by the objects the arm lifted or
   * closed on since the last point was reached; undefined once it succeeded, and for tasks that do
   * not name an object to carry (TaskSpec.target).
   */
  failureMode(): FailureMode | undefined;
  /** renders camera `name` at `size` (for recordings and checks) */
  render(name: string, size?: number): Frame;
  /** frees the wasm memory */
  close(): void;
};

/** The objects of `task` the arm may carry (cubes, cylinders): those a grasp or an aim can be at. */
export function carriedObjects(task: TaskSpec): string[] {
  return task.objects.filter((o) => o.kind === 'cube' || o.kind === 'cylinder').map((o) => o.name);
}

/** Start pose of the TCP before every episode (world, m), jittered by +-2 cm per seed. */
const START = [-0.1, 0, 0.22] as const;

/** Creates the environment of `robot` on `task` (loads MuJoCo on first use). */
export async function createEnv(opts: EnvOptions): Promise<Env> {
  const spec = getRobot(opts.robot);
  const task = getTask(opts.task);
  const size = opts.imageSize ?? 64;
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new UserError(`image size must be an integer in [8, 1024], got ${opts.imageSize}`);
  const domain = opts.domain ?? 'default';
  if (!Object.hasOwn(DOMAINS, domain)) throw new UserError(unknownNameMessage('domain', domain, Object.keys(DOMAINS)));
  const mj = await mujoco();
  const world = new World(mj, spec, task.objects, domain as Domain);
  const raster = new Rasterizer(world.model);
  const cameras = world.embodiment.spec.cameras.map((c) => c.name);
  const camIds = new Map(cameras.map((c) => [c, objectId(mj, world.model, 'camera', c)]));
  let expert: Expert | undefined;
  let steps = 0;
  let points = 0;
  let success = false;
  // what the arm lifted and closed on, for the failure diagnosis
  const grasps = new GraspLog(carriedObjects(task));

  const observe = (): SimObservation => {
    const images: Record<string, Uint8Array> = {};
    for (const [name, id] of camIds) images[name] = raster.render(world.data, id, size, size).rgb;
    return { images, state: world.nativeState(), instruction: task.instruction };
  };

  const env: Env = {
    robot: opts.robot,
    task,
    embodiment: world.embodiment,
    instruction: task.instruction,
    stepBudget: task.stepBudget,
    imageSize: size,
    world,
    reset(seed: number) {
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UserError(`seed must be an integer in [0, 2^32), got ${seed}`);
      const rng = new Rng(seed);
      const placements = task.place(rng);
      const start = spec.arms.map((arm, i) => {
        const p = [START[0] + rng.range(-0.02, 0.02), START[1] + (spec.arms.length > 1 ? (i === 0 ? -0.15 : 0.15) : 0) + rng.range(-0.02, 0.02), START[2] + rng.range(-0.02, 0.02)];
        return Array.from(world.inverseKinematics(i, poseFromPosAxisAngle([p[0], p[1], p[2], 0, 0, 0]), arm.home));
      });
      world.reset(start, placements);
      expert = new Expert(world, task.plan());
      steps = 0;
      points = 0;
      success = false;
      grasps.reset(world);
      return observe();
    },
    step(action) {
      if (!expert) throw new UserError('call reset(seed) before step()');
      if (action.length !== world.embodiment.actionNames.length) {
        throw new UserError(`${opts.robot} actions have ${world.embodiment.actionNames.length} values (${world.embodiment.actionNames.join(', ')}), got ${action.length}`);
      }
      for (let i = 0; i < action.length; i++) {
        if (!Number.isFinite(action[i])) throw new UserError(`action[${i}] (${world.embodiment.actionNames[i]}) is ${action[i]}; actions must be finite`);
      }
      world.applyAction(action);
      world.advance();
      steps++;
      const before = points;
      points = Math.max(points, task.score(world, points));
      success = points >= task.maxPoints;
      grasps.update(world, points > before);
      return { obs: observe(), points, maxPoints: task.maxPoints, success, done: success || steps >= task.stepBudget, steps };
    },
    stepUnified(action, mode = 'absolute') {
      const e = world.embodiment;
      const absolute = mode === 'absolute' ? action : decodeChunk(e, mode, stateToUnified(e, world.nativeState()), [action])[0];
      return env.step(actionFromUnified(e, absolute));
    },
    expertAction(fromState = false) {
      if (!expert) throw new UserError('call reset(seed) before expertAction()');
      if (fromState) expert.resync(world);
      return expert.nextAction(world);
    },
    expertRetries: () => expert?.retries ?? 0,
    failureMode() {
      const target = success ? undefined : task.target?.(world);
      if (target === undefined) return undefined;
      return grasps.failureMode(target);
    },
    render(name, s = size) {
      const id = camIds.get(name) ?? objectId(mj, world.model, 'camera', name);
      return raster.render(world.data, id, s, s);
    },
    close() {
      world.dispose();
    },
  };
  if (opts.seed !== undefined) env.reset(opts.seed);
  return env;
}
