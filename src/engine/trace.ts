/**
 * From a jax-js function to an ONNX program: trace it with `makeJaxpr` on example arguments,
 * inline nested jits and simplify, turn the trace's constants into initializers, and lower.
 * The program's inputs are the arguments' leaves in `tree.flatten` order; its outputs the result's.
 */
import { type JsTree, type JsTreeDef, makeJaxpr, type numpy as np, tree } from '@jax-js/jax';
import { type FlatJaxpr, type LowerOptions, type LowerStats, lowerJaxpr } from './lower.ts';
import { encodeModel, type ValueInfo } from './onnx.ts';

type Arr = np.Array;

/** A lowered program: the ONNX model bytes, its signature and the result's tree structure. */
export type Program = {
  model: Uint8Array;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** the structure of `fn`'s result (unflatten the outputs with it) */
  outTree: JsTreeDef;
  stats: LowerStats;
};

/** Options of `traceProgram`: the lowering's, plus model metadata (metadata_props) and a doc string. */
export type TraceOptions = LowerOptions & { metadata?: Record<string, string>; doc?: string };

/**
 * Traces `fn` on `args` (consumed; only their shapes and dtypes matter, except that constants the
 * function closes over are baked in) and lowers it to an ONNX program.
 */
export async function traceProgram<A extends JsTree<Arr>[]>(fn: (...args: A) => JsTree<Arr>, args: A, opts: TraceOptions = {}): Promise<Program> {
  const { jaxpr: closed, treedef } = makeJaxpr(fn)(...args);
  tree.dispose(args);
  const flat = closed.jaxpr.flatten().simplify() as unknown as FlatJaxpr;
  const consts: { dtype: string; data: ArrayBufferView }[] = [];
  for (const c of closed.consts as unknown as Arr[]) consts.push({ dtype: c.dtype, data: (await c.ref.data()) as ArrayBufferView });
  closed.dispose();
  const { graph, stats } = lowerJaxpr(flat, consts, opts);
  const model = encodeModel(graph, { metadata: opts.metadata, doc: opts.doc });
  return { model, inputs: graph.inputs, outputs: graph.outputs, outTree: treedef, stats };
}
