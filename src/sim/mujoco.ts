/**
 * The MuJoCo WASM module (`@mujoco/mujoco`, single-threaded build), loaded once per process.
 * Outputs written by MuJoCo functions need its DoubleBuffer/IntBuffer classes (a plain
 * Float64Array would be read as a heap pointer). Array fields of MjModel/MjData are views into wasm
 * memory that detach when the memory grows (e.g. on every new MjData): read them afresh, never cache.
 */
import loadMujoco from '@mujoco/mujoco';

/** The loaded module: MjModel, MjData, mj_* functions, buffers and enums. */
export type Mujoco = Awaited<ReturnType<typeof loadMujoco>>;
/** A compiled model. */
export type MjModel = InstanceType<Mujoco['MjModel']>;
/** Simulation state of one model. */
export type MjData = InstanceType<Mujoco['MjData']>;

let loading: Promise<Mujoco> | undefined;

/** The shared module (loads the wasm on first use, ~100 ms). */
export function mujoco(): Promise<Mujoco> {
  loading ??= loadMujoco();
  return loading;
}

/** MuJoCo object types used by name lookups (mjtObj values). */
export const OBJ = Object.freeze({ body: 1, joint: 3, geom: 5, site: 6, camera: 7, actuator: 19 });

/** Geom types (mjtGeom values). */
export const GEOM = Object.freeze({ plane: 0, sphere: 2, capsule: 3, ellipsoid: 4, cylinder: 5, box: 6 });

/** Id of the named object; throws naming the object when the model lacks it (a scene bug). */
export function objectId(mj: Mujoco, model: MjModel, type: keyof typeof OBJ, name: string): number {
  const id = mj.mj_name2id(model, OBJ[type], name);
  if (id < 0) throw new Error(`sim: the scene has no ${type} named "${name}"`);
  return id;
}
