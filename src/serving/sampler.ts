/**
 * Action-chunk sampling on either engine. The policy program (prefix cache once, then N Euler
 * steps: the model's `eulerCached`) is traced with the trained weights baked in as initializers, so
 * the same ONNX model serves requests here and is what `vlalab export --onnx` writes. The noise
 * x0 is drawn on the host from the request's key exactly as `sampleActions` draws it.
 *
 * Program signature (B observations, V views, S side, L tokens, H horizon, A = 60):
 *   images [B, V, S, S, 3] f32 in [-1, 1], image_mask [B, V] f32, tokens [B, L] i32, token_mask [B, L] f32,
 *   state [B, A] f32 (normalized unified), state_mask [B, A] f32, action_mask [B, A] f32, noise [B, H, A] f32
 *   -> actions [B, H, A] f32 (normalized unified; masked dims 0)
 */
import { chooseEngine, type EngineName, type Program, ProgramSession, traceProgram, type ValueInfo } from '../engine/index.ts';
import { chunkNoise, eulerCached, type ModelConfig, type Observation, type Params, sampleActions, validateObservation, numpy as np, random, tree } from '../model/index.ts';

type Arr = np.Array;

/** Input names of the policy program, in order (the Observation fields, then the noise). */
export const POLICY_INPUTS = ['images', 'image_mask', 'tokens', 'token_mask', 'state', 'state_mask', 'action_mask', 'noise'] as const;
const OBS_FIELDS = ['images', 'imageMask', 'tokens', 'tokenMask', 'state', 'stateMask', 'actionMask'] as const;

/** The policy program's inputs and output with their dtypes and static shapes, for batch size `batch`. */
export function policySignature(c: ModelConfig, batch: number): ValueInfo[] {
  const [b, v, s, l, h, a] = [batch, c.maxViews, c.imageSize, c.maxTokens, c.actionHorizon, c.actionDim];
  const f = (name: string, dims: number[]): ValueInfo => ({ name, dtype: 'float32', dims });
  return [
    f('images', [b, v, s, s, 3]), f('image_mask', [b, v]), { name: 'tokens', dtype: 'int32', dims: [b, l] }, f('token_mask', [b, l]),
    f('state', [b, a]), f('state_mask', [b, a]), f('action_mask', [b, a]), f('noise', [b, h, a]), f('actions', [b, h, a]),
  ];
}

/** Samples normalized unified chunks [B, H, A] (flattened) for a batch of observations, with noise from `seed`. */
export type ChunkSampler = {
  readonly engine: EngineName;
  sample(obs: Observation, seed: number): Promise<Float32Array>;
  release(): Promise<void>;
};

/**
 * The policy program for batch size `batch`: `eulerCached` with `params` (not consumed) as constants.
 * `metadata` goes into the model's metadata_props.
 */
export async function tracePolicyProgram(c: ModelConfig, params: Params, o: { steps: number; batch: number; metadata?: Record<string, string>; doc?: string }): Promise<Program> {
  const b = o.batch;
  const s = c.imageSize;
  const a = c.actionDim;
  const args: [Arr, Arr, Arr, Arr, Arr, Arr, Arr, Arr] = [
    np.zeros([b, c.maxViews, s, s, 3]), np.zeros([b, c.maxViews]), np.zeros([b, c.maxTokens], { dtype: np.int32 }), np.zeros([b, c.maxTokens]),
    np.zeros([b, a]), np.zeros([b, a]), np.zeros([b, a]), np.zeros([b, c.actionHorizon, a]),
  ];
  const fn = (images: Arr, imageMask: Arr, tokens: Arr, tokenMask: Arr, state: Arr, stateMask: Arr, actionMask: Arr, noise: Arr) =>
    eulerCached(c, o.steps, tree.ref(params), { images, imageMask, tokens, tokenMask }, { state, stateMask }, noise, actionMask.reshape([b, 1, a]));
  return traceProgram(fn, args, { name: 'vlalab-policy', inputNames: [...POLICY_INPUTS], outputNames: ['actions'], metadata: o.metadata, doc: o.doc });
}

/**
 * The noise of one request, [B, H, A], on the host: `sampleActions`'s own draw from random.key(seed),
 * times `scale` (below 1: sampling starts nearer the flow's centre, a lower "temperature").
 */
export async function requestNoise(c: ModelConfig, batch: number, seed: number, scale = 1): Promise<Float32Array> {
  const noise = (await chunkNoise(c, batch, random.key(seed)).data()) as Float32Array;
  if (scale !== 1) for (let i = 0; i < noise.length; i++) noise[i] *= scale;
  return noise;
}

/**
 * A sampler on `engine` (default ort, falling back to jax with `onNote` told why), `steps` Euler
 * steps per chunk (default the config's), its initial noise scaled by `noiseScale` (default 1).
 * `params` are not consumed (the jax engine keeps using them; the ort engine bakes them into its program).
 */
export async function createSampler(c: ModelConfig, params: Params, o: { engine?: EngineName; steps?: number; noiseScale?: number; onNote?: (line: string) => void } = {}): Promise<ChunkSampler> {
  const { engine, note } = await chooseEngine(o.engine);
  if (note) o.onNote?.(note);
  const steps = o.steps ?? c.sampleSteps;
  const scale = o.noiseScale ?? 1;
  if (engine === 'jax') {
    return {
      engine,
      sample: async (obs, seed) => sampleActions(c, params, obs, random.key(seed), { steps, noise: scale === 1 ? undefined : await requestNoise(c, validateObservation(c, obs), seed, scale) }),
      release: async () => {},
    };
  }
  const sessions = new Map<number, Promise<ProgramSession>>();
  const session = (b: number) => {
    let s = sessions.get(b);
    if (!s) {
      s = tracePolicyProgram(c, params, { steps, batch: b }).then((p) => ProgramSession.create(p.model, p.inputs, p.outputs));
      sessions.set(b, s);
    }
    return s;
  };
  // requests usually come with consecutive seeds: the next one's noise is drawn while this one runs
  let next: { seed: number; batch: number; noise: Promise<Float32Array> } | undefined;
  return {
    engine,
    async sample(obs, seed) {
      const b = validateObservation(c, obs);
      const sess = await session(b);
      const noise = await (next?.seed === seed && next.batch === b ? next.noise : requestNoise(c, b, seed, scale));
      const values = [...OBS_FIELDS.map((f, i) => sess.value(i, obs[f].data)), sess.value(OBS_FIELDS.length, noise)];
      const run = sess.run(values);
      next = { seed: seed + 1, batch: b, noise: requestNoise(c, b, seed + 1, scale) };
      const [actions] = await run;
      return actions.data as Float32Array;
    },
    async release() {
      for (const s of sessions.values()) await (await s).release();
      sessions.clear();
    },
  };
}
