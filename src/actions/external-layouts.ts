/**
 * Converters between vlalab's unified vector (layout.ts, 60 dims) and two published unified
 * layouts, for vectors, chunks and masks, so data and models can cross over:
 *
 * - rdt128: RDT-1B's 128-dim state/action vector, thu-ml/RoboticsDiffusionTransformer
 *   configs/state_vec.py (STATE_VEC_IDX_MAPPING): right arm joints [0, 10), right gripper open 10,
 *   right eef position [30, 33) and 6D rotation [33, 39), left arm joints [50, 60), left gripper
 *   open 60, left eef position [80, 83) and 6D rotation [83, 89); velocities and the base are
 *   not vlalab slots. The 6D rotation is the first two columns of the rotation matrix, column by
 *   column (data/utils.py, rotation_matrix_to_ortho6d), which is geometry's rot6dFromMat.
 * - beingh200: Being-H0.5's 200-dim layout, unified_action_space.md of its docs (BeingBeyond/Being-H,
 *   Being-H05/docs/, linked from data_configuration.md there; read from the mirror
 *   Stars1233/Being-H0 docs/unified_action_space.md at 1bf651d), the UNIFIED_MAPPING slots: eef position/rotation (axis-angle) right [0, 6) and left [9, 15),
 *   grippers 18 (right) and 19 (left), dexterous hands right [20, 32) and left [32, 44) (6 joints
 *   plus the documented 6-joint extension each), arm joints right [50, 57) and left [57, 64).
 *
 * vlalab's aux slot (head, torso, base; 8 dims with no fixed inner order) has no counterpart in
 * either, nor do RDT's velocities and extra gripper joints or Being-H's MANO and base slots: they
 * are dropped (mask 0) in both directions. Everything both layouts have round-trips: copies are
 * exact, and axis-angle <-> 6D is exact to float rounding for rotation angles below pi.
 */
import { axisAngleFromMat, matFromAxisAngle, matFromRot6d, type Rot6d, rot6dFromMat, type Vec3 } from '../geometry/index.ts';
import { UserError } from '../util/errors.ts';
import { slot, UNIFIED_DIM } from './layout.ts';

/** Names of the layouts vlalab converts to and from. */
export const EXTERNAL_LAYOUTS = ['rdt128', 'beingh200'] as const;
export type ExternalLayoutName = (typeof EXTERNAL_LAYOUTS)[number];

/** How a published layout sits against vlalab's: dims copied one to one, and rotations re-expressed. */
export type ExternalLayout = {
  name: ExternalLayoutName;
  /** width of the layout's vector */
  dim: number;
  /** [vlalab index, layout index] pairs copied as they are */
  copies: readonly (readonly [number, number])[];
  /** vlalab axis-angle at `vlalab`..+2 <-> the layout's 6D rotation at `external`..+5 */
  rot6d: readonly { vlalab: number; external: number }[];
};

const range = (slotName: string, from: number, to: number, external: number): [number, number][] =>
  Array.from({ length: to - from }, (_, k) => [slot(slotName).offset + from + k, external + k]);

const LAYOUTS: Record<ExternalLayoutName, ExternalLayout> = {
  rdt128: {
    name: 'rdt128', dim: 128,
    copies: [
      ...range('joint.right', 0, 7, 0), ...range('gripper.right', 0, 1, 10), ...range('eef.right', 0, 3, 30),
      ...range('joint.left', 0, 7, 50), ...range('gripper.left', 0, 1, 60), ...range('eef.left', 0, 3, 80),
    ],
    rot6d: [{ vlalab: slot('eef.right').offset + 3, external: 33 }, { vlalab: slot('eef.left').offset + 3, external: 83 }],
  },
  beingh200: {
    name: 'beingh200', dim: 200,
    copies: [
      ...range('eef.right', 0, 6, 0), ...range('eef.left', 0, 6, 9), ...range('gripper.right', 0, 1, 18), ...range('gripper.left', 0, 1, 19),
      ...range('hand.right', 0, 12, 20), ...range('hand.left', 0, 12, 32), ...range('joint.right', 0, 7, 50), ...range('joint.left', 0, 7, 57),
    ],
    rot6d: [],
  },
};

/** The layout called `name`, or a UserError listing the known ones. */
export function externalLayout(name: string): ExternalLayout {
  const l = LAYOUTS[name as ExternalLayoutName];
  if (!l) throw new UserError(`unknown layout "${name}"; use vlalab, ${EXTERNAL_LAYOUTS.join(' or ')}`);
  return l;
}

/** A vector with its mask (1 where a dim is used). */
export type MaskedVector = { vector: Float64Array; mask: Float64Array };

function check(v: ArrayLike<number>, m: ArrayLike<number>, dim: number, what: string) {
  if (v.length !== dim) throw new UserError(`${what} has ${v.length} values; it needs ${dim}`);
  if (m.length !== dim) throw new UserError(`${what} mask has ${m.length} values; it needs ${dim}`);
}

/** vlalab unified vector + mask [60] -> `layout`'s vector + mask [dim]; dims it lacks are dropped. */
export function toExternal(layout: ExternalLayout, vector: ArrayLike<number>, mask: ArrayLike<number>): MaskedVector {
  check(vector, mask, UNIFIED_DIM, 'vlalab vector');
  const out = { vector: new Float64Array(layout.dim), mask: new Float64Array(layout.dim) };
  for (const [u, x] of layout.copies) {
    if (!mask[u]) continue;
    out.vector[x] = vector[u];
    out.mask[x] = 1;
  }
  for (const { vlalab: u, external: x } of layout.rot6d) {
    if (!(mask[u] && mask[u + 1] && mask[u + 2])) continue;
    const d = rot6dFromMat(matFromAxisAngle([vector[u], vector[u + 1], vector[u + 2]]));
    for (let k = 0; k < 6; k++) {
      out.vector[x + k] = d[k];
      out.mask[x + k] = 1;
    }
  }
  return out;
}

/** `layout`'s vector + mask [dim] -> vlalab unified vector + mask [60]; dims vlalab lacks are dropped. */
export function fromExternal(layout: ExternalLayout, vector: ArrayLike<number>, mask: ArrayLike<number>): MaskedVector {
  check(vector, mask, layout.dim, `${layout.name} vector`);
  const out = { vector: new Float64Array(UNIFIED_DIM), mask: new Float64Array(UNIFIED_DIM) };
  for (const [u, x] of layout.copies) {
    if (!mask[x]) continue;
    out.vector[u] = vector[x];
    out.mask[u] = 1;
  }
  for (const { vlalab: u, external: x } of layout.rot6d) {
    if (![0, 1, 2, 3, 4, 5].every((k) => mask[x + k])) continue;
    let r: Vec3;
    try {
      r = axisAngleFromMat(matFromRot6d(Array.from({ length: 6 }, (_, k) => vector[x + k]) as unknown as Rot6d));
    } catch (err) {
      throw new UserError(`${layout.name} dims ${x}..${x + 5} are not a 6D rotation (${(err as Error).message})`);
    }
    for (let k = 0; k < 3; k++) {
      out.vector[u + k] = r[k];
      out.mask[u + k] = 1;
    }
  }
  return out;
}

/** A chunk [H][from dim] + mask [from dim] converted row by row between 'vlalab' and a layout (either way). */
export function convertChunk(from: string, to: string, chunk: readonly ArrayLike<number>[], mask: ArrayLike<number>): { chunk: Float64Array[]; mask: Float64Array } {
  if (from === to) throw new UserError(`--from and --to are both ${from}; nothing to convert`);
  if (from !== 'vlalab' && to !== 'vlalab') {
    // through vlalab: what both published layouts share with it
    const mid = convertChunk(from, 'vlalab', chunk, mask);
    return convertChunk('vlalab', to, mid.chunk, mid.mask);
  }
  const layout = externalLayout(from === 'vlalab' ? to : from);
  const f = from === 'vlalab' ? toExternal : fromExternal;
  const rows = chunk.map((row) => f(layout, row, mask));
  return { chunk: rows.map((r) => r.vector), mask: rows[0]?.mask ?? f(layout, new Float64Array(from === 'vlalab' ? UNIFIED_DIM : layout.dim), mask).mask };
}
