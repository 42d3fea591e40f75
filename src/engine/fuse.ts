/**
 * Fusions: chains of jaxpr equations that jax-js's nn functions expand into, recognized and emitted
 * as one ONNX op each. A chain is fused only when none of its intermediate values is used outside
 * it (in a forward-only program such as the policy sampler); in a training step the backward pass
 * reads those intermediates, so its chains stay as they are (fusing would compute them twice).
 *
 *   softmax(x, -1)  exp(x - stop_gradient(max x)) / sum(...)          -> Softmax(axis = -1)
 *   RMSNorm         x * 1/sqrt(sum(x*x)/D + eps) * scale                -> SimplifiedLayerNormalization
 *   SiLU            x * 1/(1 + exp(-x))                                -> Mul(x, Sigmoid(x))
 */
import { type Atom, isLit, type JEqn, type JLit, type JVar } from './graph.ts';
import type { Attr } from './onnx.ts';

/** A fused chain: the equations it replaces, its root (whose output it produces) and the op to emit. */
export type Fusion = {
  kind: 'softmax' | 'rms-norm' | 'silu';
  root: JEqn;
  covered: JEqn[];
  /** the fused node(s): op, inputs as atoms, attributes */
  nodes: { op: string; inputs: (Atom | { ref: number })[]; attrs?: Attr[] }[];
};

const lit = (a: Atom | undefined): a is JLit => a !== undefined && isLit(a);
const lastAxis = (e: JEqn, x: Atom) => e.params.axis?.length === 1 && e.params.axis[0] === x.aval.shape.length - 1;

/**
 * Finds every fusable chain of a flat jaxpr. Returns, per covered equation, the fusion it belongs
 * to (the root's entry emits it; the others emit nothing).
 */
export function findFusions(eqns: JEqn[], outs: Atom[]): Map<JEqn, Fusion> {
  const producer = new Map<JVar, JEqn>();
  const uses = new Map<JVar, number>();
  const use = (a: Atom) => !lit(a) && uses.set(a, (uses.get(a) ?? 0) + 1);
  for (const e of eqns) {
    for (const o of e.outBinders) producer.set(o, e);
    e.inputs.forEach(use);
  }
  outs.forEach(use);
  /** The equation producing `a` if it is `prim` (and `a` a variable). */
  const made = (a: Atom | undefined, prim: string): JEqn | undefined => {
    if (a === undefined || lit(a)) return undefined;
    const e = producer.get(a);
    return e?.primitive === prim ? e : undefined;
  };
  /** The operand of a binary equation that is not `other`. */
  const otherOf = (e: JEqn, other: Atom) => (e.inputs[0] === other ? e.inputs[1] : e.inputs[1] === other ? e.inputs[0] : undefined);
  /** True when each of `chain`'s outputs is used only by equations of the chain (the root excepted). */
  const private_ = (root: JEqn, chain: JEqn[]) => {
    const inside = new Map<JVar, number>();
    for (const e of [root, ...chain]) for (const a of e.inputs) if (!lit(a)) inside.set(a, (inside.get(a) ?? 0) + 1);
    return chain.every((e) => e.outBinders.every((o) => uses.get(o) === inside.get(o)));
  };

  const found = new Map<JEqn, Fusion>();
  const add = (f: Fusion) => {
    if ([f.root, ...f.covered].some((e) => found.has(e))) return;
    for (const e of [f.root, ...f.covered]) found.set(e, f);
  };
  for (const root of eqns) {
    if (root.primitive !== 'mul' || root.inputs.length !== 2) continue;
    const [p, q] = root.inputs;
    // softmax: mul(exp(x - m), reciprocal(reshape(sum(exp(x - m)))))
    for (const [j, r] of [[p, q], [q, p]] as const) {
      const rcp = made(r, 'reciprocal');
      const expE = made(j, 'exp');
      const rs = made(rcp?.inputs[0], 'reshape');
      const sum = made(rs?.inputs[0], 'reduce');
      const sub = made(expE?.inputs[0], 'add');
      if (!rcp || !expE || !rs || !sum || !sub || sum.inputs[0] !== j || sum.params.op !== 'Add' || !lastAxis(sum, j)) continue;
      for (const [x, h] of [[sub.inputs[0], sub.inputs[1]], [sub.inputs[1], sub.inputs[0]]] as const) {
        const neg = made(h, 'neg');
        const sg = made(neg?.inputs[0], 'stop_gradient');
        const rs2 = made(sg?.inputs[0], 'reshape');
        const max = made(rs2?.inputs[0], 'reduce');
        if (!neg || !sg || !rs2 || !max || max.inputs[0] !== x || max.params.op !== 'Max' || !lastAxis(max, x)) continue;
        const chain = [max, rs2, sg, neg, sub, expE, sum, rs, rcp];
        if (private_(root, chain)) add({ kind: 'softmax', root, covered: chain, nodes: [{ op: 'Softmax', inputs: [x], attrs: [{ name: 'axis', i: -1 }] }] });
      }
    }
    if (found.has(root)) continue;
    // RMSNorm: mul(mul(x, reciprocal(sqrt(add(mul(reshape(sum(mul(x, x))), 1/D), eps)))), scale)
    for (const [xn, scale] of [[p, q], [q, p]] as const) {
      const norm = made(xn, 'mul');
      if (!norm || lit(scale) || scale.aval.shape.length !== 1) continue;
      for (const [x, i] of [[norm.inputs[0], norm.inputs[1]], [norm.inputs[1], norm.inputs[0]]] as const) {
        const rcp = made(i, 'reciprocal');
        const sqrt = made(rcp?.inputs[0], 'sqrt');
        const addEps = made(sqrt?.inputs[0], 'add');
        const eps = addEps?.inputs.find(lit);
        const mean = made(addEps && otherOf(addEps, eps!), 'mul');
        const invD = mean?.inputs.find(lit);
        const rs = made(mean && otherOf(mean, invD!), 'reshape');
        const sum = made(rs?.inputs[0], 'reduce');
        const sq = made(sum?.inputs[0], 'mul');
        const d = x.aval.shape.at(-1)!;
        if (!rcp || !sqrt || !addEps || !eps || !mean || !invD || !rs || !sum || !sq || sum.params.op !== 'Add' || !lastAxis(sum, sq.outBinders[0])) continue;
        if (sq.inputs[0] !== x || sq.inputs[1] !== x || Math.abs(invD.value * d - 1) > 1e-6 || scale.aval.shape[0] !== d) continue;
        const chain = [sq, sum, rs, mean, addEps, sqrt, rcp, norm];
        if (private_(root, chain)) add({ kind: 'rms-norm', root, covered: chain, nodes: [{ op: 'SimplifiedLayerNormalization', inputs: [x, scale], attrs: [{ name: 'axis', i: -1 }, { name: 'epsilon', f: eps.value }] }] });
      }
    }
    if (found.has(root)) continue;
    // SiLU: mul(x, reciprocal(add(exp(neg(x)), 1)))
    for (const [x, s] of [[p, q], [q, p]] as const) {
      const rcp = made(s, 'reciprocal');
      const add1 = made(rcp?.inputs[0], 'add');
      const one = add1?.inputs.find(lit);
      const expE = made(add1 && otherOf(add1, one!), 'exp');
      const neg = made(expE?.inputs[0], 'neg');
      if (!rcp || !add1 || one?.value !== 1 || !expE || !neg || neg.inputs[0] !== x) continue;
      const chain = [neg, expE, add1, rcp];
      if (private_(root, chain)) add({ kind: 'silu', root, covered: chain, nodes: [{ op: 'Sigmoid', inputs: [x] }, { op: 'Mul', inputs: [x, { ref: 0 }] }] });
    }
  }
  return found;
}
