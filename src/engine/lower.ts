/**
 * Lowering of a flat jax-js jaxpr (after `.flatten().simplify()`) to an ONNX graph, one equation at
 * a time. Elementwise, movement and reduction primitives map 1:1 to ONNX ops; `dot` becomes one
 * MatMul of the operands' sources with their view chains folded (dot.ts); softmax, RMSNorm and SiLU
 * chains become fused ops where they can (fuse.ts); random-number primitives are refused (draw
 * noise on the host and feed it as an input).
 *
 * The performance guard: a MatMul fed by a large materialized broadcast, or a dot that could not be
 * folded and would materialize its broadcast product, is refused with the equation named: such a
 * graph runs slower than jax-js itself.
 */
import { dotLowering } from './dot.ts';
import { findFusions, type Fusion } from './fuse.ts';
import { type Atom, EngineError, eqnText, type FlatJaxpr, GraphBuilder, isLit, type JEqn, type JVar, onnxDType, prod, sameShape } from './graph.ts';
import { type OnnxGraph, type OnnxNode, ONNX_DTYPES, type ValueInfo } from './onnx.ts';

export { EngineError, type FlatJaxpr, type JEqn, type JVar, onnxDType } from './graph.ts';

/** What the lowering did, for tests and benchmarks. */
export type LowerStats = { equations: number; nodes: number; dots: number; dotsAsMatMul: number; matmulFlops: number; fused: Record<string, number>; ops: Record<string, number> };

/** Options of `lowerJaxpr`. */
export type LowerOptions = {
  /** graph name (default 'program') */
  name?: string;
  /** names of the graph inputs, in order of the jaxpr's non-constant inputs (default in0, in1, ...) */
  inputNames?: string[];
  /** names of the graph outputs (default out0, out1, ...) */
  outputNames?: string[];
  /** fold view chains into dots (default true; false only to test the guard) */
  foldViews?: boolean;
  /** largest materialized broadcast (elements) allowed to feed a MatMul or an unfolded dot (default 2^20) */
  materializeLimit?: number;
  /** emit softmax, RMSNorm and SiLU chains as fused ops where their intermediates are private (default true; fuse.ts) */
  fuse?: boolean;
};

const UNARY: Record<string, string> = {
  neg: 'Neg', reciprocal: 'Reciprocal', sqrt: 'Sqrt', exp: 'Exp', log: 'Log', sin: 'Sin', cos: 'Cos',
  asin: 'Asin', atan: 'Atan', floor: 'Floor', ceil: 'Ceil', erf: 'Erf', stop_gradient: 'Identity',
};
const BINARY: Record<string, string> = { add: 'Add', mul: 'Mul', min: 'Min', max: 'Max', idiv: 'Div' };
const REDUCE: Record<string, string> = { Add: 'ReduceSum', Max: 'ReduceMax', Min: 'ReduceMin', Mul: 'ReduceProd' };
const COMPARE: Record<string, string> = { less: 'Less', less_equal: 'LessOrEqual', equal: 'Equal', greater: 'Greater', greater_equal: 'GreaterOrEqual' };
const HOST_ONLY = new Set(['random_bits', 'bitcast', 'bit_combine', 'bit_shift', 'bit_count']);

/** Every jax-js primitive with an ONNX lowering (the tests exercise each one). */
export const LOWERED_PRIMITIVES: readonly string[] = Object.freeze([
  ...Object.keys(UNARY), ...Object.keys(BINARY), 'dot', 'mod', 'erfc', 'cast', 'reduce', 'compare', 'where', 'concatenate', 'split',
  'transpose', 'reshape', 'broadcast', 'shrink', 'pad', 'flip', 'gather',
]);

/**
 * Lowers a flat jaxpr to an ONNX graph. The first `consts.length` input binders are the closed
 * jaxpr's constants (they become initializers); the rest are the graph inputs, in order.
 */
export function lowerJaxpr(jaxpr: FlatJaxpr, consts: { dtype: string; data: ArrayBufferView }[], opts: LowerOptions = {}): { graph: OnnxGraph; stats: LowerStats } {
  const g = new GraphBuilder();
  const limit = opts.materializeLimit ?? 2 ** 20;
  const names = g.names;
  const name = (v: JVar) => g.name(v);
  const atom = (a: Atom, dtype?: string) => g.atom(a, dtype);
  const stats: LowerStats = { equations: jaxpr.eqns.length, nodes: 0, dots: 0, dotsAsMatMul: 0, matmulFlops: 0, fused: {}, ops: {} };

  const inputs: ValueInfo[] = [];
  jaxpr.inBinders.forEach((v, i) => {
    if (i < consts.length) {
      const c = consts[i];
      g.initializers.push({ name: name(v), dtype: onnxDType(c.dtype), dims: v.aval.shape, raw: new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength) });
      g.shapes.set(name(v), v.aval.shape);
      return;
    }
    const k = i - consts.length;
    const n = opts.inputNames?.[k] ?? `in${k}`;
    names.set(v, n);
    g.shapes.set(n, v.aval.shape);
    inputs.push({ name: n, dtype: onnxDType(v.aval.dtype), dims: v.aval.shape });
  });

  const producer = new Map<JVar, JEqn>();
  for (const e of jaxpr.eqns) for (const o of e.outBinders) producer.set(o, e);
  const lowerDot = dotLowering(g, jaxpr, stats, { foldViews: opts.foldViews !== false, limit });

  // outputs computed by an equation are written under their output name directly (no Identity copy)
  const outName = (i: number) => opts.outputNames?.[i] ?? `out${i}`;
  const claimed = new Set<JVar>();
  jaxpr.outs.forEach((a, i) => {
    if (isLit(a) || claimed.has(a) || !producer.has(a)) return;
    claimed.add(a);
    names.set(a, outName(i));
  });
  const fusions: Map<JEqn, Fusion> = opts.fuse === false ? new Map() : findFusions(jaxpr.eqns, jaxpr.outs);
  jaxpr.eqns.forEach((e, index) => {
    g.current = index;
    const x = e.inputs[0];
    const fusion = fusions.get(e);
    if (fusion?.root === e) {
      stats.fused[fusion.kind] = (stats.fused[fusion.kind] ?? 0) + 1;
      const made: string[] = [];
      fusion.nodes.forEach((nd, k) => {
        const ins = nd.inputs.map((a) => ('ref' in a ? made[a.ref] : atom(a)));
        made.push(g.emit(nd.op, ins, [k === fusion.nodes.length - 1 ? name(e.outBinders[0]) : g.fresh()], nd.attrs));
      });
    } else if (fusion) {
      // an intermediate of a fused chain: nothing to emit
    } else if (['reshape', 'stop_gradient'].includes(e.primitive) && x && !isLit(x) && sameShape(x.aval.shape, e.outBinders[0].aval.shape) && !claimed.has(e.outBinders[0])) {
      names.set(e.outBinders[0], name(x)); // the same tensor
    } else lowerEquation(g, e, { atom, name, lowerDot });
    for (const o of e.outBinders) g.shapes.set(name(o), o.aval.shape);
  });

  const outputs: ValueInfo[] = jaxpr.outs.map((a, i) => {
    const n = outName(i);
    if (atom(a) !== n) g.emit('Identity', [atom(a)], [n]);
    return { name: n, dtype: onnxDType(a.aval.dtype), dims: a.aval.shape };
  });
  const nodes = liveNodes(g.nodes, outputs.map((o) => o.name));
  refuseMaterializedMatMuls(nodes, g.origin, jaxpr, limit);
  const used = new Set(nodes.flatMap((nd) => nd.inputs));
  stats.nodes = nodes.length;
  for (const nd of nodes) stats.ops[nd.op] = (stats.ops[nd.op] ?? 0) + 1;
  const graph: OnnxGraph = { name: opts.name ?? 'program', nodes, initializers: g.initializers.filter((t) => used.has(t.name)), inputs, outputs };
  return { graph, stats };
}

type Ctx = { atom: (a: Atom, dtype?: string) => string; name: (v: JVar) => string; lowerDot: (e: JEqn) => void };

/** Emits the ONNX nodes of one equation. */
function lowerEquation(g: GraphBuilder, e: JEqn, { atom, name, lowerDot }: Ctx): void {
  const o = e.outBinders.map(name);
  const od = e.outBinders[0]?.aval.dtype;
  const [x, y] = e.inputs;
  const p = e.params;
  const prim = e.primitive;
  if (prim in UNARY) g.emit(UNARY[prim], [atom(x)], o);
  else if (prim in BINARY) g.emit(BINARY[prim], [atom(x, od), atom(y, od)], o);
  else if (prim === 'dot') lowerDot(e);
  else if (prim === 'mod') g.emit('Mod', [atom(x, od), atom(y, od)], o, [{ name: 'fmod', i: 1 }]); // C-style: the sign of the dividend
  else if (prim === 'erfc') g.emit('Sub', [g.scalar(1, onnxDType(od)), g.emit('Erf', [atom(x)])], o);
  else if (prim === 'cast') g.emit('Cast', [atom(x)], o, [{ name: 'to', i: ONNX_DTYPES[onnxDType(p.dtype)] }]);
  else if (prim === 'reduce') {
    if (!(p.op in REDUCE)) throw new EngineError(`equation #${g.current}: reduce op ${p.op} has no lowering`);
    if (p.axis.length === 0) g.emit('Identity', [atom(x)], o);
    else g.emit(REDUCE[p.op], [atom(x), g.ints(p.axis)], o, [{ name: 'keepdims', i: 0 }]);
  } else if (prim === 'compare') {
    const dt = isLit(x) ? y.aval.dtype : x.aval.dtype;
    const ins = [atom(x, dt), atom(y, dt)];
    if (p.op === 'not_equal') g.emit('Not', [g.emit('Equal', ins)], o);
    else if (p.op in COMPARE) g.emit(COMPARE[p.op], ins, o);
    else throw new EngineError(`equation #${g.current}: compare op ${p.op} has no lowering`);
  } else if (prim === 'where') g.emit('Where', [atom(x, 'bool'), atom(y, od), atom(e.inputs[2], od)], o);
  else if (prim === 'concatenate') g.emit('Concat', e.inputs.map((a) => atom(a)), o, [{ name: 'axis', i: p.axis }]);
  else if (prim === 'split') g.emit('Split', [atom(x), g.ints(p.sizes)], o, [{ name: 'axis', i: p.axis }]);
  else if (prim === 'transpose') g.emit('Transpose', [atom(x)], o, [{ name: 'perm', ints: p.perm }]);
  else if (prim === 'reshape') g.emit('Reshape', [atom(x), g.ints(p.shape)], o);
  else if (prim === 'broadcast') {
    const t = p.axis.length ? g.emit('Unsqueeze', [atom(x), g.ints(p.axis)]) : atom(x);
    g.emit('Expand', [t, g.ints(p.shape)], o);
  } else if (prim === 'shrink') {
    const s = p.slice as [number, number][];
    g.emit('Slice', [atom(x), g.ints(s.map((v) => v[0])), g.ints(s.map((v) => v[1])), g.ints(s.map((_, i) => i))], o);
  } else if (prim === 'pad') {
    const w = p.width as [number, number][];
    g.emit('Pad', [atom(x), g.ints([...w.map((v) => v[0]), ...w.map((v) => v[1])])], o);
  } else if (prim === 'flip') {
    const ax = p.axis as number[];
    g.emit('Slice', [atom(x), g.ints(ax.map(() => -1)), g.ints(ax.map(() => -(2 ** 62))), g.ints(ax), g.ints(ax.map(() => -1))], o);
  } else if (prim === 'gather') {
    if (p.axis.length !== 1 || p.outDim !== p.axis[0] || e.inputs.length !== 2) {
      throw new EngineError(`equation #${g.current} (${eqnText(e)}): only single-axis gathers (np.take) have a lowering`);
    }
    g.emit('Gather', [atom(x), atom(y)], o, [{ name: 'axis', i: p.axis[0] }]);
  } else if (HOST_ONLY.has(prim)) {
    throw new EngineError(`equation #${g.current}: ${prim} (random-number bits) has no ONNX lowering; draw the noise on the host and pass it to the program as an input`);
  } else {
    throw new EngineError(`equation #${g.current} (${eqnText(e).slice(0, 160)}): primitive ${prim} has no ONNX lowering yet`);
  }
}

/** The nodes that some output depends on, in order (folded view chains leave dead Transposes behind). */
function liveNodes(nodes: OnnxNode[], outputs: string[]): OnnxNode[] {
  const live = new Set(outputs);
  const kept: OnnxNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.outputs.some((x) => live.has(x))) {
      kept.push(n);
      for (const x of n.inputs) live.add(x);
    }
  }
  return kept.reverse();
}

/** Throws when a MatMul operand is (a reshape or transpose of) a materialized broadcast of more than `limit` elements. */
function refuseMaterializedMatMuls(nodes: OnnxNode[], origin: Map<string, number>, jaxpr: FlatJaxpr, limit: number): void {
  const byOutput = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.outputs) byOutput.set(o, n);
  const shapeOf = new Map<string, number[]>();
  for (const e of jaxpr.eqns) for (const v of e.outBinders) shapeOf.set(`v${v.id}`, v.aval.shape);
  for (const mm of nodes) {
    if (mm.op !== 'MatMul') continue;
    for (const input of mm.inputs) {
      let n = byOutput.get(input);
      while (n && ['Reshape', 'Transpose', 'Identity'].includes(n.op)) n = byOutput.get(n.inputs[0]);
      if (n?.op !== 'Expand') continue;
      const elements = prod(shapeOf.get(n.outputs[0]) ?? []);
      if (elements <= limit) continue;
      const eqn = origin.get(n.outputs[0]) ?? -1;
      const text = jaxpr.eqns[eqn] ? eqnText(jaxpr.eqns[eqn]) : n.outputs[0];
      throw new EngineError(`equation #${eqn} (${text}) materializes a ${elements.toLocaleString('en-US')}-element broadcast that feeds a MatMul (a graph slower than jax-js); its view chain could not be folded into the dot`);
    }
  }
}
