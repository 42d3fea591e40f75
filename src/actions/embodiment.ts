/**
 * Embodiment specs phi_r: a declarative description of one robot that places its native state and
 * action vectors into the slots of the unified layout. From a spec follow the binary mask of used
 * unified dims and the maps native <-> unified. Specs are zod-validated, so a user's JSON spec
 * gets an error naming the bad field.
 */
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { SLOT_NAMES, type SlotName, slot, UNIFIED_DIM } from './layout.ts';

/** How a slot is commanded. eef-pose slots are parameterized by an EEF mode; the rest are absolute. */
export const CONTROL_MODES = ['eef-pose', 'joint-position', 'gripper-position', 'hand-position', 'aux-position'] as const;
export type ControlMode = (typeof CONTROL_MODES)[number];

const bindingSchema = z.object({
  /** unified slot that these native dims fill */
  slot: z.enum(SLOT_NAMES as [SlotName, ...SlotName[]]),
  /** native dim names, in native order; their count is the number of slot dims used */
  names: z.array(z.string().min(1)).min(1),
  /** first dim of the slot that the first native name fills (default 0) */
  offset: z.number().int().min(0).default(0),
  /** how the slot is commanded */
  control: z.enum(CONTROL_MODES),
  /** dataset feature these dims are read from (default: the spec's stateFeature / actionFeature) */
  feature: z.string().min(1).optional(),
  /**
   * which dims of that feature, one per name: an index, or a dim name from info.json's `names`
   * (default: the names themselves when the feature's dim names hold them all, else consecutive dims)
   */
  dims: z.array(z.union([z.number().int().min(0), z.string().min(1)])).min(1).optional(),
});

const cameraSchema = z.object({
  /** camera name, as in the dataset feature observation.images.<name> */
  name: z.string().regex(/^[a-z0-9_]+$/, 'camera names use a-z, 0-9 and _'),
  /** image width in pixels */
  width: z.number().int().positive().default(64),
  /** image height in pixels */
  height: z.number().int().positive().default(64),
  /** dataset feature of this camera (default observation.images.<name>) */
  feature: z.string().min(1).optional(),
});

export const embodimentSpecSchema = z.object({
  /** registry name, e.g. panda7 */
  name: z.string().regex(/^[a-z0-9_-]+$/, 'names use a-z, 0-9, _ and -'),
  /** one-line description */
  description: z.string().default(''),
  /** LeRobot robot_type that maps to this embodiment by default */
  robotType: z.string().min(1),
  /** control rate (Hz) */
  fps: z.number().positive(),
  /** cameras, in the order the model sees them */
  cameras: z.array(cameraSchema).min(1),
  /** native state vector, as consecutive bindings */
  state: z.array(bindingSchema).min(1),
  /** native action vector, as consecutive bindings */
  action: z.array(bindingSchema).min(1),
  /** dataset feature holding the state (default observation.state), e.g. "state" in many hub datasets */
  stateFeature: z.string().min(1).optional(),
  /** dataset feature holding the action (default action), e.g. "actions" */
  actionFeature: z.string().min(1).optional(),
});

/** An embodiment spec as written in JSON (defaults optional). */
export type EmbodimentSpecInput = z.input<typeof embodimentSpecSchema>;
/** A validated embodiment spec. */
export type EmbodimentSpec = z.output<typeof embodimentSpecSchema>;
/** One binding of native dims into a slot, validated. */
export type SlotBinding = EmbodimentSpec['action'][number];

/** A validated, frozen embodiment with its derived masks and index maps. */
export type Embodiment = {
  readonly spec: EmbodimentSpec;
  readonly name: string;
  /** native action dim names, in order */
  readonly actionNames: readonly string[];
  /** native state dim names, in order */
  readonly stateNames: readonly string[];
  /** unified index of each native action dim */
  readonly actionIndex: Int32Array;
  /** unified index of each native state dim */
  readonly stateIndex: Int32Array;
  /** 1 where the action uses a unified dim, else 0; [UNIFIED_DIM] */
  readonly actionMask: Float32Array;
  /** 1 where the state uses a unified dim, else 0; [UNIFIED_DIM] */
  readonly stateMask: Float32Array;
  /** the eef slots this robot commands by pose (parameterized by an EEF mode) */
  readonly eefSlots: readonly SlotName[];
  /** the spec file it was read from, when it is not a registered embodiment */
  readonly file?: string;
};

/**
 * Validates a spec and derives its masks. Throws a UserError naming the field when slots overlap,
 * run past their slot, or a native name repeats.
 */
export function defineEmbodiment(input: EmbodimentSpecInput, source = 'embodiment spec'): Embodiment {
  const parsed = embodimentSpecSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${source}: field "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  const spec = parsed.data;
  const where = `${source} "${spec.name}"`;
  const action = layoutBindings(spec.action, 'action', where);
  const state = layoutBindings(spec.state, 'state', where);
  const eefSlots = spec.action.filter((b) => b.control === 'eef-pose').map((b) => b.slot);
  for (const b of spec.action) {
    const isEef = b.slot.startsWith('eef.');
    if (isEef !== (b.control === 'eef-pose')) {
      throw new UserError(`${where}: field "action.${spec.action.indexOf(b)}.control": slot ${b.slot} needs control ${isEef ? '"eef-pose"' : 'other than "eef-pose"'}`);
    }
    if (isEef && (b.offset !== 0 || b.names.length !== 6)) {
      throw new UserError(`${where}: field "action.${spec.action.indexOf(b)}": an eef-pose binding fills all 6 dims of ${b.slot} (x, y, z, rx, ry, rz)`);
    }
    if (isEef && !spec.state.some((s) => s.slot === b.slot && s.offset === 0 && s.names.length === 6)) {
      throw new UserError(`${where}: field "state": the ${b.slot} pose must be in the state too, since EEF actions are relative to the observed pose`);
    }
  }
  return Object.freeze({
    spec,
    name: spec.name,
    actionNames: action.names,
    stateNames: state.names,
    actionIndex: action.index,
    stateIndex: state.index,
    actionMask: action.mask,
    stateMask: state.mask,
    eefSlots,
  });
}

function layoutBindings(bindings: SlotBinding[], field: string, where: string) {
  const mask = new Float32Array(UNIFIED_DIM);
  const index: number[] = [];
  const names: string[] = [];
  const seen = new Set<string>();
  bindings.forEach((b, i) => {
    const s = slot(b.slot);
    if (b.dims && b.dims.length !== b.names.length) {
      throw new UserError(`${where}: field "${field}.${i}.dims": ${b.dims.length} dims for ${b.names.length} names; give one dim (index or dim name) per name`);
    }
    if (b.offset + b.names.length > s.dims) {
      throw new UserError(`${where}: field "${field}.${i}": ${b.names.length} names from offset ${b.offset} run past slot ${b.slot}, which has ${s.dims} dims`);
    }
    b.names.forEach((name, k) => {
      if (seen.has(name)) throw new UserError(`${where}: field "${field}.${i}.names": "${name}" appears twice`);
      seen.add(name);
      const u = s.offset + b.offset + k;
      if (mask[u]) throw new UserError(`${where}: field "${field}.${i}": ${b.slot}[${b.offset + k}] is already filled by an earlier binding (slots overlap)`);
      mask[u] = 1;
      index.push(u);
      names.push(name);
    });
  });
  return { mask, index: Int32Array.from(index), names };
}

/** Places a native vector into a zero-filled unified vector. */
function scatter(native: ArrayLike<number>, index: Int32Array, what: string): Float64Array {
  if (native.length !== index.length) throw new UserError(`${what} has ${native.length} values but the embodiment expects ${index.length}`);
  const out = new Float64Array(UNIFIED_DIM);
  for (let i = 0; i < index.length; i++) out[index[i]] = native[i];
  return out;
}

/** Reads a native vector out of a unified vector. */
function gather(unified: ArrayLike<number>, index: Int32Array, what: string): Float64Array {
  if (unified.length !== UNIFIED_DIM) throw new UserError(`${what} has ${unified.length} values; the unified layout has ${UNIFIED_DIM}`);
  const out = new Float64Array(index.length);
  for (let i = 0; i < index.length; i++) out[i] = unified[index[i]];
  return out;
}

/** Native action vector -> unified action vector (unused dims 0). */
export function actionToUnified(e: Embodiment, native: ArrayLike<number>): Float64Array {
  return scatter(native, e.actionIndex, `${e.name} action`);
}

/** Unified action vector -> native action vector. */
export function actionFromUnified(e: Embodiment, unified: ArrayLike<number>): Float64Array {
  return gather(unified, e.actionIndex, `${e.name} unified action`);
}

/** Native state vector -> unified state vector (unused dims 0). */
export function stateToUnified(e: Embodiment, native: ArrayLike<number>): Float64Array {
  return scatter(native, e.stateIndex, `${e.name} state`);
}

/** Unified state vector -> native state vector. */
export function stateFromUnified(e: Embodiment, unified: ArrayLike<number>): Float64Array {
  return gather(unified, e.stateIndex, `${e.name} unified state`);
}
