/**
 * AdamW [Loshchilov & Hutter] with decoupled weight decay and global-norm gradient clipping, over
 * any tree of jax-js arrays, as one jitted update. (jax-js has no optimizer package here.)
 *
 *   g <- g * min(1, maxGradNorm / (||g||_2 + 1e-6))            (global norm over all leaves)
 *   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
 *   p <- p (1 - lr wd) - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 */
import { jit, type JsTree, numpy as np, tree } from '../model/index.ts';

type Arr = np.Array;

/** AdamW hyperparameters (SPEC section 6: betas 0.9 / 0.95, weight decay 1e-5). */
export type AdamWConfig = {
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Denominator epsilon. */
  eps: number;
  /** Decoupled weight decay (multiplied by lr). */
  weightDecay: number;
  /** Clip the global gradient L2 norm to this (Infinity: no clipping). */
  maxGradNorm: number;
};

/** The project defaults: betas 0.9/0.95, eps 1e-8, weight decay 1e-5, clip at 1. */
export const ADAMW_DEFAULTS: Readonly<AdamWConfig> = Object.freeze({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 1e-5, maxGradNorm: 1 });

/** Optimizer state: step count t (updates taken) and the moment trees, shaped like the params. */
export type AdamWState<T> = { step: number; m: T; v: T };

/** Zero moments shaped like `params` (params are not consumed). */
export function adamwInit<T extends JsTree<Arr>>(params: T): AdamWState<T> {
  const zeros = () => tree.map((x: Arr) => np.zerosLike(x.ref), params) as T;
  return { step: 0, m: zeros(), v: zeros() };
}

type Update = (p: Arr[], g: Arr[], m: Arr[], v: Arr[], lr: Arr, bc1: Arr, bc2: Arr) => [Arr[], Arr[], Arr[], Arr];

const UPDATES = new Map<string, Update>();

/**
 * The AdamW update of a list of leaves (not jitted: `adamwStep` jits it; the ORT engine traces it).
 * lr, bc1 = 1 - b1^t and bc2 = 1 - b2^t are scalar arrays; consumes everything; returns the new
 * params, moments and the pre-clipping global norm of `g`.
 */
export function adamwUpdate(cfg: AdamWConfig): Update {
  const { beta1: b1, beta2: b2, eps, weightDecay: wd, maxGradNorm } = cfg;
  return (p: Arr[], g: Arr[], m: Arr[], v: Arr[], lr: Arr, bc1: Arr, bc2: Arr) => {
    const sq = g.map((x) => np.square(x.ref).sum()).reduce((a, b) => a.add(b)); // scalar
    const norm = np.sqrt(sq);
    const scale = Number.isFinite(maxGradNorm) ? np.minimum(np.reciprocal(norm.ref.add(1e-6)).mul(maxGradNorm), 1) : np.ones([]);
    const outP: Arr[] = [];
    const outM: Arr[] = [];
    const outV: Arr[] = [];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i].mul(scale.ref);
      const mi = m[i].mul(b1).add(gi.ref.mul(1 - b1));
      const vi = v[i].mul(b2).add(np.square(gi).mul(1 - b2));
      const step = mi.ref.div(bc1.ref).div(np.sqrt(vi.ref.div(bc2.ref)).add(eps));
      const decayed = p[i].mul(lr.ref.mul(-wd).add(1));
      outP.push(decayed.sub(step.mul(lr.ref)));
      outM.push(mi);
      outV.push(vi);
    }
    tree.dispose([scale, lr, bc1, bc2]);
    return [outP, outM, outV, norm];
  };
}

function update(cfg: AdamWConfig): Update {
  const key = JSON.stringify(cfg);
  let f = UPDATES.get(key);
  if (!f) UPDATES.set(key, (f = jit(adamwUpdate(cfg)) as unknown as Update));
  return f;
}

/**
 * One AdamW step at learning rate `lr`. Consumes `params`, `grads` and the state's moments; returns
 * the new params and state and the pre-clipping global gradient norm (a scalar array).
 */
export function adamwStep<T extends JsTree<Arr>>(
  params: T,
  grads: T,
  state: AdamWState<T>,
  lr: number,
  cfg: AdamWConfig = ADAMW_DEFAULTS,
): { params: T; state: AdamWState<T>; gradNorm: Arr } {
  const [p, def] = tree.flatten(params);
  const [g] = tree.flatten(grads);
  const [m] = tree.flatten(state.m);
  const [v] = tree.flatten(state.v);
  const t = state.step + 1;
  const [np1, nm, nv, gradNorm] = update(cfg)(
    p as Arr[], g as Arr[], m as Arr[], v as Arr[],
    np.array(lr), np.array(1 - cfg.beta1 ** t), np.array(1 - cfg.beta2 ** t),
  );
  const un = (xs: Arr[]) => tree.unflatten(def, xs) as T;
  return { params: un(np1), state: { step: t, m: un(nm), v: un(nv) }, gradNorm };
}
