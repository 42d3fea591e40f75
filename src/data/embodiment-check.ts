/**
 * What an embodiment spec does to one dataset, before training on it (`vlalab embodiments check`):
 * for every binding, the unified dims it fills, the dataset columns it reads, the control mode and
 * the range of values found there; the masks; the dataset dims nothing reads; the cameras; and
 * warnings about values that do not look like the slot's units.
 */
import { type Embodiment, type SlotName, slot } from '../actions/index.ts';
import { featureDimNames, resolveFeatureMap } from './feature-map.ts';
import { openDataset } from './lerobot.ts';

/** One binding of a spec, as applied to a dataset. */
export type SlotCheck = {
  slot: SlotName; control: string;
  /** unified dims filled, [from, to) */
  unified: [number, number];
  /** native names and the dataset columns they are read from ("state[3]") */
  names: string[]; columns: string[];
  /** per native dim over every frame */
  min: number[]; max: number[];
};

/** The result of checking a spec against a dataset. */
export type EmbodimentCheck = {
  embodiment: string; file: string | null; dataset: string; episodes: number; frames: number;
  state: SlotCheck[]; action: SlotCheck[];
  stateMask: number[]; actionMask: number[];
  /** dims of the features the spec reads that no binding reads */
  unmapped: { state: string[]; action: string[] };
  cameras: { name: string; feature: string; dtype: string; width: number; height: number }[];
  warnings: string[];
};

const TWO_PI = 2 * Math.PI;

/** Applies `e` to the dataset at `dir` (state, action and metadata only; videos are not decoded). */
export async function checkEmbodiment(e: Embodiment, dir: string): Promise<EmbodimentCheck> {
  const ds = await openDataset(dir, { embodiment: e, images: false });
  const features = ds.info.features;
  const warnings: string[] = [];
  const apply = (which: 'state' | 'action') => {
    const map = resolveFeatureMap(e, features, which, dir);
    const data = which === 'state' ? ds.state : ds.action;
    const width = map.length;
    const out: SlotCheck[] = [];
    let k = 0;
    for (const b of e.spec[which]) {
      const s = slot(b.slot);
      const c: SlotCheck = {
        slot: b.slot, control: b.control, unified: [s.offset + b.offset, s.offset + b.offset + b.names.length],
        names: [...b.names], columns: [], min: [], max: [],
      };
      for (let j = 0; j < b.names.length; j++, k++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = 0; i < ds.numFrames; i++) {
          const v = data[i * width + k];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        c.columns.push(`${map[k].feature}[${map[k].dim}]`);
        c.min.push(lo);
        c.max.push(hi);
      }
      out.push(c);
      const lo = Math.min(...c.min);
      const hi = Math.max(...c.max);
      const what = `${which} ${b.slot} (${c.columns[0]}${c.columns.length > 1 ? ` ..` : ''})`;
      if (s.group === 'gripper' && (lo < -1e-3 || hi > 1 + 1e-3)) warnings.push(`${what} spans [${lo.toFixed(3)}, ${hi.toFixed(3)}]; gripper slots are 0 closed .. 1 open, so rescale it in the dataset or the policy will see another scale than other robots`);
      if ((s.group === 'joint' || s.group === 'hand') && Math.max(-lo, hi) > TWO_PI) warnings.push(`${what} reaches ${Math.max(-lo, hi).toFixed(1)}; joint and hand slots are radians, and values past 2 pi look like degrees`);
      if (s.group === 'eef') {
        const rot = Math.max(...c.min.slice(3).map((v) => -v), ...c.max.slice(3));
        if (rot > Math.PI + 1e-3) warnings.push(`${what} has rotation values up to ${rot.toFixed(2)}; eef slots take axis-angle in radians (|r| <= pi)`);
      }
    }
    const read = new Set(map.map((m) => `${m.feature}[${m.dim}]`));
    const unmapped: string[] = [];
    for (const f of new Set(map.map((m) => m.feature))) {
      const names = featureDimNames(features[f]);
      for (let d = 0; d < features[f].shape[0]; d++) if (!read.has(`${f}[${d}]`)) unmapped.push(`${f}[${d}]${names?.[d] ? ` ${names[d]}` : ''}`);
    }
    return { slots: out, unmapped };
  };
  const state = apply('state');
  const action = apply('action');
  const cams = e.file
    ? e.spec.cameras.map((c) => ({ name: c.name, feature: c.feature ?? `observation.images.${c.name}` }))
    : Object.keys(features).filter((k) => k.startsWith('observation.images.')).map((k) => ({ name: k.slice('observation.images.'.length), feature: k }));
  const cameras = cams.map((c) => {
    const f = features[c.feature];
    if (!f) warnings.push(`camera ${c.name}: the dataset has no feature "${c.feature}"; training will refuse it`);
    return { ...c, dtype: f?.dtype ?? 'absent', height: f?.shape[0] ?? 0, width: f?.shape[1] ?? 0 };
  });
  if (ds.episodes.length === 0) warnings.push('the dataset has no episodes');
  return {
    embodiment: e.name, file: e.file ?? null, dataset: dir, episodes: ds.episodes.length, frames: ds.numFrames,
    state: state.slots, action: action.slots, stateMask: Array.from(e.stateMask), actionMask: Array.from(e.actionMask),
    unmapped: { state: state.unmapped, action: action.unmapped }, cameras, warnings,
  };
}
