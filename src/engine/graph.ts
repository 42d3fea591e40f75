/**
 * The pieces every lowering step shares: the jaxpr's structure as the lowering sees it (jax-js does
 * not export its classes), the engine's error type, and the graph being built (nodes, cached
 * constants, names and static shapes of the tensors made so far, and where each node came from).
 */
import type { Attr, DType, Initializer, OnnxNode } from './onnx.ts';

/** An abstract value: shape and jax-js dtype name. */
export type Aval = { shape: number[]; dtype: string };
/** A jaxpr variable (identity by object) or a scalar literal. */
export type JVar = { id: number; aval: Aval };
export type JLit = { value: number; aval: Aval };
export type Atom = JVar | JLit;
/** One jaxpr equation, structurally (jax-js does not export the class). */
export type JEqn = { primitive: string; inputs: Atom[]; params: Record<string, any>; outBinders: JVar[]; toString(): string };
/** A flat jaxpr, structurally. */
export type FlatJaxpr = { inBinders: JVar[]; eqns: JEqn[]; outs: Atom[] };

/** A lowering failure that names the equation; the message says what to change. */
export class EngineError extends Error {
  override name = 'EngineError';
}

export const isLit = (a: Atom): a is JLit => 'value' in a;
export const sameShape = (a: number[] | undefined, b: number[]) => a !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);
/** An equation as one line of jaxpr text (for error messages). */
export const eqnText = (e: { toString(): string }) => e.toString().replace(/\s+/g, ' ').trim();
export const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The ONNX element type of a jax-js dtype. */
export function onnxDType(d: string): DType {
  if (d === 'float32' || d === 'int32' || d === 'uint32' || d === 'bool' || d === 'uint8') return d;
  throw new EngineError(`dtype ${d} has no ONNX lowering here; keep programs in float32/int32/bool`);
}

export function scalarBytes(value: number, dtype: DType): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(Float32Array.of(value).buffer);
  if (dtype === 'int32') return new Uint8Array(Int32Array.of(value).buffer);
  if (dtype === 'uint32') return new Uint8Array(Uint32Array.of(value).buffer);
  if (dtype === 'int64') return new Uint8Array(BigInt64Array.of(BigInt(value)).buffer);
  return Uint8Array.of(value ? 1 : 0);
}

/** Builds one graph: nodes, cached constants, and where each node came from. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  /** output name -> index of the equation that emitted it */
  readonly origin = new Map<string, number>();
  current = -1;
  /** the tensor name of each variable that is not called v<id> (inputs, outputs, aliases) */
  readonly names = new Map<JVar, string>();
  private tmp = 0;
  private consts = new Map<string, string>();

  name(v: JVar): string {
    return this.names.get(v) ?? `v${v.id}`;
  }

  /** A variable's tensor, or a literal as a cached scalar constant of `dtype` (default its own). */
  atom(a: Atom, dtype?: string): string {
    return isLit(a) ? this.scalar(a.value, onnxDType(dtype ?? a.aval.dtype)) : this.name(a);
  }

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
