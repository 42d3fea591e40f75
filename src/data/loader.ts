/**
 * The training loader: model batches from one or more datasets, deterministic in (seed, step).
 *
 * A sample is a frame t of an episode: its camera views, instruction tokens, unified normalized
 * state, and the action chunk a[t .. t+H-1] in the chosen parameterization (EEF slots relative to
 * the state's pose at t, eq. 4), normalized. Chunks that run past the episode's end repeat its
 * last action (the robot holds still), the usual convention of LeRobot-style loaders.
 *
 * Sensory dropout: the state is zeroed with probability pState; each view is dropped with
 * probability pView, but at least one view is always kept. Augmentation (augment.ts), when asked
 * for, shifts and colour-jitters each kept view.
 *
 * Mixtures: dataset d is drawn with probability proportional to weight_d * N_eff,d where
 * N_eff = floor(N_raw / S_d) (eq. 5, S = frame step size); within it a frame is drawn uniformly.
 *
 * Aim targets (option `aim`, for a model with an aim head): a sample's target is the normalized EEF
 * position (right arm) at its episode's next gripper event: the frame where the gripper command next
 * switches between close and open (the grasp of the object the instruction picks, then its release
 * at the destination). Samples with no event left, or of robots without an EEF state and a gripper,
 * have none (aimMask 0).
 */
import {
  actionToUnified, chunkNormalizers, EEF_MODES, encodeChunk, type EefMode, NORM_MODES, type FeatureStats, makeNormalizer, type Normalizer, type NormMode,
  slot, stateToUnified, UNIFIED_DIM,
} from '../actions/index.ts';
import { areaResizeRgb, Rng, UserError } from '../util/index.ts';
import { type AugmentOptions, augments, augmentView } from './augment.ts';
import type { Dataset } from './lerobot.ts';
import { MixtureIndex } from './mixture.ts';
import { computeStats } from './stats.ts';
import { tokenizePadded, type Tokenizer } from './tokenizer.ts';

/** A host array: row-major data and its shape (the model's HostTensor). */
export type HostArray<T extends Float32Array | Int32Array = Float32Array> = { data: T; shape: number[] };

/** A model batch (the model layer's Batch contract, as plain typed arrays). */
export type SampleBatch = {
  images: HostArray; imageMask: HostArray; tokens: HostArray<Int32Array>; tokenMask: HostArray;
  state: HostArray; stateMask: HostArray; actionMask: HostArray; actions: HostArray;
  /** with the `aim` option: aim targets [B, 3] and which samples have one [B] */
  aim?: HostArray; aimMask?: HostArray;
};

/** Action parameterization: one of the EEF modes, or 'absolute' (targets as recorded). */
export type ActionMode = EefMode | 'absolute';

/** Loader settings (the model's shapes and the training recipe). */
export type LoaderOptions = {
  horizon: number;
  mode: ActionMode;
  normMode: NormMode;
  /** normalize each chunk step by its own action stats (NormStats.actionSteps) instead of the pooled ones */
  normPerStep?: boolean;
  batchSize: number;
  seed: number;
  /** model view slots V, image side S, token length L */
  maxViews: number;
  imageSize: number;
  maxTokens: number;
  /** instruction tokenizer (default: bytes) */
  tokenizer?: Tokenizer;
  pState?: number;
  pView?: number;
  /** per-dataset frame step size S and weight (default 1, 1): see MixtureIndex */
  frameStep?: readonly number[];
  weights?: readonly number[];
  /** batches built ahead of the last one asked for, while the caller awaits other work (default 2; 0 = none) */
  prefetch?: number;
  /** training-time image augmentation (augment.ts; default none) */
  augment?: AugmentOptions;
  /** build each sample's aim target (a model with an aim head: config.aimWeight) */
  aim?: boolean;
};

/**
 * Unified-layout normalization stats of a dataset (what a checkpoint stores to act later): the
 * state's, the chunk actions' pooled over the chunk's steps, and with per-step normalization each
 * step's own (`actionSteps[h]`, H entries).
 */
export type NormStats = { state: FeatureStats; action: FeatureStats; actionSteps?: FeatureStats[] };

/** A loader: batches by step, and the stats it normalizes with. */
export type Loader = {
  /**
   * The batch of training step `step`: a pure function of (seed, step), so a resumed run sees the
   * same data order. Asking for step s also queues s+1 .. s+prefetch, each built in its own
   * event-loop turn (setImmediate) so the builds run while the caller awaits the device.
   */
  batchAt(step: number): Promise<SampleBatch>;
  /** steps whose batches are built or queued ahead (for tests and logs) */
  prefetched(): number[];
  /** normalization stats per dataset (unified layout): its embodiment's, pooled over the datasets of that embodiment */
  norm: NormStats[];
};

/** Stats of `n` unified rows, in one array or in consecutive blocks of whole rows. */
function unifiedStats(rows: Float64Array | readonly Float64Array[], n: number): FeatureStats {
  const s = computeStats(rows, n, UNIFIED_DIM);
  return { mean: s.mean, std: s.std, min: s.min, max: s.max, q01: s.q01, q99: s.q99 };
}

/** The chunk of frame `i` (global index in `ds`) in unified layout, in `mode`, unnormalized [H][60]. */
export function unifiedChunk(ds: Dataset, i: number, horizon: number, mode: ActionMode, end: number): { state: Float64Array; chunk: Float64Array[] } {
  const e = ds.embodiment;
  const ds_ = e.stateNames.length;
  const da = e.actionNames.length;
  const state = stateToUnified(e, ds.state.subarray(i * ds_, (i + 1) * ds_));
  const chunk: Float64Array[] = [];
  for (let h = 0; h < horizon; h++) {
    const j = Math.min(i + h, end - 1); // past the end: repeat the last action
    chunk.push(actionToUnified(e, ds.action.subarray(j * da, (j + 1) * da)));
  }
  return { state, chunk: mode === 'absolute' ? chunk : encodeChunk(e, mode, state, chunk) };
}

/** The encoded frames of one dataset: unified states [n, 60] and chunk actions [n, H, 60], unnormalized. */
type Encoded = { states: Float64Array; actions: Float64Array };

/** Every frame of `ds` encoded. */
function encodeAll(ds: Dataset, horizon: number, mode: ActionMode): Encoded {
  const n = ds.numFrames;
  const states = new Float64Array(n * UNIFIED_DIM);
  const actions = new Float64Array(n * horizon * UNIFIED_DIM);
  for (const ep of ds.episodes) {
    for (let i = ep.from; i < ep.to; i++) {
      const { state, chunk } = unifiedChunk(ds, i, horizon, mode, ep.to);
      states.set(state, i * UNIFIED_DIM);
      chunk.forEach((a, h) => actions.set(a, (i * horizon + h) * UNIFIED_DIM));
    }
  }
  return { states, actions };
}

/** Unified state and chunk-action stats of a dataset in `mode` (over every frame as a chunk start), per chunk step too with `perStep`. */
export function datasetNormStats(ds: Dataset, horizon: number, mode: ActionMode, perStep = false): NormStats {
  return normStatsOf([encodeAll(ds, horizon, mode)], ds.numFrames, horizon, perStep);
}

/** Stats over the `n` frames of `parts` (one dataset's encoding, or several pooled). */
function normStatsOf(parts: readonly Encoded[], n: number, horizon: number, perStep: boolean): NormStats {
  const A = UNIFIED_DIM;
  const stepStats = (h: number) => {
    const rows = new Float64Array(n * A);
    let i = 0;
    for (const e of parts) {
      for (let r = 0; r < e.states.length / A; r++, i++) rows.set(e.actions.subarray((r * horizon + h) * A, (r * horizon + h + 1) * A), i * A);
    }
    return unifiedStats(rows, n);
  };
  return {
    state: unifiedStats(parts.map((e) => e.states), n), action: unifiedStats(parts.map((e) => e.actions), n * horizon),
    ...(perStep ? { actionSteps: Array.from({ length: horizon }, (_, h) => stepStats(h)) } : {}),
  };
}

/**
 * The stats each dataset normalizes with: one set per embodiment, over the frames of all its
 * datasets, so that a mixture's datasets of one robot (demonstrations and DAgger rollouts, say) map
 * the same physical action to the same target, and the stats a checkpoint stores fit every one of
 * them. (Each dataset's own stats did neither: a rollout set whose gripper label is nearly always
 * "open" scaled its rare "close" to -200 and training diverged.)
 */
function embodimentNormStats(datasets: readonly Dataset[], encoded: readonly Encoded[], horizon: number, perStep: boolean): NormStats[] {
  const groups = new Map<string, number[]>();
  datasets.forEach((ds, d) => groups.set(ds.embodiment.name, [...(groups.get(ds.embodiment.name) ?? []), d]));
  const norm: NormStats[] = [];
  for (const group of groups.values()) {
    const stats = normStatsOf(group.map((d) => encoded[d]), group.reduce((n, d) => n + datasets[d].numFrames, 0), horizon, perStep);
    for (const d of group) norm[d] = stats;
  }
  return norm;
}

/** A unified gripper command below this closes the gripper (0 closed .. 1 open). */
const CLOSING = 0.5;

/**
 * For every frame of `ds`, the frame of its episode's next gripper event at or after it (where the
 * right gripper's command switches between close and open), or -1: none left in the episode, or a
 * robot without a right EEF state and gripper.
 */
export function nextGripperEvents(ds: Dataset): Int32Array {
  const e = ds.embodiment;
  const out = new Int32Array(ds.numFrames).fill(-1);
  const g = slot('gripper.right').offset;
  if (!e.actionMask[g] || !e.stateMask[slot('eef.right').offset]) return out;
  const da = e.actionNames.length;
  const closing = (i: number) => actionToUnified(e, ds.action.subarray(i * da, (i + 1) * da))[g] < CLOSING;
  for (const ep of ds.episodes) {
    let next = -1;
    let after = ep.to > ep.from && closing(ep.to - 1);
    for (let i = ep.to - 1; i > ep.from; i--) {
      const before = closing(i - 1);
      if (before !== after) next = i;
      out[i] = next;
      after = before;
    }
    if (ep.to > ep.from) out[ep.from] = next;
  }
  return out;
}

/** Datasets with at most this many chunk rows (frames x H) keep their normalized samples in memory. */
const CACHE_ROWS = 1 << 20;

/** [-1, 1] value of each byte. */
const PIXEL = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);

/** Seed offset of the augmentation stream (any constant other than 0). */
const AUGMENT_STREAM = 0x5bd1e995;

/** A 32-bit seed for (seed, step). */
function mix(seed: number, step: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2d) >>> 0;
}

/** Creates the loader over `datasets` (all must fit the model's image size). */
export function createLoader(datasets: readonly Dataset[], o: LoaderOptions): Loader {
  if (datasets.length === 0) throw new UserError('the loader needs at least one dataset');
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UserError(`loader option ${name} must be an integer >= ${min}, got ${v}`);
  };
  int('horizon', o.horizon, 1);
  int('batchSize', o.batchSize, 1);
  int('maxViews', o.maxViews, 1);
  int('maxTokens', o.maxTokens, 2);
  for (const [name, p] of [['pState', o.pState], ['pView', o.pView]] as const) {
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new UserError(`loader option ${name} is a probability in [0, 1], got ${p}`);
  }
  if (o.mode !== 'absolute' && !(EEF_MODES as readonly string[]).includes(o.mode)) throw new UserError(`unknown action mode "${o.mode}"; use absolute or ${EEF_MODES.join(', ')}`);
  if (!(NORM_MODES as readonly string[]).includes(o.normMode)) throw new UserError(`unknown normalization "${o.normMode}"; use ${NORM_MODES.join(' or ')}`);
  const S = o.imageSize;
  const V = o.maxViews;
  for (const ds of datasets) {
    if (ds.cameras.length > V) throw new UserError(`${ds.dir}: ${ds.cameras.length} cameras but the model has ${V} view slots`);
  }
  const index = new MixtureIndex(datasets.map((ds, d) => ({
    name: ds.dir, episodeLengths: ds.episodes.map((e) => e.length), frameStep: o.frameStep?.[d] ?? 1, weight: o.weights?.[d] ?? 1,
  })));
  const encoded = datasets.map((ds) => encodeAll(ds, o.horizon, o.mode));
  const norm = embodimentNormStats(datasets, encoded, o.horizon, o.normPerStep ?? false);
  const normalizers: { state: Normalizer; action: Normalizer[] }[] = datasets.map((ds, d) => ({
    state: makeNormalizer(norm[d].state, ds.embodiment.stateMask, o.normMode),
    action: chunkNormalizers(norm[d].action, norm[d].actionSteps, ds.embodiment.actionMask, o.normMode, o.horizon), // [H]
  }));
  // normalized samples of small datasets, computed once: [n, 60] states and [n, H, 60] chunks
  const cache = datasets.map((ds, d) => {
    if (ds.numFrames * o.horizon > CACHE_ROWS) return undefined;
    const A = UNIFIED_DIM;
    const states = new Float32Array(ds.numFrames * A);
    const actions = new Float32Array(ds.numFrames * o.horizon * A);
    for (let r = 0; r < ds.numFrames; r++) states.set(normalizers[d].state.normalize(encoded[d].states.subarray(r * A, (r + 1) * A)), r * A);
    for (let r = 0; r < ds.numFrames * o.horizon; r++) actions.set(normalizers[d].action[r % o.horizon].normalize(encoded[d].actions.subarray(r * A, (r + 1) * A)), r * A);
    return { states, actions };
  });
  encoded.length = 0; // the raw encodings are no longer needed
  const events = o.aim ? datasets.map(nextGripperEvents) : [];
  const EEF = slot('eef.right').offset;
  /** The normalized unified state of frame `i` of dataset `d`. */
  const normalizedState = (d: number, i: number): Float32Array | Float64Array => {
    const c = cache[d];
    if (c) return c.states.subarray(i * UNIFIED_DIM, (i + 1) * UNIFIED_DIM);
    const ds = datasets[d];
    const n = ds.embodiment.stateNames.length;
    return normalizers[d].state.normalize(stateToUnified(ds.embodiment, ds.state.subarray(i * n, (i + 1) * n)));
  };
  const tokenCache = new Map<string, { ids: Int32Array; mask: Float32Array }>();
  const tokens = (text: string) => {
    let t = tokenCache.get(text);
    if (!t) tokenCache.set(text, (t = tokenizePadded(text, o.maxTokens, o.tokenizer)));
    return t;
  };
  const pState = o.pState ?? 0;
  const pView = o.pView ?? 0;
  if (o.augment && !(Number.isInteger(o.augment.shift) && o.augment.shift >= 0 && o.augment.shift < S / 2)) throw new UserError(`loader option augment.shift must be an integer in [0, ${S / 2}), got ${o.augment.shift}`);
  if (o.augment && !(o.augment.color >= 0 && o.augment.color < 1)) throw new UserError(`loader option augment.color must be in [0, 1), got ${o.augment.color}`);
  const augment = augments(o.augment) ? o.augment : undefined;
  const scratch = new Float32Array(S * S * 3);

  function build(step: number): SampleBatch {
    const B = o.batchSize;
    const H = o.horizon;
    const A = UNIFIED_DIM;
    const rng = new Rng(mix(o.seed, step));
    const augRng = new Rng(mix(o.seed ^ AUGMENT_STREAM, step)); // its own stream: the draws above stay those of an unaugmented loader
    const b: SampleBatch = {
      images: { data: new Float32Array(B * V * S * S * 3), shape: [B, V, S, S, 3] },
      imageMask: { data: new Float32Array(B * V), shape: [B, V] },
      tokens: { data: new Int32Array(B * o.maxTokens), shape: [B, o.maxTokens] },
      tokenMask: { data: new Float32Array(B * o.maxTokens), shape: [B, o.maxTokens] },
      state: { data: new Float32Array(B * A), shape: [B, A] },
      stateMask: { data: new Float32Array(B * A), shape: [B, A] },
      actionMask: { data: new Float32Array(B * A), shape: [B, A] },
      actions: { data: new Float32Array(B * H * A), shape: [B, H, A] },
      ...(o.aim ? { aim: { data: new Float32Array(B * 3), shape: [B, 3] }, aimMask: { data: new Float32Array(B), shape: [B] } } : {}),
    };
    for (let k = 0; k < B; k++) {
      const draw = index.draw(rng.uniform());
      const d = draw.dataset;
      const ds = datasets[d];
      const ep = ds.episodes[draw.episode];
      const i = ep.from + draw.frame;
      const c = cache[d];
      const keepState = rng.uniform() >= pState;
      if (c) {
        if (keepState) b.state.data.set(c.states.subarray(i * A, (i + 1) * A), k * A);
        b.actions.data.set(c.actions.subarray(i * H * A, (i + 1) * H * A), k * H * A);
      } else {
        const { state, chunk } = unifiedChunk(ds, i, H, o.mode, ep.to);
        if (keepState) b.state.data.set(normalizers[d].state.normalize(state), k * A);
        chunk.forEach((act, h) => b.actions.data.set(normalizers[d].action[h].normalize(act), (k * H + h) * A));
      }
      const event = o.aim ? events[d][i] : -1;
      if (event >= 0) {
        b.aim!.data.set(normalizedState(d, event).subarray(EEF, EEF + 3), k * 3);
        b.aimMask!.data[k] = 1;
      }
      b.stateMask.data.set(ds.embodiment.stateMask, k * A);
      b.actionMask.data.set(ds.embodiment.actionMask, k * A);
      const t = tokens(ds.tasks[ds.taskIndex[i]] ?? ep.task);
      b.tokens.data.set(t.ids, k * o.maxTokens);
      b.tokenMask.data.set(t.mask, k * o.maxTokens);
      // views: drop each with pView, keep at least one (a random survivor if all were dropped)
      const present = ds.cameras.map(() => rng.uniform() >= pView);
      if (!present.some(Boolean)) present[rng.int(ds.cameras.length)] = true;
      ds.cameras.forEach((cam, v) => {
        if (!present[v]) return;
        b.imageMask.data[k * V + v] = 1;
        const img = ds.image(cam, i);
        const off = (k * V + v) * S * S * 3;
        if (ds.imageSize === S) for (let p = 0; p < img.length; p++) b.images.data[off + p] = PIXEL[img[p]];
        else areaResizeRgb(img, ds.imageSize, ds.imageSize, S, b.images.data, off); // the serving adapter's resize
        if (augment) augmentView(b.images.data, off, S, augment, augRng, scratch);
      });
    }
    return b;
  }

  // each batch built in a later event-loop turn (one build per turn)
  const queue = prefetching(o.prefetch, (step) => new Promise<SampleBatch>((resolve, reject) => setImmediate(() => {
    try {
      resolve(build(step));
    } catch (err) {
      reject(err);
    }
  })));
  return { ...queue, norm };
}

/**
 * Batches by step with `ahead` (default 2) later steps started in advance: `start(step)` begins
 * building one. A batch is handed out once and then forgotten, as are requests left stale by a jump.
 */
export function prefetching(ahead: number | undefined, start: (step: number) => Promise<SampleBatch>): Pick<Loader, 'batchAt' | 'prefetched'> {
  const n = Math.max(0, Math.floor(ahead ?? 2));
  const queued = new Map<number, Promise<SampleBatch>>();
  const request = (step: number): Promise<SampleBatch> => {
    let p = queued.get(step);
    if (!p) {
      p = start(step);
      p.catch(() => {}); // a prefetched batch nobody asks for must not fail the process; askers still see the error
      queued.set(step, p);
    }
    return p;
  };
  return {
    batchAt(step) {
      if (!Number.isInteger(step) || step < 0) return Promise.reject(new UserError(`batchAt needs a step >= 0, got ${step}`));
      const p = request(step);
      for (const s of queued.keys()) if (s <= step || s > step + n) queued.delete(s); // handed out, or stale after a jump
      for (let s = step + 1; s <= step + n; s++) request(s);
      return p;
    },
    prefetched: () => [...queued.keys()].sort((a, b) => a - b),
  };
}
