/**
 * Model hyperparameters and the named config registry (`debug`, `quick`, `tiny`, `small`, `paper`).
 * Configs are frozen plain objects; `getConfig(name)` suggests the closest name on a typo.
 */
import { UNIFIED_DIM } from '../actions/index.ts';
import { UserError, unknownNameMessage } from '../util/index.ts';

/** GroupNorm groups of every stem layer (its channels are multiples of it). */
export const STEM_GROUPS = 4;

/** How flow time tau is drawn in training. */
export type TauDistribution = 'uniform' | 'beta';

/** Hyperparameters of the Mixture-of-Transformers VLA. */
export type ModelConfig = {
  /** Registry name (informational). */
  readonly name: string;
  /** Side of the square camera image in pixels (images are [S, S, 3] in [-1, 1]). */
  readonly imageSize: number;
  /** Side of a square patch in pixels; imageSize must be a multiple of it. */
  readonly patchSize: number;
  /** Number of camera view slots V; missing views are masked out of attention. */
  readonly maxViews: number;
  /** Instruction length L in tokens (padded; padding masked out). */
  readonly maxTokens: number;
  /** Tokenizer vocabulary size (a byte-level tokenizer: 256 bytes + specials). */
  readonly vocabSize: number;
  /** Transformer depth, shared by both experts. */
  readonly depth: number;
  /** Attention heads, shared by both experts. */
  readonly numHeads: number;
  /** Width of one attention head, shared by both experts. */
  readonly headDim: number;
  /** Semantic (vision-language) expert width D_s. */
  readonly semanticWidth: number;
  /** Semantic expert SwiGLU hidden width. */
  readonly semanticMlpDim: number;
  /** Action expert width D_a (< D_s). */
  readonly actionWidth: number;
  /** Action expert SwiGLU hidden width. */
  readonly actionMlpDim: number;
  /** Action chunk length H (action tokens per sample). */
  readonly actionHorizon: number;
  /** Unified action / state dimension (60, from actions/). */
  readonly actionDim: number;
  /** RMSNorm epsilon. */
  readonly normEps: number;
  /** Training distribution of flow time: U[0,1] (paper) or pi0's Beta(1.5, 1) on the noise side. */
  readonly tauDistribution: TauDistribution;
  /** Euler steps for sampling (paper: 10). */
  readonly sampleSteps: number;
  /**
   * A convolutional image stem (stem.ts): the output channels of its layers, each followed by
   * GroupNorm and SiLU: first a p0 x p0 patchify (p0 = patchSize / 2^(k-1), see `stemPatch`), then
   * k-1 3x3 stride-2 convolutions; the patch embedding then projects each feature cell. Absent:
   * the patch embedding projects raw patches (ViT), as every config before the stem did.
   */
  readonly stemChannels?: readonly number[];
  /**
   * FiLM conditioning of the stem on the instruction (as RT-1 conditions its image encoder): after
   * each stem layer's GroupNorm, features x become x (1 + gamma) + beta, with per-channel gamma and
   * beta a linear map of the instruction's mean token embedding (zero at initialization, so a fresh
   * model starts as the unconditioned stem). The named colour or object can then shape what the
   * image tokens carry before the transformer sees them. Needs `stemChannels`.
   */
  readonly stemFilm?: boolean;
  /**
   * Weight of the auxiliary aim loss (absent: no aim head). A learned query per head reads the
   * semantic expert's last-layer prefix keys/values and a linear map predicts where the end effector
   * will next close or open its gripper (the normalized EEF position at the demonstration's next
   * gripper event): the object the instruction picks, then the place it goes. It trains the prefix
   * to localize what the instruction names; the action expert never sees the head, and sampling
   * does not run it. Trains with the semantic expert only (not in stage 1 / frozen fine-tuning).
   */
  readonly aimWeight?: number;
};

const base = { actionDim: UNIFIED_DIM, normEps: 1e-6, tauDistribution: 'uniform', sampleSteps: 10 } as const;

/** debug's shapes, which mini and the debug-conv family share. */
const DEBUG = {
  ...base, imageSize: 64, patchSize: 16, maxViews: 2, maxTokens: 16, vocabSize: 260,
  depth: 2, numHeads: 2, headDim: 16, semanticWidth: 64, semanticMlpDim: 128, actionWidth: 32,
  actionMlpDim: 64, actionHorizon: 8,
} as const;

/** debug's transformer on the tokens of a convolutional stem (16, 32, 64 channels). */
const DEBUG_CONV = { ...DEBUG, stemChannels: Object.freeze([16, 32, 64]) } as const;

/** The named configs (in order of size: debug < debug-conv (-film, -96, -aim, -film-aim, -8-aim) < mini < quick < tiny < small; paper is shapes only). */
export const CONFIGS: Readonly<Record<string, ModelConfig>> = Object.freeze({
  // trains in seconds on CPU: 2 layers, 32 image patches, 16-token instructions
  debug: Object.freeze({ ...DEBUG, name: 'debug' }),
  // a language-conditioned suite on a laptop: debug's patching with 64-token instructions (suite
  // instructions run to ~60 bytes; shorter configs truncate away the words that tell tasks apart)
  mini: Object.freeze({ ...DEBUG, name: 'mini', maxTokens: 64 }),
  // the quickstart's policy: tiny's widths with 16px patches (32 image tokens instead of 128) and 3
  // layers; several times cheaper per step than tiny on a 2-core CPU
  quick: Object.freeze({
    ...base, name: 'quick', imageSize: 64, patchSize: 16, maxViews: 2, maxTokens: 16, vocabSize: 260,
    depth: 3, numHeads: 4, headDim: 32, semanticWidth: 128, semanticMlpDim: 384, actionWidth: 64,
    actionMlpDim: 192, actionHorizon: 16,
  }),
  // a multi-task suite on a laptop: debug's transformer on the tokens of a convolutional stem
  // (64 px views: a 4 px patchify, then two 3x3 stride-2 convs -> the 4x4 grid of debug's 16 px patches)
  'debug-conv': Object.freeze({ ...DEBUG_CONV, name: 'debug-conv' }),
  // debug-conv with the stem conditioned on the instruction (FiLM): for suites whose instructions
  // name one of several colours
  'debug-conv-film': Object.freeze({ ...DEBUG_CONV, name: 'debug-conv-film', stemFilm: true }),
  // debug-conv at 96 px: the patchify layer takes 6 px cells instead of 4 (108 inputs instead of 48),
  // so the stem's grid and the tokens stay the same while a cube spans ~5 px of the front view instead
  // of ~3; train it on recordings at 96 px (`sim record --size 96`)
  'debug-conv-96': Object.freeze({ ...DEBUG_CONV, name: 'debug-conv-96', imageSize: 96, patchSize: 24 }),
  // debug-conv with the aim head: an auxiliary loss that trains the prefix to localize where the
  // gripper will next close or open (the object the instruction picks, then its destination)
  'debug-conv-aim': Object.freeze({ ...DEBUG_CONV, name: 'debug-conv-aim', aimWeight: 0.1 }),
  // both: the stem conditioned on the instruction and the prefix trained to say where the gripper goes
  'debug-conv-film-aim': Object.freeze({ ...DEBUG_CONV, name: 'debug-conv-film-aim', stemFilm: true, aimWeight: 0.1 }),
  // debug-conv-aim on an 8 x 8 grid of tokens per view (8 px cells: a 4 px patchify, then one 3x3
  // stride-2 conv) instead of 4 x 4: 128 image tokens instead of 32, so cubes a few pixels apart
  // land in different tokens and each token carries one object's colour
  'debug-conv-8-aim': Object.freeze({ ...DEBUG_CONV, name: 'debug-conv-8-aim', patchSize: 8, stemChannels: Object.freeze([16, 64]), aimWeight: 0.1 }),
  tiny: Object.freeze({
    ...base, name: 'tiny', imageSize: 64, patchSize: 8, maxViews: 2, maxTokens: 32, vocabSize: 260,
    depth: 4, numHeads: 4, headDim: 32, semanticWidth: 128, semanticMlpDim: 384, actionWidth: 64,
    actionMlpDim: 192, actionHorizon: 16,
  }),
  small: Object.freeze({
    ...base, name: 'small', imageSize: 64, patchSize: 8, maxViews: 2, maxTokens: 32, vocabSize: 260,
    depth: 6, numHeads: 4, headDim: 64, semanticWidth: 256, semanticMlpDim: 768, actionWidth: 128,
    actionMlpDim: 384, actionHorizon: 16,
  }),
  // shapes only (parameter counts): InternVL-3.5-2B's LLM (Qwen3-1.7B: 28 layers, 16 heads x 128,
  // width 2048, SwiGLU 6144, vocab 151936); 448px views in 28px patches = InternVL's 256 tokens per
  // view after pixel shuffle (the ~0.3B InternViT encoder is not modelled: a linear patch embedding)
  paper: Object.freeze({
    ...base, name: 'paper', imageSize: 448, patchSize: 28, maxViews: 3, maxTokens: 48, vocabSize: 151936,
    depth: 28, numHeads: 16, headDim: 128, semanticWidth: 2048, semanticMlpDim: 6144, actionWidth: 1024,
    actionMlpDim: 5504, actionHorizon: 16,
  }),
});

/** Names in the registry. */
export const CONFIG_NAMES: readonly string[] = Object.keys(CONFIGS);

/** The named config; throws a UserError with a "did you mean" on an unknown name. */
export function getConfig(name: string): ModelConfig {
  const c = CONFIGS[name];
  if (!c) throw new UserError(unknownNameMessage('model config', name, CONFIG_NAMES));
  return c;
}

/** Image patches per view: (S / p)^2. */
export function patchesPerView(c: ModelConfig): number {
  return (c.imageSize / c.patchSize) ** 2;
}

/** Side of the stem's first (patchify) layer: patchSize / 2^(layers - 1). */
export function stemPatch(c: ModelConfig): number {
  return c.patchSize / 2 ** ((c.stemChannels?.length ?? 1) - 1);
}

/** Prefix length N_p = V * patches + L. */
export function prefixLength(c: ModelConfig): number {
  return c.maxViews * patchesPerView(c) + c.maxTokens;
}

/**
 * Sequence lengths are kept multiples of this: jax-js's wasm code generator vectorizes a matmul
 * (4-lane SIMD, tiled) only when the reduced and the output axes are multiples of 4, and is up to
 * 20x slower otherwise. The suffix is padded with masked dummy tokens to reach it; the prefix
 * (V * P + L tokens) should be a multiple of it too, as in every registry config.
 */
export const SEQ_ALIGN = 4;

/** Dummy tokens appended to the suffix so that Np + 1 + H + pad is a multiple of SEQ_ALIGN. */
export function suffixPadding(c: ModelConfig): number {
  return (SEQ_ALIGN - ((prefixLength(c) + 1 + c.actionHorizon) % SEQ_ALIGN)) % SEQ_ALIGN;
}

/** Checks a config's internal consistency; throws a UserError saying what to fix. */
export function validateConfig(c: ModelConfig): ModelConfig {
  const bad = (m: string) => new UserError(`model config "${c.name}": ${m}`);
  for (const k of ['imageSize', 'patchSize', 'maxViews', 'maxTokens', 'vocabSize', 'depth', 'numHeads', 'headDim',
    'semanticWidth', 'semanticMlpDim', 'actionWidth', 'actionMlpDim', 'actionHorizon', 'actionDim', 'sampleSteps'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw bad(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.imageSize % c.patchSize !== 0) throw bad(`imageSize ${c.imageSize} is not a multiple of patchSize ${c.patchSize}`);
  if (c.stemFilm && !c.stemChannels) throw bad('stemFilm conditions the convolutional stem: set stemChannels too (or drop stemFilm)');
  if (c.stemChannels) {
    const k = c.stemChannels.length;
    if (k < 1 || !Number.isInteger(stemPatch(c)) || stemPatch(c) < 1) throw bad(`stemChannels: ${k} layers halve patchSize ${c.patchSize} ${k - 1} times after the patchify layer, which needs patchSize / 2^${k - 1} to be a whole number of pixels`);
    for (const ch of c.stemChannels) if (!Number.isInteger(ch) || ch < 1 || ch % STEM_GROUPS !== 0) throw bad(`stem channels must be positive multiples of ${STEM_GROUPS} (GroupNorm groups), got ${ch}`);
  }
  if (c.actionWidth % 2 !== 0) throw bad(`actionWidth ${c.actionWidth} must be even (sinusoidal time embedding)`);
  if (c.actionDim !== UNIFIED_DIM) throw bad(`actionDim must be the unified dimension ${UNIFIED_DIM}, got ${c.actionDim}`);
  if (!(c.normEps > 0)) throw bad(`normEps must be > 0`);
  if (c.tauDistribution !== 'uniform' && c.tauDistribution !== 'beta') throw bad(`tauDistribution must be "uniform" or "beta"`);
  if (c.aimWeight !== undefined && !(c.aimWeight > 0 && Number.isFinite(c.aimWeight))) throw bad(`aimWeight must be a positive number (or absent: no aim head), got ${c.aimWeight}`);
  return c;
}
