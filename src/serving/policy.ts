/**
 * What the server serves: a policy with metadata and an async `infer`. A model checkpoint, a
 * remote policy or the deterministic test policies below all fit it.
 */
import { UserError, unknownNameMessage } from '../util/index.ts';
import { ndarray, f32 } from './msgpack-numpy.ts';
import { LIBERO_KEYS, type ObservationSpec, observationParser, type PolicyObservation } from './observation.ts';

/** Sent to every client on connect (msgpack, snake_case keys for Python clients). */
export type PolicyMetadata = {
  /** embodiment name, e.g. "panda7" */
  embodiment: string;
  /** H: actions per chunk */
  action_horizon: number;
  /** D: native action dimension */
  action_dim: number;
  /** how the returned actions are expressed; served actions are always native absolute */
  parameterization: string;
  /** keys the server reads from each observation */
  observation_keys: string[];
  /** length of "observation/state" */
  state_dim: number;
  /** free-form extras (model name, checkpoint step, ...) */
  [key: string]: unknown;
};

/** One inference: an action chunk, row-major [H, D] float32, plus optional extra reply fields. */
export type PolicyOutput = { actions: Float32Array; shape: [number, number]; extra?: Record<string, unknown> };

/** A servable policy. `infer` throws a UserError for an observation it cannot use. */
export type Policy = {
  readonly metadata: PolicyMetadata;
  /** decoded request frame -> chunk; must not keep references to other requests' data */
  infer(observation: unknown): Promise<PolicyOutput>;
  /** prepares whatever the first request would otherwise wait for (tracing, sessions) */
  warmup?(): Promise<void>;
};

/** Metadata for a spec, with the observation keys listed in the order the spec names them. */
export function metadataFor(spec: ObservationSpec, m: { embodiment: string; actionHorizon: number; actionDim: number; parameterization: string; extra?: Record<string, unknown> }): PolicyMetadata {
  return {
    ...m.extra,
    embodiment: m.embodiment,
    action_horizon: m.actionHorizon,
    action_dim: m.actionDim,
    parameterization: m.parameterization,
    observation_keys: [...spec.imageKeys, spec.stateKey, LIBERO_KEYS.prompt],
    state_dim: spec.stateDim,
  };
}

/** Options of the test policies. */
export type TestPolicyOptions = {
  /** state length S (default 8, panda7's native state) */
  stateDim?: number;
  /** H (default 10) */
  actionHorizon?: number;
  /** D (default 8) */
  actionDim?: number;
  /** simulated inference time per request, ms (default 0) */
  delayMs?: number;
};

/** Names of the built-in test policies. */
export const TEST_POLICY_NAMES = ['echo', 'zero'] as const;

/** A built-in test policy name. */
export type TestPolicyName = (typeof TEST_POLICY_NAMES)[number];

/** The default observation spec of the test policies: LIBERO keys, wrist image optional. */
export function testObservationSpec(stateDim = 8): ObservationSpec {
  return { imageKeys: [LIBERO_KEYS.image, LIBERO_KEYS.wristImage], optionalImageKeys: [LIBERO_KEYS.wristImage], stateKey: LIBERO_KEYS.state, stateDim, promptRequired: false };
}

/**
 * The echo chunk, the answer a client can check it got for its own request:
 *   actions[h, d] = state[d mod S] + 0.01 h + image[0, 0, 0] / 255 + 0.001 len(prompt)
 */
export function echoChunk(obs: PolicyObservation, horizon: number, dim: number): Float32Array {
  const img = obs.images[LIBERO_KEYS.image];
  const pixel = img ? Number(img.data[0]) / 255 : 0;
  const out = new Float32Array(horizon * dim); // [H, D]
  for (let h = 0; h < horizon; h++) {
    for (let d = 0; d < dim; d++) out[h * dim + d] = obs.state[d % obs.state.length] + 0.01 * h + pixel + 0.001 * obs.prompt.length;
  }
  return out;
}

/**
 * A deterministic policy for plumbing tests: "echo" returns `echoChunk` (so every client can
 * verify its own answer), "zero" returns zeros. Both validate observations like a real policy.
 */
export function makeTestPolicy(name: string, options: TestPolicyOptions = {}): Policy {
  if (!(TEST_POLICY_NAMES as readonly string[]).includes(name)) throw new UserError(unknownNameMessage('test policy', name, TEST_POLICY_NAMES));
  const { stateDim = 8, actionHorizon = 10, actionDim = 8, delayMs = 0 } = options;
  const spec = testObservationSpec(stateDim);
  const parse = observationParser(spec);
  const metadata = metadataFor(spec, { embodiment: 'test', actionHorizon, actionDim, parameterization: 'absolute', extra: { policy: name } });
  return {
    metadata,
    async infer(raw) {
      const obs = parse(raw);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const actions = name === 'echo' ? echoChunk(obs, actionHorizon, actionDim) : new Float32Array(actionHorizon * actionDim);
      return { actions, shape: [actionHorizon, actionDim] };
    },
  };
}

/**
 * A LIBERO-style observation for the test policies: a side x side RGB image filled with `pixel`
 * (wrist image too, when `wrist`), the given state as float32, and the prompt.
 */
export function testObservation(state: ArrayLike<number>, options: { pixel?: number; prompt?: string; side?: number; wrist?: boolean } = {}): Record<string, unknown> {
  const { pixel = 0, prompt = 'pick up the cube', side = 224, wrist = true } = options;
  const image = () => ndarray('|u1', [side, side, 3], new Uint8Array(side * side * 3).fill(pixel)); // [S, S, 3]
  return {
    [LIBERO_KEYS.image]: image(),
    ...(wrist ? { [LIBERO_KEYS.wristImage]: image() } : {}),
    [LIBERO_KEYS.state]: f32([state.length], Float32Array.from(state)),
    [LIBERO_KEYS.prompt]: prompt,
  };
}
