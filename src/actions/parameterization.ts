/**
 * The end-effector parameterization Psi of an action chunk (paper eq. 4). Given the chunk start
 * pose T_0 (the observed pose) and target poses T_1..T_H:
 *   world-rel    T_tau (-) T_0            = (p_tau - p_0,               log(R_tau R_0^T))
 *   world-delta  T_tau (-) T_(tau-1)      = (p_tau - p_(tau-1),         log(R_tau R_(tau-1)^T))
 *   eef-rel      T_0^-1 o T_tau           = (R_0^T (p_tau - p_0),       log(R_0^T R_tau))
 *   eef-delta    T_(tau-1)^-1 o T_tau     = (R_(tau-1)^T (p_tau - p_(tau-1)), log(R_(tau-1)^T R_tau))
 * Each mode has an exact inverse that rebuilds the absolute targets from T_0 (cumulatively for
 * the delta modes). Joint, gripper, hand and aux slots stay absolute [IV.B].
 */
import {
  localApply,
  localDifference,
  type PosAxisAngle,
  type Pose,
  posAxisAngleFromPose,
  poseFromPosAxisAngle,
  worldApply,
  worldDifference,
} from '../geometry/index.ts';
import { UserError } from '../util/errors.ts';
import { unknownNameMessage } from '../util/suggest.ts';
import type { Embodiment } from './embodiment.ts';
import { slot, UNIFIED_DIM } from './layout.ts';

export const EEF_MODES = ['world-rel', 'world-delta', 'eef-rel', 'eef-delta'] as const;
/** One of the four EEF parameterizations of eq. 4. */
export type EefMode = (typeof EEF_MODES)[number];

/** Parses a mode name, with a "did you mean" for typos. */
export function parseEefMode(name: string): EefMode {
  if ((EEF_MODES as readonly string[]).includes(name)) return name as EefMode;
  throw new UserError(unknownNameMessage('EEF mode', name, EEF_MODES));
}

function isWorld(mode: EefMode): boolean {
  return mode === 'world-rel' || mode === 'world-delta';
}

function isDelta(mode: EefMode): boolean {
  return mode === 'world-delta' || mode === 'eef-delta';
}

/**
 * Psi: absolute target poses T_1..T_H -> H actions [dx, dy, dz, rx, ry, rz] relative to the
 * chunk start T_0 (rel modes) or to the previous target (delta modes).
 */
export function encodePoses(mode: EefMode, start: Pose, targets: readonly Pose[]): PosAxisAngle[] {
  const diff = isWorld(mode) ? worldDifference : localDifference;
  return targets.map((t, i) => diff(t, isDelta(mode) && i > 0 ? targets[i - 1] : start));
}

/** Psi^-1: H actions -> absolute target poses, rebuilt from the chunk start T_0. */
export function decodePoses(mode: EefMode, start: Pose, actions: readonly PosAxisAngle[]): Pose[] {
  const apply = isWorld(mode) ? worldApply : localApply;
  const out: Pose[] = [];
  for (const a of actions) {
    const reference = isDelta(mode) && out.length > 0 ? out[out.length - 1] : start;
    out.push(apply(a, reference));
  }
  return out;
}

/**
 * Encodes a chunk of unified absolute actions [H][D] into the model's parameterization: each eef
 * slot the embodiment commands by pose becomes `mode` relative to the pose in the unified state;
 * every other dim is copied. Returns new arrays.
 */
export function encodeChunk(
  e: Embodiment,
  mode: EefMode,
  state: ArrayLike<number>,
  chunk: readonly ArrayLike<number>[],
): Float64Array[] {
  return mapEefSlots(e, state, chunk, (start, poses) =>
    encodePoses(mode, start, poses.map((v) => poseFromPosAxisAngle(v))),
  );
}

/** Inverse of encodeChunk: model-space actions [H][D] -> unified absolute actions [H][D]. */
export function decodeChunk(
  e: Embodiment,
  mode: EefMode,
  state: ArrayLike<number>,
  chunk: readonly ArrayLike<number>[],
): Float64Array[] {
  return mapEefSlots(e, state, chunk, (start, actions) =>
    decodePoses(mode, start, actions).map(posAxisAngleFromPose),
  );
}

function mapEefSlots(
  e: Embodiment,
  state: ArrayLike<number>,
  chunk: readonly ArrayLike<number>[],
  f: (start: Pose, values: PosAxisAngle[]) => PosAxisAngle[],
): Float64Array[] {
  if (state.length !== UNIFIED_DIM) throw new UserError(`state has ${state.length} values; the unified layout has ${UNIFIED_DIM}`);
  const out = chunk.map((a, t) => {
    if (a.length !== UNIFIED_DIM) throw new UserError(`action ${t} of the chunk has ${a.length} values; the unified layout has ${UNIFIED_DIM}`);
    return Float64Array.from(a);
  });
  for (const name of e.eefSlots) {
    const { offset } = slot(name);
    const start = poseFromPosAxisAngle(Array.from(state).slice(offset, offset + 6) as unknown as PosAxisAngle);
    const values = out.map((a) => Array.from(a.subarray(offset, offset + 6)) as unknown as PosAxisAngle);
    f(start, values).forEach((v, t) => out[t].set(v, offset));
  }
  return out;
}
