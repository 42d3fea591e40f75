/**
 * The ONNX graph model and its protobuf encoding (the subset of onnx.proto a lowered jaxpr needs:
 * ModelProto with one GraphProto of NodeProtos, initializer TensorProtos with raw data, static
 * tensor ValueInfos, opset imports and metadata_props). Written by hand: protobuf's wire format is
 * varints and length-prefixed fields, and no encoder package is needed for ~100 lines.
 */

/** ONNX TensorProto.DataType codes of the element types vlalab's programs use. */
export const ONNX_DTYPES = Object.freeze({ float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, uint32: 12 });

/** An element type by its jax-js / onnxruntime name. */
export type DType = keyof typeof ONNX_DTYPES;

/** A node attribute (exactly one value field). */
export type Attr = { name: string } & ({ f: number } | { i: number } | { s: string } | { ints: number[] } | { floats: number[] });
/** One graph node; `domain` '' is the default ONNX domain. */
export type OnnxNode = { op: string; inputs: string[]; outputs: string[]; attrs?: Attr[]; domain?: string };
/** A constant tensor (an initializer) with its bytes in row-major order. */
export type Initializer = { name: string; dtype: DType; dims: number[]; raw: Uint8Array };
/** A graph input or output with a static shape. */
export type ValueInfo = { name: string; dtype: DType; dims: number[] };
/** A whole graph. */
export type OnnxGraph = { name: string; nodes: OnnxNode[]; initializers: Initializer[]; inputs: ValueInfo[]; outputs: ValueInfo[] };

/** The opset the lowering targets (Split/Reduce* take their axes as inputs from 13/18 on). */
export const OPSET = 18;

/** A protobuf message being written: fields appended in order, then concatenated. */
class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, n: number | bigint): this {
    this.tag(field, 0);
    this.varint(n);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }

  float(field: number, f: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, f, true);
    this.push(b);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function tensorProto(t: Initializer): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  return w.int(2, ONNX_DTYPES[t.dtype]).str(8, t.name).bytes(9, t.raw);
}

function attrProto(a: Attr): Writer {
  const w = new Writer().str(1, a.name);
  // AttributeProto.type: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7
  if ('f' in a) return w.float(2, a.f).int(20, 1);
  if ('i' in a) return w.int(3, a.i).int(20, 2);
  if ('s' in a) return w.str(4, a.s).int(20, 3);
  if ('floats' in a) {
    for (const f of a.floats) w.float(7, f);
    return w.int(20, 6);
  }
  for (const i of a.ints) w.int(8, i);
  return w.int(20, 7);
}

function nodeProto(n: OnnxNode): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.str(1, i);
  for (const o of n.outputs) w.str(2, o);
  w.str(4, n.op);
  for (const a of n.attrs ?? []) w.msg(5, attrProto(a));
  if (n.domain) w.str(7, n.domain);
  return w;
}

function valueInfoProto(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.msg(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, ONNX_DTYPES[v.dtype]).msg(2, shape);
  return new Writer().str(1, v.name).msg(2, new Writer().msg(1, tensorType));
}

/**
 * Encodes a graph as an ONNX ModelProto (IR version 8, default opset OPSET plus the com.microsoft
 * contrib domain ORT's fused kernels live in). `metadata` becomes metadata_props (string pairs);
 * `opset` overrides the default domain's opset (for graphs with newer ops, such as bench/attention-fusion.ts's).
 */
export function encodeModel(g: OnnxGraph, opts: { producer?: string; doc?: string; metadata?: Record<string, string>; opset?: number } = {}): Uint8Array {
  const graph = new Writer();
  for (const n of g.nodes) graph.msg(1, nodeProto(n));
  graph.str(2, g.name);
  for (const t of g.initializers) graph.msg(5, tensorProto(t));
  for (const i of g.inputs) graph.msg(11, valueInfoProto(i));
  for (const o of g.outputs) graph.msg(12, valueInfoProto(o));
  const model = new Writer().int(1, 8).str(2, opts.producer ?? 'vlalab');
  if (opts.doc) model.str(6, opts.doc);
  model.msg(8, new Writer().str(1, '').int(2, opts.opset ?? OPSET));
  model.msg(8, new Writer().str(1, 'com.microsoft').int(2, 1));
  model.msg(7, graph);
  for (const [k, v] of Object.entries(opts.metadata ?? {})) model.msg(14, new Writer().str(1, k).str(2, v));
  return model.finish();
}
