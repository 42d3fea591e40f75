/**
 * The unified action space A_uni = S_eef + S_joint + S_gripper + S_hand + S_aux (paper eq. 3):
 * one fixed-width vector whose named slots mean the same physical thing for every robot.
 * Proprioceptive state uses the same layout with absolute values. This file is the one registry
 * of slots; everything else asks it for offsets.
 */

/** Every slot of the unified vector, in order, with its width. */
export const SLOT_DIMS = {
  /** right end-effector pose: position xyz (m, world frame) then axis-angle rotation (rad) */
  'eef.right': 6,
  /** left end-effector pose, as eef.right */
  'eef.left': 6,
  /** right arm joint positions (rad or m), up to 7 */
  'joint.right': 7,
  /** left arm joint positions, up to 7 */
  'joint.left': 7,
  /** right parallel gripper opening, 0 closed .. 1 open */
  'gripper.right': 1,
  /** left parallel gripper opening, 0 closed .. 1 open */
  'gripper.left': 1,
  /** right dexterous hand finger joints (rad) */
  'hand.right': 12,
  /** left dexterous hand finger joints (rad) */
  'hand.left': 12,
  /** auxiliary degrees of freedom: head, torso, mobile base */
  aux: 8,
} as const;

/** Name of a slot of the unified vector. */
export type SlotName = keyof typeof SLOT_DIMS;

export const SLOT_NAMES = Object.keys(SLOT_DIMS) as SlotName[];

/** Which part of the paper's eq. 3 a slot belongs to. */
export type SlotGroup = 'eef' | 'joint' | 'gripper' | 'hand' | 'aux';

/** A slot with its position in the unified vector. */
export type Slot = { readonly name: SlotName; readonly group: SlotGroup; readonly offset: number; readonly dims: number };

export const SLOTS: readonly Slot[] = (() => {
  let offset = 0;
  return SLOT_NAMES.map((name) => {
    const slot = { name, group: name.split('.')[0] as SlotGroup, offset, dims: SLOT_DIMS[name] };
    offset += slot.dims;
    return Object.freeze(slot);
  });
})();

/** Width D of the unified action/state vector (60 with the default layout). */
export const UNIFIED_DIM = SLOTS.reduce((n, s) => n + s.dims, 0);

const SLOT_BY_NAME = new Map(SLOTS.map((s) => [s.name, s]));

/** The slot called `name`; throws with the list of valid names otherwise. */
export function slot(name: string): Slot {
  const s = SLOT_BY_NAME.get(name as SlotName);
  if (!s) throw new RangeError(`unknown slot "${name}"; slots are ${SLOT_NAMES.join(', ')}`);
  return s;
}

/** Human-readable name of unified dimension i, e.g. "eef.right[3]". */
export function unifiedDimName(i: number): string {
  for (const s of SLOTS) if (i >= s.offset && i < s.offset + s.dims) return `${s.name}[${i - s.offset}]`;
  throw new RangeError(`unified dimension ${i} is outside [0, ${UNIFIED_DIM})`);
}
