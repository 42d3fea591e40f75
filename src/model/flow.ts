/**
 * Flow matching [paper eq. 2] on the MoT: the masked training loss, its gradient (full, or with a
 * frozen semantic expert through the prefix cache), and Euler sampling of an action chunk.
 *
 * x_tau = (1 - tau) x0 + tau x1, x0 ~ N(0, I), x1 the normalized action chunk; the model predicts
 * the velocity, target x1 - x0; sampling integrates dx/dtau = v from tau = 0 (noise) to 1 (data).
 * Dims outside the embodiment's action mask are zeroed in x_tau, in the target and in the output,
 * so they cannot influence anything.
 *
 * Axes: B batch, H horizon, A = 60 unified dims.
 */
import { jit, numpy as np, random, tree, valueAndGrad } from './backend.ts';
import type { ModelConfig, TauDistribution } from './config.ts';
import { type Batch, type Observation, actionsToDevice, aimToDevice, observationToDevice, validateBatch, validateObservation } from './batch.ts';
import { aimReadout, type PrefixCache, type PrefixInputs, type StateInputs, prefixCache, stateCache, velocityActions, velocityCached, velocityJoint } from './mot.ts';
import type { ActionParams, Params, SemanticParams } from './params.ts';
import { UserError } from '../util/index.ts';

type Arr = np.Array;

/** Shape parameter a of pi0's Beta(a, 1) time distribution. */
const BETA_A = 1.5;

/** The noisy chunk and its target: x_tau = (1 - tau) x0 + tau x1, target x1 - x0, both masked. */
function interpolate(x1: Arr, x0: Arr, tau: Arr, mask: Arr): [Arr, Arr] {
  const m = mask.reshape([mask.shape[0], 1, -1]); // [B, 1, A]
  const t = tau.reshape([-1, 1, 1]); // [B, 1, 1]
  const a1 = x1.mul(m.ref); // [B, H, A]
  const a0 = x0.mul(m);
  const xt = a0.ref.mul(t.ref.neg().add(1)).add(a1.ref.mul(t));
  return [xt, a1.sub(a0)];
}

/** Mean squared error over the used dims: sum(m (v - u)^2) / (H sum(m)). v, u [B, H, A], mask [B, A]. */
function maskedMse(v: Arr, target: Arr, mask: Arr): Arr {
  const h = v.shape[1];
  const m = mask.reshape([mask.shape[0], 1, -1]); // [B, 1, A]
  const err = np.square(v.sub(target)).mul(m.ref).sum(); // scalar
  return err.div(m.sum().mul(h));
}

/** Aim targets on device: target [B, 3] (normalized EEF position at the next gripper event), mask [B] (1 = the sample has one). */
export type AimTargets = { target: Arr; mask: Arr };

/** Mean squared error of the aim over the samples that have one: sum(m |p - t|^2) / (3 max(sum(m), 1)). pred [B, 3]. */
function aimError(pred: Arr, aim: AimTargets): Arr {
  const m = aim.mask.reshape([-1, 1]); // [B, 1]
  const err = np.square(pred.sub(aim.target)).mul(m.ref).sum();
  return err.div(np.maximum(m.sum(), 1).mul(3));
}

/**
 * Flow-matching loss through the MoT, both experts trained. Evaluated as prefix keys/values (with
 * gradients) + the action expert attending to them: the same function as `velocityJoint`'s one
 * block-masked attention (prefix queries never see the suffix), without its prefix-to-suffix block.
 * With an aim head and targets, [flow + aimWeight x aim error, aim error] (read from the same
 * prefix); without, [flow].
 */
function lossJoint(c: ModelConfig, params: Params, pre: PrefixInputs, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr, aim?: AimTargets): [Arr] | [Arr, Arr] {
  const [xt, target] = interpolate(x1, x0, tau.ref, mask.ref);
  const { aim: head, ...semantic } = params.semantic;
  const cache = prefixCache(c, semantic, pre);
  const aimed = head && aim ? aimError(aimReadout(c, head, cache), aim) : undefined;
  if (!aimed) tree.dispose([head ?? [], aim ?? []]);
  const flow = maskedMse(velocityCached(c, params.action, cache, st, xt, tau), target, mask);
  return aimed ? [flow.add(aimed.ref.mul(c.aimWeight ?? 0)), aimed] : [flow];
}

/** Flow-matching loss of the action expert given a (constant) prefix cache. */
function lossCached(c: ModelConfig, act: ActionParams, cache: PrefixCache, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr): Arr {
  const [xt, target] = interpolate(x1, x0, tau.ref, mask.ref);
  const v = velocityCached(c, act, cache, st, xt, tau);
  return maskedMse(v, target, mask);
}

/**
 * Loss and gradients w.r.t. both experts (not jitted: jit it, or trace it for another engine).
 * Consumes everything. -> [loss (scalar), grads shaped like params], and with an aim head and
 * targets the aim error (scalar, unweighted: the part of the loss the head is fitted on).
 */
export function flowLossGrad(c: ModelConfig, p: Params, pre: PrefixInputs, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr, aim?: AimTargets): [Arr, Params] | [Arr, Params, Arr] {
  const loss = (pp: Params) => lossJoint(c, pp, pre, st, mask, x1, x0, tau, aim);
  if (!aim || !p.semantic.aim) return valueAndGrad((pp: Params) => loss(pp)[0])(p) as [Arr, Params];
  const [[total, aimed], grads] = valueAndGrad(loss as (pp: Params) => [Arr, Arr], { hasAux: true })(p) as [[Arr, Arr], Params];
  return [total, grads, aimed];
}

/**
 * Loss and gradients w.r.t. the action expert with the semantic expert frozen: its prefix cache runs
 * forward only (not jitted). Consumes everything. -> [loss, action grads].
 */
export function flowLossGradFrozen(c: ModelConfig, p: Params, pre: PrefixInputs, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr): [Arr, ActionParams] {
  const cache = prefixCache(c, p.semantic, pre);
  return valueAndGrad((aa: ActionParams) => lossCached(c, aa, cache, st, mask, x1, x0, tau))(p.action) as [Arr, ActionParams];
}

/** The jitted functions of one config (compiled per input shape on first use). */
type ModelFns = {
  lossGrad: (p: Params, pre: PrefixInputs, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr) => [Arr, Params];
  lossGradAim: (p: Params, pre: PrefixInputs, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr, aim: AimTargets) => [Arr, Params, Arr];
  lossGradCached: (a: ActionParams, cache: PrefixCache, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr) => [Arr, ActionParams];
  prefix: (s: SemanticParams, pre: PrefixInputs) => PrefixCache;
  /** The aim head's prediction [B, 3] from the prefix (a config with an aim head). */
  aim: (s: SemanticParams, pre: PrefixInputs) => Arr;
  velocity: (p: Params, pre: PrefixInputs, st: StateInputs, xt: Arr, tau: Arr) => Arr;
  /** Noise x0 [B, H, A] and flow times tau [B] from one key, as one program. */
  draws: (batch: number, dist: TauDistribution) => (key: Arr) => [Arr, Arr];
  /** The whole cached sampler (prefix once, then `steps` Euler steps) as one program: x0 [B, H, A], mask [B, 1, A]. */
  eulerCached: (steps: number) => (p: Params, pre: PrefixInputs, st: StateInputs, x0: Arr, mask: Arr) => Arr;
};

/**
 * Euler integration with the prefix and state-token cache: x <- x + m v(x, i / N) / N for i < N,
 * from x = m x0, each step running only the action tokens. Traceable (jitted by `modelFns`);
 * consumes everything.
 */
export function eulerCached(c: ModelConfig, steps: number, p: Params, pre: PrefixInputs, st: StateInputs, x0: Arr, mask: Arr): Arr {
  const b = x0.shape[0];
  const cache = stateCache(c, tree.ref({ stateIn: p.action.stateIn, layers: p.action.layers }), prefixCache(c, p.semantic, pre), st);
  let x = x0.mul(mask.ref); // [B, H, A]
  for (let i = 0; i < steps; i++) {
    const v = velocityActions(c, tree.ref(p.action), tree.ref(cache), x.ref, np.full([b], i / steps));
    x = x.add(v.mul(mask.ref).mul(1 / steps));
  }
  tree.dispose([cache, mask, p.action]);
  return x;
}

const FNS = new Map<string, ModelFns>();

/** The memoized jitted functions for config `c`. */
function modelFns(c: ModelConfig): ModelFns {
  const key = JSON.stringify(c);
  let f = FNS.get(key);
  if (f) return f;
  const samplers = new Map<number, ReturnType<ModelFns['eulerCached']>>();
  const drawFns = new Map<string, ReturnType<ModelFns['draws']>>();
  f = {
    draws: (batch: number, dist: TauDistribution) => {
      let g = drawFns.get(`${batch}:${dist}`);
      if (!g) {
        g = jit((key: Arr) => {
          const [kNoise, kTau] = random.split(key, 2);
          return [random.normal(kNoise, [batch, c.actionHorizon, c.actionDim]), sampleTau(kTau, batch, dist)];
        }) as unknown as ReturnType<ModelFns['draws']>;
        drawFns.set(`${batch}:${dist}`, g);
      }
      return g;
    },
    eulerCached: (steps: number) => {
      let g = samplers.get(steps);
      if (!g) samplers.set(steps, (g = jit((p: Params, pre: PrefixInputs, st: StateInputs, x0: Arr, mask: Arr) => eulerCached(c, steps, p, pre, st, x0, mask))));
      return g;
    },
    lossGrad: jit((p: Params, pre: PrefixInputs, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr) =>
      flowLossGrad(c, p, pre, st, mask, x1, x0, tau)) as ModelFns['lossGrad'],
    lossGradAim: jit((p: Params, pre: PrefixInputs, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr, aim: AimTargets) =>
      flowLossGrad(c, p, pre, st, mask, x1, x0, tau, aim)) as ModelFns['lossGradAim'],
    lossGradCached: jit((a: ActionParams, cache: PrefixCache, st: StateInputs, mask: Arr, x1: Arr, x0: Arr, tau: Arr) =>
      valueAndGrad((aa: ActionParams) => lossCached(c, aa, cache, st, mask, x1, x0, tau))(a)) as ModelFns['lossGradCached'],
    prefix: jit((s: SemanticParams, pre: PrefixInputs) => prefixCache(c, s, pre)) as ModelFns['prefix'],
    aim: jit((s: SemanticParams, pre: PrefixInputs) => {
      const { aim: head, ...semantic } = s;
      const cache = prefixCache(c, semantic, pre);
      const point = aimReadout(c, head!, cache); // [B, 3]
      tree.dispose(cache);
      return point;
    }) as ModelFns['aim'],
    velocity: jit((p: Params, pre: PrefixInputs, st: StateInputs, xt: Arr, tau: Arr) => velocityJoint(c, p, pre, st, xt, tau)) as ModelFns['velocity'],
  };
  FNS.set(key, f);
  return f;
}

/** Draws flow time tau [B]: U[0, 1), or 1 - s with s ~ Beta(1.5, 1) (pi0's noise-heavy schedule, s = u^(1/1.5)). */
export function sampleTau(key: Arr, batch: number, dist: TauDistribution): Arr {
  const u = random.uniform(key, [batch]); // [B]
  if (dist === 'uniform') return u;
  return np.power(u, 1 / BETA_A).neg().add(1);
}

/**
 * The training noise of one step on the host: x0 [B, H, A] ~ N(0, I) and tau [B], drawn from `key`
 * (consumed) exactly as `lossAndGrad` draws them, so every engine sees the same numbers.
 */
export async function drawNoise(c: ModelConfig, batch: number, dist: TauDistribution, key: Arr): Promise<{ x0: Float32Array; tau: Float32Array }> {
  const [x0, tau] = modelFns(c).draws(batch, dist)(key);
  return { x0: (await x0.data()) as Float32Array, tau: (await tau.data()) as Float32Array };
}

/** Options of `lossAndGrad`. */
export type LossOptions = {
  /** Stage-1 training: the semantic expert is frozen; its prefix runs forward once, without backward, and its grads are zero. */
  freezeSemantic?: boolean;
  /** Overrides config.tauDistribution. */
  tau?: TauDistribution;
};

/**
 * Flow-matching loss (scalar, mean over used dims) and gradients w.r.t. all parameters for one
 * batch. `params` is not consumed; `key` (a jax-js PRNG key) is. With `freezeSemantic`,
 * `grads.semantic` is all zeros (the optimizer should then update `params.action` only). Where an
 * aim head trains (config.aimWeight, targets in the batch, not frozen), the loss includes aimWeight x
 * its error and `aimLoss` is that error alone.
 */
export function lossAndGrad(c: ModelConfig, params: Params, batch: Batch, key: Arr, opts: LossOptions = {}): { loss: Arr; grads: Params; aimLoss?: Arr } {
  const b = validateBatch(c, batch);
  const obs = observationToDevice(batch);
  const x1 = actionsToDevice(batch); // [B, H, A]
  const fns = modelFns(c);
  const [x0, tau] = fns.draws(b, opts.tau ?? c.tauDistribution)(key); // [B, H, A] ~ N(0, I), [B]
  const aim = aimToDevice(batch);
  if (!opts.freezeSemantic) {
    if (aim && c.aimWeight) {
      const [loss, grads, aimLoss] = fns.lossGradAim(tree.ref(params), obs.prefix, obs.state, obs.actionMask, x1, x0, tau, aim);
      return { loss, grads, aimLoss };
    }
    if (aim) tree.dispose(aim);
    const [loss, grads] = fns.lossGrad(tree.ref(params), obs.prefix, obs.state, obs.actionMask, x1, x0, tau);
    return { loss, grads };
  }
  if (aim) tree.dispose(aim); // stage 1: the semantic expert (and its aim head) does not train
  const cache = fns.prefix(tree.ref(params.semantic), obs.prefix);
  const [loss, action] = fns.lossGradCached(tree.ref(params.action), cache, obs.state, obs.actionMask, x1, x0, tau);
  const semantic = tree.map((x: Arr) => np.zerosLike(x.ref), params.semantic) as SemanticParams;
  return { loss, grads: { semantic, action } };
}

/**
 * The aim head's prediction for each observation: where the end effector will next close or open its
 * gripper, as the normalized unified EEF position [B, 3] (flattened) that training's aim targets are
 * (config.aimWeight). A probe of whether the prefix localizes what the instruction names; sampling
 * never runs it. `params` is not consumed.
 */
export async function aimPoints(c: ModelConfig, params: Params, obs: Observation): Promise<Float32Array> {
  if (!c.aimWeight || !params.semantic.aim) throw new UserError(`model config "${c.name}" has no aim head (config.aimWeight): only a policy trained with one can say where it aims`);
  validateObservation(c, obs);
  const d = observationToDevice(obs);
  tree.dispose([d.state, d.actionMask]);
  return (await modelFns(c).aim(tree.ref(params.semantic), d.prefix).data()) as Float32Array;
}

/** The initial noise x0 [B, H, A] ~ N(0, I) of sampling from `key` (consumed): what `sampleActions` starts from. */
export function chunkNoise(c: ModelConfig, batch: number, key: Arr): Arr {
  return random.normal(key, [batch, c.actionHorizon, c.actionDim]);
}

/** Options of `sampleActions`. */
export type SampleOptions = {
  /** Euler steps (default config.sampleSteps). */
  steps?: number;
  /** Reuse the prefix keys/values across steps (default true); false runs the full MoT every step. */
  useCache?: boolean;
  /** Initial noise x0 [B, H, A] instead of drawing it from `key`. */
  noise?: Float32Array;
};

/**
 * Samples normalized unified action chunks [B, H, A] (flattened) by Euler integration of the
 * learned velocity from tau = 0 to 1: x <- x + v(x, tau) / N. Masked dims are 0. `params` is not
 * consumed; `key` is.
 */
export async function sampleActions(c: ModelConfig, params: Params, obs: Observation, key: Arr, opts: SampleOptions = {}): Promise<Float32Array> {
  const b = validateObservation(c, obs);
  const steps = opts.steps ?? c.sampleSteps;
  const d = observationToDevice(obs);
  const shape = [b, c.actionHorizon, c.actionDim];
  const noise = opts.noise ? np.array(opts.noise as Float32Array<ArrayBuffer>, { shape }) : chunkNoise(c, b, key.ref);
  key.dispose();
  const m = d.actionMask.reshape([b, 1, c.actionDim]); // [B, 1, A]
  const fns = modelFns(c);
  if (opts.useCache !== false) {
    // one jitted program: no per-step dispatch of small eager ops
    const x = fns.eulerCached(steps)(tree.ref(params), d.prefix, d.state, noise, m);
    return (await x.data()) as Float32Array;
  }
  let x = noise.mul(m.ref); // [B, H, A]
  for (let i = 0; i < steps; i++) {
    const v = fns.velocity(tree.ref(params), tree.ref(d.prefix), tree.ref(d.state), x.ref, np.full([b], i / steps));
    x = x.add(v.mul(m.ref).mul(1 / steps));
  }
  tree.dispose([d.prefix, d.state, m]);
  return (await x.data()) as Float32Array;
}
