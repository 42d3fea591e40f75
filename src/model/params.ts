/**
 * Parameter trees: plain typed objects of jax-js arrays, one shape table (`paramShapes`) that
 * initialization, analytic parameter counts and checkpoint validation all read, and dotted
 * names (`semantic.layers.0.attn.wq`) for checkpoints. Weights are [in, out] (y = x W + b).
 */
import { numpy as np } from './backend.ts';
import { Rng } from '../util/index.ts';
import { type ModelConfig, patchesPerView, stemPatch, validateConfig } from './config.ts';

type Arr = np.Array;

/** A linear map with bias: y = x w + b, w [in, out], b [out]. */
export type Linear = { w: Arr; b: Arr };
/** Per-expert attention projections; q/k/v [D, heads * headDim], o [heads * headDim, D]. */
export type AttnParams = { wq: Arr; wk: Arr; wv: Arr; wo: Arr };
/** SwiGLU MLP: down(silu(x gate) * (x up)); gate/up [D, F], down [F, D]. */
export type MlpParams = { wGate: Arr; wUp: Arr; wDown: Arr };
/** One expert's share of one MoT layer: pre-norms (RMSNorm scales [D]), attention, MLP. */
export type LayerParams = { attnNorm: Arr; attn: AttnParams; mlpNorm: Arr; mlp: MlpParams };

/**
 * One layer of the convolutional stem: w [p0 p0 3, C_out] (the patchify layer) or [9 C_in, C_out] (a
 * 3x3 conv), b [C_out], GroupNorm scale and shift [C_out], and with `stemFilm` the FiLM map from the
 * instruction embedding [D_s] to (gamma, beta) [2 C_out].
 */
export type ConvLayer = { w: Arr; b: Arr; gnScale: Arr; gnShift: Arr; film?: Linear };

/** The semantic (vision-language) expert: prefix embeddings and its layer stack. */
export type SemanticParams = {
  /** The convolutional stem's layers, when the config has one (stem.ts). */
  stem?: ConvLayer[];
  /** [p*p*3, D_s] patch embedding (with a stem: [C_last, D_s], one feature cell per patch). */
  patchEmbed: Linear;
  /** [V, D_s] camera view embedding. */
  viewEmbed: Arr;
  /** [P, D_s] patch position embedding (P patches per view). */
  patchPos: Arr;
  /** [vocab, D_s] token embedding. */
  tokenEmbed: Arr;
  /** [L, D_s] token position embedding. */
  tokenPos: Arr;
  layers: LayerParams[];
  /** With `aimWeight`: the aim readout (a query [h, d] per head over the last layer's prefix keys/values; [h d, 3] to the aim). */
  aim?: AimParams;
};

/** The aim head (config.aimWeight): one learned query per attention head, and the map of the pooled values to the 3-d aim. */
export type AimParams = { query: Arr; out: Linear };

/** The action expert: state/action/time embeddings, its layer stack, and the velocity head. */
export type ActionParams = {
  /** [2 * 60, D_a]: [state * mask, mask] -> the state token. */
  stateIn: Linear;
  /** [60, D_a]: noisy action chunk rows -> action tokens. */
  actionIn: Linear;
  /** [2 * D_a, D_a]: [action token, time embedding] mixing MLP, first layer. */
  timeMlpIn: Linear;
  /** [D_a, D_a]: mixing MLP, second layer. */
  timeMlpOut: Linear;
  /** [H, D_a] action position embedding. */
  actionPos: Arr;
  layers: LayerParams[];
  /** [D_a] final RMSNorm scale. */
  finalNorm: Arr;
  /** [D_a, 60] velocity head. */
  actionOut: Linear;
};

/** All parameters of the MoT VLA. */
export type Params = { semantic: SemanticParams; action: ActionParams };

/** A tree of shapes mirroring Params. */
export type ShapeTree = { [key: string]: number[] | ShapeTree | ShapeTree[] };

function layerShapes(d: number, f: number, inner: number): ShapeTree {
  return {
    attnNorm: [d],
    attn: { wq: [d, inner], wk: [d, inner], wv: [d, inner], wo: [inner, d] },
    mlpNorm: [d],
    mlp: { wGate: [d, f], wUp: [d, f], wDown: [f, d] },
  };
}

/** The shape of every parameter, as a tree mirroring `Params`. */
export function paramShapes(c: ModelConfig): { semantic: ShapeTree; action: ShapeTree } {
  const inner = c.numHeads * c.headDim;
  const ds = c.semanticWidth;
  const da = c.actionWidth;
  const a = c.actionDim;
  const layers = (d: number, f: number) => Array.from({ length: c.depth }, () => layerShapes(d, f, inner));
  const stem = c.stemChannels?.map((out, i) => {
    const fanIn = i === 0 ? stemPatch(c) ** 2 * 3 : 9 * c.stemChannels![i - 1];
    return { w: [fanIn, out], b: [out], gnScale: [out], gnShift: [out], ...(c.stemFilm ? { film: { w: [c.semanticWidth, 2 * out], b: [2 * out] } } : {}) };
  });
  const patchIn = stem ? c.stemChannels![c.stemChannels!.length - 1] : c.patchSize * c.patchSize * 3;
  return {
    semantic: {
      ...(stem ? { stem } : {}),
      patchEmbed: { w: [patchIn, ds], b: [ds] },
      viewEmbed: [c.maxViews, ds],
      patchPos: [patchesPerView(c), ds],
      tokenEmbed: [c.vocabSize, ds],
      tokenPos: [c.maxTokens, ds],
      layers: layers(ds, c.semanticMlpDim),
      ...(c.aimWeight ? { aim: { query: [c.numHeads, c.headDim], out: { w: [inner, 3], b: [3] } } } : {}),
    },
    action: {
      stateIn: { w: [2 * a, da], b: [da] },
      actionIn: { w: [a, da], b: [da] },
      timeMlpIn: { w: [2 * da, da], b: [da] },
      timeMlpOut: { w: [da, da], b: [da] },
      actionPos: [c.actionHorizon, da],
      layers: layers(da, c.actionMlpDim),
      finalNorm: [da],
      actionOut: { w: [da, a], b: [a] },
    },
  };
}

/** Visits every leaf of a shape tree with its dotted name, in a fixed order. */
export function walkShapes(tree: ShapeTree | ShapeTree[], prefix: string, visit: (name: string, shape: number[]) => void): void {
  const entries: [string, unknown][] = Array.isArray(tree) ? tree.map((t, i) => [String(i), t]) : Object.entries(tree);
  for (const [k, v] of entries) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number')) visit(name, v as number[]);
    else walkShapes(v as ShapeTree | ShapeTree[], name, visit);
  }
}

/** Dotted name and shape of every parameter, e.g. ["semantic.layers.0.attn.wq", [64, 32]]. */
export function paramSpecs(c: ModelConfig): [string, number[]][] {
  const out: [string, number[]][] = [];
  walkShapes(paramShapes(c) as unknown as ShapeTree, '', (n, s) => out.push([n, s]));
  return out;
}

/** Parameter counts per expert, computed from shapes (nothing is allocated). */
export function paramCounts(c: ModelConfig): { semantic: number; action: number; total: number } {
  let semantic = 0;
  let action = 0;
  for (const [name, shape] of paramSpecs(c)) {
    const n = shape.reduce((x, y) => x * y, 1);
    if (name.startsWith('semantic.')) semantic += n;
    else action += n;
  }
  return { semantic, action, total: semantic + action };
}

const EMBEDDINGS = new Set(['viewEmbed', 'patchPos', 'tokenEmbed', 'tokenPos', 'actionPos']);

/** The initial value of one parameter, by its name's role (norms 1, biases 0, weights ~ N(0, 1/fan_in)). */
function initLeaf(name: string, shape: number[], c: ModelConfig, rng: Rng): Float32Array<ArrayBuffer> {
  const n = shape.reduce((x, y) => x * y, 1);
  const out = new Float32Array(n);
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (leaf === 'attnNorm' || leaf === 'mlpNorm' || leaf === 'finalNorm' || leaf === 'gnScale') return out.fill(1);
  if (leaf === 'b' || leaf === 'gnShift') return out;
  if (name.includes('.film.')) return out; // FiLM starts as the identity: gamma = beta = 0
  let std = EMBEDDINGS.has(leaf) || name === 'semantic.aim.query' ? 0.02 : 1 / Math.sqrt(shape[0]);
  // residual-branch outputs scaled down so the residual stream's variance stays O(1) with depth
  if (leaf === 'wo' || leaf === 'wDown') std /= Math.sqrt(2 * c.depth);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

/** Builds a Params tree from a function giving each named parameter's data. */
export function buildParams(c: ModelConfig, data: (name: string, shape: number[]) => Float32Array<ArrayBuffer>): Params {
  const build = (tree: ShapeTree | ShapeTree[], prefix: string): unknown => {
    if (Array.isArray(tree)) return tree.map((t, i) => build(t, `${prefix}.${i}`));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree)) {
      const name = prefix ? `${prefix}.${k}` : k;
      if (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number')) {
        const shape = v as number[];
        out[k] = np.array(data(name, shape)).reshape(shape);
      } else out[k] = build(v as ShapeTree | ShapeTree[], name);
    }
    return out;
  };
  return build(paramShapes(c) as unknown as ShapeTree, '') as Params;
}

/** Fresh parameters for `config`, deterministic in `seed`. */
export function initParams(config: ModelConfig, seed: number): Params {
  validateConfig(config);
  const rng = new Rng(seed);
  const aimRng = new Rng(seed ^ 0x41494d); // the aim head's own stream: every other parameter starts as it would without it
  return buildParams(config, (name, shape) => initLeaf(name, shape, config, name.startsWith('semantic.aim.') ? aimRng : rng));
}

/** Every [name, array] pair of a Params tree (arrays not ref'ed: the caller must not consume them). */
export function namedLeaves(params: Params): [string, Arr][] {
  const out: [string, Arr][] = [];
  const walk = (node: unknown, prefix: string) => {
    if (node instanceof np.Array) out.push([prefix, node]);
    else if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${prefix}.${i}`));
    else for (const [k, v] of Object.entries(node as object)) walk(v, prefix ? `${prefix}.${k}` : k);
  };
  walk(params, '');
  return out;
}
