/**
 * Disturbances of an episode that the scripted expert must recover from: they change the executed
 * action while the expert's own command (the recorded label) stays as it was.
 *
 *   drop  the gripper is forced open for DROP_STEPS steps once a cube is carried above DROP_HEIGHT
 *         (the cube falls and the expert re-grasps it where it landed)
 *   miss  the executed target is shifted MISS_SHIFT along x from the descent (a target below
 *         MISS_BELOW) until MISS_AFTER steps after the gripper closes, until the expert's first
 *         re-plan (the fingers close on the cube's edge or beside it, and the expert tries again)
 */
import type { Env } from './env.ts';

/** The disturbances. */
export const PERTURBATIONS = Object.freeze(['drop', 'miss'] as const);
export type Perturbation = (typeof PERTURBATIONS)[number];

const DROP_HEIGHT = 0.07;
const DROP_STEPS = 5;
const MISS_SHIFT = 0.03;
const MISS_BELOW = 0.08;
const MISS_AFTER = 5;

/**
 * A disturbance of one episode of `env` (an EEF-controlled robot): call `apply(t, action)` on each
 * step's action before executing it; it changes the action in place while the disturbance lasts.
 */
export function perturber(env: Env, kind: Perturbation): { apply(t: number, action: Float64Array): void } {
  const names = env.embodiment.actionNames;
  const [g, x, z] = ['gripper', 'target_x', 'target_z'].map((n) => names.indexOf(n));
  if (g < 0 || x < 0 || z < 0) throw new Error(`sim: the ${kind} perturbation needs EEF targets and a gripper; ${env.robot} has ${names.join(', ')}`);
  const cubes = env.task.objects.filter((o) => o.kind === 'cube').map((o) => o.name);
  let from = -1;
  return {
    apply(t, a) {
      if (kind === 'drop') {
        if (from < 0 && cubes.some((c) => env.world.objectPose(c).p[2] > DROP_HEIGHT)) from = t;
        if (from >= 0 && t < from + DROP_STEPS) a[g] = 1;
      } else {
        if (from < 0 && a[g] < 0.5) from = t;
        if (a[z] < MISS_BELOW && (from < 0 || t < from + MISS_AFTER) && env.expertRetries() === 0) a[x] += MISS_SHIFT;
      }
    },
  };
}
