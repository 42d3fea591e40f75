/**
 * `dot` (sum(x * y, axis=-1) after broadcasting) lowered to one MatMul of the operands' sources:
 * the view chains behind each operand (views.ts) are classified into batch / M / N / K axes and
 * folded into at most one Transpose per operand. A dot whose operands are not views of two tensors
 * falls back to Mul + ReduceSum, refused when its broadcast product would be large.
 */
import { EngineError, eqnText, type FlatJaxpr, type GraphBuilder, isLit, type JEqn, type JVar, prod, sameShape } from './graph.ts';
import { broadcastView, classifyDot, identityView, padView, reshapeView, sourceOrder, transposeView, type View } from './views.ts';

/** What the dot lowering counts. */
export type DotStats = { dots: number; dotsAsMatMul: number; matmulFlops: number };

/**
 * The dot lowering of one graph: returns `lowerDot(e)`, which emits equation `e`'s MatMul (naming
 * its output through `g`). `foldViews` false treats every operand as a plain tensor (to test the guard).
 */
export function dotLowering(g: GraphBuilder, jaxpr: FlatJaxpr, stats: DotStats, o: { foldViews: boolean; limit: number }): (e: JEqn) => void {
  const name = (v: JVar) => g.name(v);
  const atom = (a: JEqn['inputs'][number], dtype?: string) => g.atom(a, dtype);
  const names = g.names;
  const limit = o.limit;
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
    if (o.foldViews && e && x && !isLit(x)) {
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
    // x [..., K] @ w [K, N] as it is: ONNX MatMul broadcasts a 2-D right operand over leading axes.
    // K must be the source's last axis alone (not, say, heads x head_dim merged)
    const aSource = sourceOrder(va, [...m, r - 1]);
    const aReal = va.sourceShape.flatMap((d, i) => (d > 1 ? [i] : []));
    const kLast = va.axes[r - 1].src?.length === 1 && va.axes[r - 1].src?.[0] === va.sourceShape.length - 1;
    const aPlain = batch.length === 0 && kLast && aSource.length === aReal.length && aSource.every((ax, i) => ax === aReal[i]);
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

  return lowerDot;
}
