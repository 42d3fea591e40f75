/**
 * Where an embodiment's native state and action dims are in a dataset: for every native dim, the
 * feature key and the column of that feature it is read from. A registered embodiment reads
 * `observation.state` and `action` whole, in order; a spec file can name other features
 * (`stateFeature: "state"`, a binding's `feature`) and pick dims by index or by info.json's dim
 * names (`dims`), so a hub dataset is used as it is, without rewriting it.
 */
import type { Embodiment } from '../actions/index.ts';
import { UserError } from '../util/index.ts';
import type { FeatureInfo } from './lerobot-format.ts';

/**
 * The per-dim names of a feature: a list as is; LeRobot's {"motors": [...]} or {"axes": [...]}
 * form (one or more lists, concatenated); null when there are none.
 */
export function featureDimNames(f: Pick<FeatureInfo, 'names'>): string[] | null {
  const n = f.names;
  if (Array.isArray(n)) return n.map(String);
  if (n && typeof n === 'object') {
    const lists = Object.values(n).filter(Array.isArray) as unknown[][];
    if (lists.length) return lists.flat().map(String);
  }
  return null;
}

/** Native dim k is column `dim` of feature `feature`. */
export type FeatureColumn = { feature: string; dim: number };

/** The default feature of the state and of the action. */
export const DEFAULT_FEATURE = { state: 'observation.state', action: 'action' } as const;

const list = (xs: readonly string[], n = 8) => `${xs.slice(0, n).join(', ')}${xs.length > n ? `, ... (${xs.length})` : ''}`;

/** True when the spec maps nothing beyond the default layout (the feature read whole, in binding order). */
function isPlain(e: Embodiment, which: 'state' | 'action'): boolean {
  const feature = which === 'state' ? e.spec.stateFeature : e.spec.actionFeature;
  return !feature && e.spec[which].every((b) => !b.feature && !b.dims);
}

/**
 * The feature column of each native `which` dim of `e` in a dataset with `features`. `where`
 * starts error messages (e.g. the info.json path). Throws a UserError naming the spec field when
 * a feature or dim does not exist or two native dims read the same column.
 */
export function resolveFeatureMap(e: Embodiment, features: Record<string, FeatureInfo>, which: 'state' | 'action', where: string): FeatureColumn[] {
  const fallback = (which === 'state' ? e.spec.stateFeature : e.spec.actionFeature) ?? DEFAULT_FEATURE[which];
  const vectors = Object.entries(features).filter(([, f]) => f.dtype !== 'video' && f.dtype !== 'image' && f.shape?.length === 1).map(([k]) => k);
  const src = e.file ? `embodiment spec ${e.file}` : `embodiment ${e.name}`;
  const names = which === 'state' ? e.stateNames : e.actionNames;
  if (isPlain(e, which)) {
    const f = features[fallback];
    if (!f) {
      throw new UserError(`${where}: features has no "${fallback}" (its vector features: ${list(vectors)}); map the dataset's own keys with an embodiment spec file (--embodiment FILE.json, "${which}Feature")`);
    }
    if (f.shape[0] !== names.length) {
      const other = which === 'state' ? e.actionNames.length : e.stateNames.length;
      const [ds, da] = which === 'state' ? [f.shape[0], features[DEFAULT_FEATURE.action]?.shape[0] ?? other] : [features[DEFAULT_FEATURE.state]?.shape[0] ?? other, f.shape[0]];
      throw new UserError(`${where}: state/action have ${ds}/${da} dims but embodiment ${e.name} has ${e.stateNames.length}/${e.actionNames.length}`);
    }
    return names.map((_, dim) => ({ feature: fallback, dim }));
  }
  const out: FeatureColumn[] = [];
  const next = new Map<string, number>(); // consecutive dims, per feature
  const used = new Map<string, string>();
  e.spec[which].forEach((b, i) => {
    const field = `${which}.${i}`;
    const key = b.feature ?? fallback;
    const f = features[key];
    if (!f) {
      throw new UserError(`${src}: field "${b.feature ? `${field}.feature` : `${which}Feature`}": the dataset has no feature "${key}" (its vector features: ${list(vectors)})`);
    }
    const width = f.shape[0];
    const dimNames = featureDimNames(f);
    // without dims, names that are all dim names of the feature are looked up by name
    const byName = !b.dims && dimNames !== null && b.names.every((n) => dimNames.includes(n));
    // some names but not all: a typo, not a positional mapping
    const stray = !b.dims && dimNames !== null && !byName && b.names.some((n) => dimNames.includes(n)) ? b.names.findIndex((n) => !dimNames.includes(n)) : -1;
    if (stray >= 0) {
      throw new UserError(`${src}: field "${field}.names.${stray}": "${b.names[stray]}" is not a dim name of feature "${key}" while the binding's other names are; fix it, or give "dims" (indices or dim names)`);
    }
    b.names.forEach((name, k) => {
      let dim: number;
      const d = b.dims?.[k];
      if (typeof d === 'number') {
        if (d >= width) throw new UserError(`${src}: field "${field}.dims.${k}": dim ${d} is past the end of feature "${key}", which has ${width} dims`);
        dim = d;
      } else if (typeof d === 'string' || byName) {
        const want = typeof d === 'string' ? d : name;
        if (!dimNames) throw new UserError(`${src}: field "${field}.dims.${k}": feature "${key}" has no dim names in info.json; give dims by index (0..${width - 1})`);
        dim = dimNames.indexOf(want);
        if (dim < 0) throw new UserError(`${src}: field "${field}.dims.${k}": "${want}" is not a dim name of feature "${key}" (names: ${list(dimNames)})`);
      } else {
        dim = next.get(key) ?? 0;
        if (dim >= width) throw new UserError(`${src}: field "${field}.names.${k}": feature "${key}" has only ${width} dims for the names so far; give "dims" (indices or dim names)`);
      }
      next.set(key, dim + 1);
      const col = `${key}[${dim}]`;
      const prev = used.get(col);
      if (prev) throw new UserError(`${src}: field "${field}": ${col} is already read by ${prev}; each dataset dim fills one slot`);
      used.set(col, `${field} "${name}"`);
      out.push({ feature: key, dim });
    });
  });
  return out;
}

/** The dataset feature of each camera of a spec file (default observation.images.<name>). */
export function cameraFeatures(e: Embodiment): { name: string; feature: string }[] {
  return e.spec.cameras.map((c) => ({ name: c.name, feature: c.feature ?? `observation.images.${c.name}` }));
}
