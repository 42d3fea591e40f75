/**
 * Lowering of a flat jax-js jaxpr (after `.flatten().simplify()`) to an ONNX graph, one equation at
 * a time. Elementwise, movement and reduction primitives map 1:1 to ONNX ops; `dot` becomes one
 * MatMul of the operands' sources with their view chains folded (views.ts); random-number
 * primitives are refused (draw noise on the host and feed it as an input).
 *
 * The performance guard: a MatMul fed by a large materialized broadcast, or a dot that could not be
 * folded and would materialize its broadcast product, is refused with the equation named: such a
 * graph runs slower than jax-js itself.
 */
import { type Attr, type DType, type Initializer, type OnnxGraph, type OnnxNode, ONNX_DTYPES, type ValueInfo } from './onnx.ts';
import { findFusions, type Fusion } from './fuse.ts';
import { broadcastView, classifyDot, identityView, padView, reshapeView, sourceOrder, transposeView, type View } from './views.ts';

/** An abstract value: shape and jax-js dtype name. */
type Aval = { shape: number[]; dtype: string };
/** A jaxpr variable (identity by object) or a scalar literal. */
export type JVar = { id: number; aval: Aval };
type JLit = { value: number; aval: Aval };
type Atom = JVar | JLit;
/** One jaxpr equation, structurally (jax-js does not export the class). */
export type JEqn = { primitive: string; inputs: Atom[]; params: Record<string, any>; outBinders: JVar[]; toString(): string };
/** A flat jaxpr, structurally. */
export type FlatJaxpr = { inBinders: JVar[]; eqns: JEqn[]; outs: Atom[] };

/** A lowering failure that names the equation; the message says what to change. */
export class EngineError extends Error {
  override name = 'EngineError';
}

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

const isLit = (a: Atom): a is JLit => 'value' in a;
const sameShape = (a: number[] | undefined, b: number[]) => a !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);
/** An equation as one line of jaxpr text (for error messages). */
const eqnText = (e: { toString(): string }) => e.toString().replace(/\s+/g, ' ').trim();
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The ONNX element type of a jax-js dtype. */
export function onnxDType(d: string): DType {
  if (d === 'float32' || d === 'int32' || d === 'uint32' || d === 'bool' || d === 'uint8') return d;
  throw new EngineError(`dtype ${d} has no ONNX lowering here; keep programs in float32/int32/bool`);
}

function scalarBytes(value: number, dtype: DType): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(Float32Array.of(value).buffer);
  if (dtype === 'int32') return new Uint8Array(Int32Array.of(value).buffer);
  if (dtype === 'uint32') return new Uint8Array(Uint32Array.of(value).buffer);
  if (dtype === 'int64') return new Uint8Array(BigInt64Array.of(BigInt(value)).buffer);
  return Uint8Array.of(value ? 1 : 0);
}

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

/** Builds one graph: nodes, cached constants, and where each node came from. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  /** output name -> index of the equation that emitted it */
  readonly origin = new Map<string, number>();
  current = -1;
  private tmp = 0;
  private consts = new Map<string, string>();

  fresh(): string {
    return `t${this.tmp++}`;
  }

  emit(op: string, inputs: string[], outputs: string[] = [this.fresh()], attrs?: Attr[]): string {
    this.nodes.push({ op, inputs, outputs, attrs });
    for (const o of outputs) this.origin.set(o, this.current);
    return outputs[0];
  }

  private constant(key: string, make: (name: string) => Initializer): string {
    let n = this.consts.get(key);
    if (!n) {
      n = `c${this.consts.size}`;
      this.initializers.push(make(n));
      this.consts.set(key, n);
    }
    return n;
  }

  /** An int64 vector constant (shapes, axes, slice bounds). */
  ints(vals: number[]): string {
    return this.constant(`i64:${vals.join(',')}`, (name) => ({ name, dtype: 'int64', dims: [vals.length], raw: new Uint8Array(BigInt64Array.from(vals.map(BigInt)).buffer) }));
  }

  scalar(value: number, dtype: DType): string {
    return this.constant(`${dtype}:${Object.is(value, -0) ? '-0' : value}`, (name) => ({ name, dtype, dims: [], raw: scalarBytes(value, dtype) }));
  }

  /** Static shapes of the tensors named so far (so that no-op reshapes are not emitted). */
  readonly shapes = new Map<string, number[]>();

  reshape(x: string, shape: number[]): string {
    if (sameShape(this.shapes.get(x), shape)) return x;
    const y = this.emit('Reshape', [x, this.ints(shape)]);
    this.shapes.set(y, shape);
    return y;
  }

  transpose(x: string, perm: number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    const y = this.emit('Transpose', [x], [this.fresh()], [{ name: 'perm', ints: perm }]);
    const s = this.shapes.get(x);
    if (s) this.shapes.set(y, perm.map((p) => s[p]));
    return y;
  }
}

/**
 * Lowers a flat jaxpr to an ONNX graph. The first `consts.length` input binders are the closed
 * jaxpr's constants (they become initializers); the rest are the graph inputs, in order.
 */
export function lowerJaxpr(jaxpr: FlatJaxpr, consts: { dtype: string; data: ArrayBufferView }[], opts: LowerOptions = {}): { graph: OnnxGraph; stats: LowerStats } {
  const g = new GraphBuilder();
  const limit = opts.materializeLimit ?? 2 ** 20;
  const names = new Map<JVar, string>();
  const name = (v: JVar) => names.get(v) ?? `v${v.id}`;
  const atom = (a: Atom, dtype?: string) => (isLit(a) ? g.scalar(a.value, onnxDType(dtype ?? a.aval.dtype)) : name(a));
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
  const views = new Map<JVar, View<JVar>>();
  /** The view of `v` over the source its movement chain starts from (identity when not foldable). */
  const viewOf = (v: JVar): View<JVar> => {
    const hit = views.get(v);
    if (hit) return hit;
    let out = identityView(v, v.aval.shape);
    const e = producer.get(v);
    const x = e?.inputs[0];
    if (opts.foldViews !== false && e && x && !isLit(x)) {
      const inner = ['transpose', 'broadcast', 'reshape'].includes(e.primitive) ? viewOf(x) : undefined;
      const folded = inner && (e.primitive === 'transpose' ? transposeView(inner, e.params.perm)
        : e.primitive === 'broadcast' ? broadcastView(inner, e.params.shape, e.params.axis)
        : reshapeView(inner, e.params.shape));
      if (folded) out = folded;
    }
    views.set(v, out);
    return out;
  };
  /** The source of `vw` with its non-unit axes in `order`, as a tensor name (memoized). */
  const sourced = new Map<string, string>();
  const fromSource = (vw: View<JVar>, order: number[]): string => {
    const key = `${vw.source.id}:${order.join(',')}`;
    let t = sourced.get(key);
    if (t !== undefined) return t;
    const shape = vw.sourceShape;
    const real = shape.flatMap((d, i) => (d > 1 ? [i] : []));
    t = name(vw.source);
    if (real.length !== shape.length) t = g.reshape(t, real.map((i) => shape[i]));
    t = g.transpose(t, order.map((ax) => real.indexOf(ax)));
    sourced.set(key, t);
    return t;
  };
  /**
   * An operand as [batch?, rows, cols] from its source. When each of the three groups is a run of
   * consecutive source axes, the source is reshaped to the groups first and only the (at most three)
   * groups are transposed: a swap of the last two is then fused into the MatMul by ORT (FusedMatMul).
   */
  const operand = (vw: View<JVar>, batch: number[], rows: number[], cols: number[], dims: [number, number, number]): string => {
    const [bt, r, c] = dims;
    const out = batch.length ? [bt, r, c] : [r, c];
    const real = vw.sourceShape.flatMap((d, i) => (d > 1 ? [i] : []));
    const groups = [batch, rows, cols].map((axes) => sourceOrder(vw, axes)).filter((grp) => grp.length > 0);
    const runs = groups.every((grp) => grp.every((ax, i) => i === 0 || real.indexOf(ax) === real.indexOf(grp[i - 1]) + 1));
    if (!runs) return g.reshape(fromSource(vw, groups.flat()), out);
    const size = (grp: number[]) => prod(grp.map((ax) => vw.sourceShape[ax]));
    const same = (x: number[], y: number[]) => x.length === y.length && x.every((d, i) => d === y[i]);
    const bySource = [...groups].sort((x, y) => x[0] - y[0]);
    const mergedShape = bySource.map(size);
    const merged = same(mergedShape, vw.sourceShape) ? name(vw.source) : g.reshape(name(vw.source), mergedShape);
    const t = g.transpose(merged, groups.map((grp) => bySource.indexOf(grp)));
    // no Reshape between a last-two-axes Transpose and the MatMul, so that ORT can fuse them
    return same(groups.map(size), out) ? t : g.reshape(t, out);
  };

  const naiveDot = (e: JEqn) => {
    const [a, b] = e.inputs;
    const out = e.outBinders[0];
    const k = isLit(a) ? b.aval.shape.at(-1)! : a.aval.shape.at(-1)!;
    const elements = prod(out.aval.shape) * k;
    if (elements > limit) {
      throw new EngineError(`equation #${g.current} (${eqnText(e)}): this dot's operands are not views of two tensors, so lowering it would materialize a ${elements.toLocaleString('en-US')}-element broadcast product (a graph slower than jax-js); write it as np.matmul of plain tensors`);
    }
    const dt = out.aval.dtype;
    g.emit('ReduceSum', [g.emit('Mul', [atom(a, dt), atom(b, dt)]), g.ints([-1])], [name(out)], [{ name: 'keepdims', i: 0 }]);
  };

  const lowerDot = (e: JEqn) => {
    stats.dots++;
    const [a, b] = e.inputs;
    if (isLit(a) || isLit(b)) return naiveDot(e);
    const outShape = e.outBinders[0].aval.shape;
    const r = Math.max(a.aval.shape.length, b.aval.shape.length);
    const va = padView(viewOf(a), r);
    const vb = padView(viewOf(b), r);
    const axes = classifyDot(va, vb, outShape);
    if (!axes) return naiveDot(e);
    stats.dotsAsMatMul++;
    const { batch, m, n } = axes;
    const size = (ax: number[]) => prod(ax.map((i) => outShape[i]));
    const kSize = va.axes[r - 1].size;
    const bt = size(batch);
    stats.matmulFlops += 2 * bt * size(m) * size(n) * kSize;
    // x [..., K] @ w [K, N] as it is: ONNX MatMul broadcasts a 2-D right operand over leading axes
    const aSource = sourceOrder(va, [...m, r - 1]);
    const aReal = va.sourceShape.flatMap((d, i) => (d > 1 ? [i] : []));
    const aPlain = batch.length === 0 && aSource.length === aReal.length && aSource.every((ax, i) => ax === aReal[i]) && aReal.at(-1) === va.sourceShape.length - 1;
    const a3 = aPlain ? name(va.source) : operand(va, batch, m, [r - 1], [bt, size(m), kSize]);
    const b3 = operand(vb, batch, [r - 1], n, [bt, kSize, size(n)]);
    let y = g.emit('MatMul', [a3, b3]); // [Bt, M, N] (or [...M, N])
    g.shapes.set(y, aPlain ? [...va.sourceShape.slice(0, -1), size(n)] : batch.length ? [bt, size(m), size(n)] : [size(m), size(n)]);
    const groups = [...batch, ...m, ...n];
    const perm = [...groups].sort((x, z) => x - z).map((ax) => groups.indexOf(ax));
    if (perm.some((p, i) => p !== i)) y = g.transpose(g.reshape(y, groups.map((i) => outShape[i])), perm);
    const out = e.outBinders[0];
    if (sameShape(g.shapes.get(y), outShape)) names.set(out, y);
    else g.emit('Reshape', [y, g.ints(outShape)], [name(out)]);
  };

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
