/**
 * Dataset mixtures balanced by per-dataset frame step size (paper eq. 5): a dataset of N_raw
 * frames sampled every S frames contributes N_eff = floor(N_raw / S) effective frames, and is drawn
 * with probability proportional to weight * N_eff.
 *
 * The index is lazy: it keeps only cumulative episode offsets (no frames), so a corpus of hundreds
 * of millions of frames indexes in well under a second and a few MB. A draw u in [0, 1) maps by two
 * binary searches to (dataset, episode, frame).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/index.ts';

/** One entry of a mixture file. */
export const mixtureEntrySchema = z.object({
  /** dataset directory (relative paths are relative to the mixture file) */
  path: z.string().min(1),
  /** frame step size S >= 1 (eq. 5) */
  frame_step_size: z.number().int().positive().default(1),
  /** extra sampling weight (default 1) */
  weight: z.number().positive().default(1),
  /** category for reports (e.g. simulation, real single-arm, bimanual) */
  category: z.string().default('uncategorized'),
  /** embodiment override when the dataset's robot_type is not registered: a name or a spec file (.json, relative to the mixture) */
  embodiment: z.string().optional(),
}).strict();

/** A mixture file: a name and its datasets. */
export const mixtureSchema = z.object({ name: z.string().default('mixture'), datasets: z.array(mixtureEntrySchema).min(1) }).strict();

export type MixtureEntry = z.output<typeof mixtureEntrySchema>;
export type Mixture = z.output<typeof mixtureSchema>;

/** Parses a mixture (JSON value); `source` names the file in errors; paths resolve against its folder. */
export function parseMixture(value: unknown, source: string): Mixture {
  const r = mixtureSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const base = dirname(source);
  const rel = (p: string) => (isAbsolute(p) ? p : join(base, p));
  // an embodiment spec file (.json) resolves against the mixture's folder too
  return { ...r.data, datasets: r.data.datasets.map((d) => ({ ...d, path: rel(d.path), ...(d.embodiment?.endsWith('.json') ? { embodiment: rel(d.embodiment) } : {}) })) };
}

/** Checks that every dataset of a mixture exists. */
export function checkMixturePaths(m: Mixture, source: string): void {
  for (const [i, d] of m.datasets.entries()) {
    if (!existsSync(join(d.path, 'meta', 'info.json'))) throw new UserError(`${source}: datasets.${i}.path: ${d.path} is not a LeRobot dataset (no meta/info.json)`);
  }
}

/** What the index needs of a dataset: its episode lengths, step size and weight. */
export type IndexedDataset = { name: string; episodeLengths: ArrayLike<number>; frameStep: number; weight: number };

/** Index position of a draw. */
export type MixtureDraw = { dataset: number; episode: number; frame: number; globalFrame: number };

/** Upper-bound binary search: the largest i with cum[i] <= x (cum ascending, cum[0] = 0). */
function bucket(cum: Float64Array, x: number): number {
  let lo = 0;
  let hi = cum.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cum[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The lazy index of a mixture. */
export class MixtureIndex {
  /** per dataset: N_raw, N_eff and sampling share */
  readonly stats: { name: string; nRaw: number; nEff: number; share: number; frameStep: number; weight: number }[];
  private readonly starts: Float64Array[]; // per dataset: episode start offsets, length episodes + 1
  private readonly mass: Float64Array; // cumulative weight * N_eff, length datasets + 1

  constructor(datasets: readonly IndexedDataset[]) {
    if (datasets.length === 0) throw new UserError('a mixture needs at least one dataset');
    this.starts = datasets.map((d) => {
      const s = new Float64Array(d.episodeLengths.length + 1);
      for (let e = 0; e < d.episodeLengths.length; e++) s[e + 1] = s[e] + d.episodeLengths[e];
      return s;
    });
    const nRaw = this.starts.map((s) => s[s.length - 1]);
    const nEff = datasets.map((d, i) => Math.floor(nRaw[i] / d.frameStep));
    this.mass = new Float64Array(datasets.length + 1);
    datasets.forEach((d, i) => { this.mass[i + 1] = this.mass[i] + d.weight * nEff[i]; });
    const total = this.mass[datasets.length];
    if (!(total > 0)) throw new UserError('every dataset of the mixture has zero effective frames (N_raw / S < 1)');
    this.stats = datasets.map((d, i) => ({ name: d.name, nRaw: nRaw[i], nEff: nEff[i], share: (d.weight * nEff[i]) / total, frameStep: d.frameStep, weight: d.weight }));
  }

  /** The frame of draw `u` in [0, 1): dataset by mass, then effective frame j -> raw frame j * S. */
  draw(u: number): MixtureDraw {
    const x = u * this.mass[this.mass.length - 1];
    const dataset = bucket(this.mass, x);
    const st = this.stats[dataset];
    const local = Math.min(st.nEff - 1, Math.floor((x - this.mass[dataset]) / (this.mass[dataset + 1] - this.mass[dataset]) * st.nEff));
    const globalFrame = local * st.frameStep;
    const starts = this.starts[dataset];
    const episode = bucket(starts, globalFrame);
    return { dataset, episode, frame: globalFrame - starts[episode], globalFrame };
  }
}
