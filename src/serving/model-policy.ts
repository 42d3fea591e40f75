/**
 * A model checkpoint as a servable Policy: wire observation -> normalized unified model batch ->
 * sampled chunk -> native absolute actions.
 *
 *   images  u8 [H, W, 3] per view -> area-resized to [S, S, 3], scaled to [-1, 1]; missing views masked
 *   prompt  -> tokenize -> first L ids, padded, with a token mask
 *   state   native [S_e] -> unified [60] -> normalized (state normalizer)
 *   chunk   normalized unified [H, 60] -> unnormalized (action normalizer) -> decoded from the
 *           model's parameterization against the unified state (EEF modes) -> native [H, D]
 *
 * Axes: H horizon, A = 60 unified dims, D native action dims, V views, S model image side.
 */
import { actionFromUnified, decodeChunk, slot, stateToUnified, UNIFIED_DIM } from '../actions/index.ts';
import type { EngineName } from '../engine/index.ts';
import { aimPoints, type Observation, type PolicyCore, syntheticBatch } from '../model/index.ts';
import { areaResizeRgb, check } from '../util/index.ts';
import type { NdArray } from './msgpack-numpy.ts';
import { LIBERO_KEYS, observationParser, type ObservationSpec, type PolicyObservation } from './observation.ts';
import { metadataFor, type Policy } from './policy.ts';
import { type ChunkSampler, createSampler } from './sampler.ts';

/** A model with its transforms (a training run provides these) and how to serve it. */
export type ModelPolicyParts = PolicyCore & {
  /** wire image keys in view order (default: observation/image, observation/wrist_image) */
  imageKeys?: readonly string[];
  /** instruction used when a request has no (or an empty) "prompt"; without it "prompt" is required */
  defaultPrompt?: string;
  /** Euler steps (default config.sampleSteps) */
  steps?: number;
  /** seed of the per-request noise keys (request i uses seed + i) */
  seed?: number;
  /** extra metadata fields (model name, checkpoint step, ...) */
  extraMetadata?: Record<string, unknown>;
  /** the engine that samples (default ort; jax when onnxruntime-node cannot load) */
  engine?: EngineName;
  /** a sampler to share between policies of the same weights (default: one made on first request) */
  sampler?: Promise<ChunkSampler>;
  /** told once why the requested engine is not the one used */
  onNote?: (line: string) => void;
};

/** An RGB u8 wire image resized to the model's [s, s, 3] in [-1, 1] (see util's areaResizeRgb). */
export function resizeToModel(img: NdArray, s: number, out: Float32Array, offset: number): void {
  const [h, w] = img.shape;
  areaResizeRgb(img.data as Uint8Array, h, w, s, out, offset);
}

/** The model batch (B = 1) for one validated observation; `unifiedState` is the raw unified state. */
export function observationToBatch(p: ModelPolicyParts, imageKeys: readonly string[], obs: PolicyObservation): { batch: Observation; unifiedState: Float64Array } {
  const c = p.config;
  const s = c.imageSize;
  const images = new Float32Array(c.maxViews * s * s * 3); // [1, V, S, S, 3]
  const imageMask = new Float32Array(c.maxViews); // [1, V]
  imageKeys.forEach((k, v) => {
    const img = obs.images[k];
    if (img === undefined) return;
    resizeToModel(img, s, images, v * s * s * 3);
    imageMask[v] = 1;
  });
  const ids = p.tokenize(obs.prompt);
  const tokens = new Int32Array(c.maxTokens); // [1, L]
  const tokenMask = new Float32Array(c.maxTokens); // [1, L]
  for (let t = 0; t < Math.min(ids.length, c.maxTokens); t++) {
    tokens[t] = ids[t];
    tokenMask[t] = 1;
  }
  const unifiedState = stateToUnified(p.embodiment, obs.state); // [A]
  const batch: Observation = {
    images: { data: images, shape: [1, c.maxViews, s, s, 3] },
    imageMask: { data: imageMask, shape: [1, c.maxViews] },
    tokens: { data: tokens, shape: [1, c.maxTokens] },
    tokenMask: { data: tokenMask, shape: [1, c.maxTokens] },
    state: { data: Float32Array.from(p.stateNormalizer.normalize(unifiedState)), shape: [1, UNIFIED_DIM] },
    stateMask: { data: Float32Array.from(p.embodiment.stateMask), shape: [1, UNIFIED_DIM] },
    actionMask: { data: Float32Array.from(p.embodiment.actionMask), shape: [1, UNIFIED_DIM] },
  };
  return { batch, unifiedState };
}

/** Normalized unified chunk [H * A] -> native absolute actions [H * D]. */
export function chunkToNative(p: ModelPolicyParts, sampled: Float32Array, unifiedState: Float64Array): Float32Array {
  const h = p.config.actionHorizon;
  const a = p.config.actionDim;
  const rows = Array.from({ length: h }, (_, t) => p.actionNormalizers[t].unnormalize(sampled.subarray(t * a, (t + 1) * a))); // [H][A]
  const absolute = p.parameterization === 'absolute' ? rows : decodeChunk(p.embodiment, p.parameterization, unifiedState, rows);
  const d = p.embodiment.actionNames.length;
  const out = new Float32Array(h * d); // [H, D]
  absolute.forEach((row, t) => out.set(actionFromUnified(p.embodiment, row), t * d));
  return out;
}

/** A model's Policy, and where its aim head points. */
export type ModelPolicy = Policy & {
  /**
   * Where the aim head (config.aimWeight) says the end effector will next close or open its gripper,
   * for one wire observation: the unified EEF position [3] (the native eef_x/y/z of a one-arm EEF
   * embodiment; world frame in the simulator), the head's normalized output through the state
   * normalizer's inverse, as training normalized its targets. A probe of whether the prefix
   * localizes what the instruction names; runs on jax-js, whatever engine samples.
   */
  aim(observation: unknown): Promise<Float64Array>;
};

/** Wraps a model and its training-time transforms as a Policy (one request at a time). */
export function makeModelPolicy(p: ModelPolicyParts): ModelPolicy {
  const c = p.config;
  check(p.config.actionDim === UNIFIED_DIM, `model config "${c.name}" has actionDim ${c.actionDim}; serving needs the unified ${UNIFIED_DIM}`);
  const imageKeys = p.imageKeys ?? [LIBERO_KEYS.image, LIBERO_KEYS.wristImage];
  check(imageKeys.length >= 1 && imageKeys.length <= c.maxViews, `model "${c.name}" takes 1..${c.maxViews} views; got image keys ${imageKeys.join(', ')}`);
  const spec: ObservationSpec = {
    imageKeys,
    optionalImageKeys: imageKeys.slice(1),
    stateKey: LIBERO_KEYS.state,
    stateDim: p.embodiment.stateNames.length,
    promptRequired: p.defaultPrompt === undefined,
  };
  const parse = observationParser(spec);
  const d = p.embodiment.actionNames.length;
  const metadata = metadataFor(spec, {
    embodiment: p.embodiment.name,
    actionHorizon: c.actionHorizon,
    actionDim: d,
    parameterization: 'absolute',
    extra: { ...p.extraMetadata, model: c.name, model_parameterization: p.parameterization, action_names: [...p.embodiment.actionNames], state_names: [...p.embodiment.stateNames] },
  });
  // a request's observation, with the default prompt where it has none
  const prompted = (raw: unknown) => {
    const parsed = parse(raw);
    return parsed.prompt === '' && p.defaultPrompt !== undefined ? { ...parsed, prompt: p.defaultPrompt } : parsed;
  };
  let requests = 0;
  let sampler = p.sampler;
  const getSampler = () => (sampler ??= createSampler(c, p.params, { engine: p.engine, steps: p.steps, onNote: p.onNote }));
  return {
    metadata,
    async warmup() {
      await (await getSampler()).sample(syntheticBatch(c, 1, 0), 0);
    },
    async infer(raw) {
      const { batch, unifiedState } = observationToBatch(p, imageKeys, prompted(raw));
      const sampled = await (await getSampler()).sample(batch, (p.seed ?? 0) + requests++); // [1, H, A]
      return { actions: chunkToNative(p, sampled, unifiedState), shape: [c.actionHorizon, d] };
    },
    async aim(raw) {
      const { batch } = observationToBatch(p, imageKeys, prompted(raw));
      const normalized = new Float64Array(UNIFIED_DIM);
      const eef = slot('eef.right').offset;
      normalized.set(await aimPoints(c, p.params, batch), eef);
      return p.stateNormalizer.unnormalize(normalized).slice(eef, eef + 3);
    },
  };
}
