/**
 * GR00T's per-embodiment modality config (meta/modality.json) <-> vlalab embodiment specs.
 * GR00T has no unified vector: each dataset's modality.json names slices [start, end) of its
 * concatenated observation.state and action arrays (and maps video keys to dataset features),
 * as NVIDIA/Isaac-GR00T getting_started/LeRobot_compatible_data_schema.md describes. So the
 * conversion is of the configuration: a spec's bindings become named slices, and a
 * modality.json's slices become bindings, placed into vlalab's slots by their names
 * (left/right, arm/joint, hand/finger, gripper, eef position/rotation, head/waist/base -> aux).
 * Slices that fit no slot (legs past aux's 8 dims, quaternion or 6D rotations, which vlalab's
 * eef slots take as axis-angle) are listed as unmapped for the user to place by hand.
 */
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import type { ControlMode, Embodiment, EmbodimentSpecInput, SlotBinding } from './embodiment.ts';
import { type SlotName, slot } from './layout.ts';

const sliceSchema = z.object({
  start: z.number().int().min(0),
  end: z.number().int().min(0),
  rotation_type: z.string().optional(),
  absolute: z.boolean().optional(),
  original_key: z.string().optional(),
}).passthrough();

/** meta/modality.json as GR00T writes it (extra fields kept). */
export const modalitySchema = z.object({
  state: z.record(z.string(), sliceSchema),
  action: z.record(z.string(), sliceSchema),
  video: z.record(z.string(), z.object({ original_key: z.string() }).passthrough()).optional(),
  annotation: z.record(z.string(), z.unknown()).optional(),
}).passthrough();

export type Modality = z.infer<typeof modalitySchema>;
type Slice = z.infer<typeof sliceSchema>;

/** Parses a modality.json value; errors name `source` and the field. */
export function parseModality(value: unknown, source: string): Modality {
  const r = modalitySchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`${source}: field "${i.path.join('.') || '(root)'}": ${i.message}`);
  }
  for (const group of ['state', 'action'] as const) {
    for (const [k, s] of Object.entries(r.data[group])) {
      if (s.end <= s.start) throw new UserError(`${source}: field "${group}.${k}": end ${s.end} must be past start ${s.start}`);
    }
  }
  return r.data;
}

const CONTROL: Record<string, ControlMode> = { eef: 'eef-pose', joint: 'joint-position', gripper: 'gripper-position', hand: 'hand-position', aux: 'aux-position' };

/**
 * The modality.json of embodiment `e`: one slice per binding (eef bindings as a position and an
 * axis-angle rotation slice), at the native positions, or at `columns` (the dataset column of each
 * native dim, from data's resolveFeatureMap) when given; cameras become video keys.
 */
export function modalityFromEmbodiment(e: Embodiment, columns?: { state: { feature: string; dim: number }[]; action: { feature: string; dim: number }[] }): Modality {
  const group = (which: 'state' | 'action') => {
    const out: Record<string, Slice> = {};
    const fallback = which === 'state' ? 'observation.state' : 'action';
    let k = 0;
    for (const [i, b] of e.spec[which].entries()) {
      const cols = columns?.[which].slice(k, k + b.names.length) ?? b.names.map((_, j) => ({ feature: fallback, dim: k + j }));
      k += b.names.length;
      const feature = cols[0].feature;
      if (!cols.every((c, j) => c.feature === feature && c.dim === cols[0].dim + j)) {
        throw new UserError(`embodiment ${e.name}: field "${which}.${i}" reads non-consecutive dims (${cols.map((c) => `${c.feature}[${c.dim}]`).join(', ')}); a modality.json slice is one [start, end) range of one array`);
      }
      const base = b.slot.replace('.', '_') + (b.offset ? `_${b.offset}` : '');
      const extra = { ...(feature !== fallback ? { original_key: feature } : {}), ...(which === 'action' ? { absolute: true } : {}) };
      const start = cols[0].dim;
      if (b.control === 'eef-pose') {
        out[`${base}_position`] = { start, end: start + 3, ...extra };
        out[`${base}_rotation`] = { start: start + 3, end: start + 6, rotation_type: 'axis_angle', ...extra };
      } else out[base] = { start, end: start + b.names.length, ...extra };
    }
    return out;
  };
  return {
    state: group('state'),
    action: group('action'),
    video: Object.fromEntries(e.spec.cameras.map((c) => [c.name, { original_key: c.feature ?? `observation.images.${c.name}` }])),
  };
}

/** Where a modality.json slice goes in vlalab's layout, by its name. */
function classify(key: string, s: Slice): { group: 'eef-pos' | 'eef-rot' | 'eef' | 'joint' | 'gripper' | 'hand' | 'aux'; side: 'left' | 'right' } | { reason: string } {
  const k = key.toLowerCase();
  const side = /(^|[^a-z])(left|l)([^a-z]|$)|left/.test(k) ? 'left' : 'right';
  const width = s.end - s.start;
  if (/eef|end_effector|ee_|tcp|_ee$|^ee/.test(k)) {
    const rot = s.rotation_type;
    if (/pos|xyz|trans/.test(k) && width === 3) return { group: 'eef-pos', side };
    if (/rot|quat|orient|ori/.test(k)) {
      if (rot && rot !== 'axis_angle') return { reason: `rotation_type ${rot}; vlalab's eef slots take axis-angle: convert it to axis_angle first` };
      return width === 3 ? { group: 'eef-rot', side } : { reason: `${width} rotation dims; axis-angle has 3` };
    }
    if (width === 6 && rot === 'axis_angle') return { group: 'eef', side };
    return { reason: 'an eef slice needs to be a 3-dim position or a 3-dim axis-angle rotation' };
  }
  if (/hand|finger|dex/.test(k)) return { group: 'hand', side };
  if (/gripper|grip/.test(k)) return { group: 'gripper', side };
  if (/arm|joint/.test(k)) return { group: 'joint', side };
  if (/aux|head|neck|waist|torso|base|leg|lift/.test(k)) return { group: 'aux', side };
  return { reason: 'its name says neither arm, hand, gripper, eef nor head/waist/base' };
}

/** A spec made from a modality.json, and what could not be placed. */
export type SpecFromModality = { spec: EmbodimentSpecInput; unmapped: string[]; warnings: string[] };

/**
 * An embodiment spec for the dataset a modality.json describes: each slice becomes a binding
 * reading those dims of observation.state / action (or the slice's original_key), in the slot its
 * name suggests. Check the result with `vlalab embodiments check` before training.
 */
export function embodimentFromModality(m: Modality, o: { name: string; robotType?: string; fps?: number }): SpecFromModality {
  const unmapped: string[] = [];
  const warnings: string[] = [];
  const group = (which: 'state' | 'action'): SlotBinding[] => {
    const fallback = which === 'state' ? 'observation.state' : 'action';
    const used = new Map<SlotName, number>(); // dims of a slot filled so far
    const eef: Record<string, { pos?: [string, Slice]; rot?: [string, Slice] }> = {};
    const out: SlotBinding[] = [];
    const entries = Object.entries(m[which]).sort((a, b) => a[1].start - b[1].start);
    const place = (slotName: SlotName, control: ControlMode, keys: [string, Slice][]) => {
      const dims = keys.flatMap(([, s]) => Array.from({ length: s.end - s.start }, (_, j) => s.start + j));
      const feature = keys[0][1].original_key ?? fallback;
      const at = used.get(slotName) ?? 0;
      if (at + dims.length > slot(slotName).dims) {
        for (const [k, s] of keys) unmapped.push(`${which}.${k} [${s.start}, ${s.end}): slot ${slotName} has ${slot(slotName).dims - at} dims left`);
        return;
      }
      used.set(slotName, at + dims.length);
      const names = keys.flatMap(([k, s]) => Array.from({ length: s.end - s.start }, (_, j) => `${k}_${j}`));
      out.push({ slot: slotName, names, offset: at, control, dims, ...(feature !== fallback ? { feature } : {}) });
      if (which === 'action' && keys.some(([, s]) => s.absolute === false)) warnings.push(`action.${keys[0][0]} is relative (absolute: false); vlalab reads native actions as absolute targets`);
    };
    for (const [key, s] of entries) {
      const c = classify(key, s);
      if ('reason' in c) {
        unmapped.push(`${which}.${key} [${s.start}, ${s.end}): ${c.reason}`);
        continue;
      }
      if (c.group === 'eef-pos' || c.group === 'eef-rot') {
        const e = (eef[c.side] ??= {});
        e[c.group === 'eef-pos' ? 'pos' : 'rot'] = [key, s];
        continue;
      }
      if (c.group === 'eef') {
        place(`eef.${c.side}`, 'eef-pose', [[key, s]]);
        continue;
      }
      const name = (c.group === 'aux' ? 'aux' : `${c.group}.${c.side}`) as SlotName;
      place(name, CONTROL[c.group], [[key, s]]);
    }
    for (const [side, e] of Object.entries(eef)) {
      if (e.pos && e.rot) place(`eef.${side}` as SlotName, 'eef-pose', [e.pos, e.rot]);
      else for (const [k, s] of [e.pos, e.rot].filter(Boolean) as [string, Slice][]) unmapped.push(`${which}.${k} [${s.start}, ${s.end}): an eef slot needs both a position and a rotation slice`);
    }
    // the spec lists bindings in native order: by the first dim they read
    return out.sort((a, b) => (a.dims![0] as number) - (b.dims![0] as number));
  };
  const state = group('state');
  const action = group('action');
  const cameras = Object.entries(m.video ?? {}).map(([k, v]) => ({ name: k.toLowerCase().replace(/[^a-z0-9_]/g, '_'), feature: v.original_key }));
  if (!cameras.length) throw new UserError('modality.json has no video keys; a vlalab embodiment needs at least one camera');
  if (!state.length || !action.length) throw new UserError(`modality.json: no ${state.length ? 'action' : 'state'} slice fits a vlalab slot (${unmapped.slice(0, 3).join('; ')})`);
  return {
    spec: { name: o.name, description: 'converted from a GR00T modality.json', robotType: o.robotType ?? o.name, fps: o.fps ?? 30, cameras, state, action },
    unmapped, warnings,
  };
}
