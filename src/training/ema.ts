/**
 * An exponential moving average of the weights, the usual companion of diffusion/flow policies:
 *   ema <- d * ema + (1 - d) * params        after every optimizer step
 * The policy acts with the average (smoother than the last iterate of a noisy optimizer).
 */
import { jit, type JsTree, numpy as np, tree } from '../model/index.ts';

type Arr = np.Array;
type Update = (ema: Arr[], p: Arr[], d: Arr) => Arr[];

let update: Update | undefined;

/** A copy of `params` to start the average from (params are not consumed). */
export function emaInit<T extends JsTree<Arr>>(params: T): T {
  return tree.map((x: Arr) => x.ref.add(0), params) as T;
}

/** ema * d + params * (1 - d) leaf by leaf, d a scalar array (not jitted; consumes everything). */
export function emaUpdate(e: Arr[], p: Arr[], d: Arr): Arr[] {
  const out = e.map((x, i) => x.mul(d.ref).add(p[i].mul(np.ones([]).sub(d.ref))));
  d.dispose();
  return out;
}

/** One EMA step with decay `d`: consumes `ema`, not `params`; returns the new average. */
export function emaStep<T extends JsTree<Arr>>(ema: T, params: T, d: number): T {
  update ??= jit(emaUpdate) as unknown as Update;
  const [e, def] = tree.flatten(ema);
  const [p] = tree.flatten(tree.ref(params));
  return tree.unflatten(def, update(e as Arr[], p as Arr[], np.array(d))) as T;
}
