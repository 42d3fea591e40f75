import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad, jit, type JsTree, lax, makeJaxpr, nn, numpy as np, random, tree } from '@jax-js/jax';
import { maxAbsDiff } from '../../test/helpers/close.ts';
import { Rng } from '../util/index.ts';
import { EngineError, LOWERED_PRIMITIVES, lowerJaxpr, ProgramSession, traceProgram } from './index.ts';

type Arr = np.Array;
type Host = Float32Array | Int32Array;

const rng = new Rng(7);
/** Host data of a random array (normal floats, or ints in [lo, hi)). */
function rand(shape: number[], o: { int?: [number, number]; positive?: boolean; unit?: boolean } = {}): { data: Host; shape: number[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  if (o.int) return { data: Int32Array.from({ length: n }, () => o.int![0] + Math.floor(rng.uniform() * (o.int![1] - o.int![0]))), shape };
  const f = () => (o.unit ? rng.uniform() * 1.8 - 0.9 : o.positive ? 0.1 + rng.uniform() * 2 : rng.normal());
  return { data: Float32Array.from({ length: n }, f), shape };
}
const dev = (h: { data: Host; shape: number[] }) => np.array(h.data as Float32Array<ArrayBuffer>, { shape: h.shape, dtype: h.data instanceof Int32Array ? np.int32 : np.float32 });

/**
 * Runs `fn` on the inputs with jax-js (jitted) and as a lowered ONNX program; asserts every output
 * agrees within `tol` of its largest magnitude; returns the lowering's stats and the jaxpr's primitives.
 */
async function agree(fn: (...a: Arr[]) => JsTree<Arr>, inputs: { data: Host; shape: number[] }[], tol = 1e-5) {
  const program = await traceProgram(fn, inputs.map(dev));
  const session = await ProgramSession.create(program.model, program.inputs, program.outputs, { threads: 1 });
  const outs = await session.run(inputs.map((h, i) => session.value(i, h.data)));
  await session.release();
  const ref = tree.flatten(jit(fn)(...inputs.map(dev)))[0] as Arr[];
  assert.equal(outs.length, ref.length);
  for (let i = 0; i < ref.length; i++) {
    const want = Array.from((await ref[i].data()) as Host, Number);
    const got = Array.from(outs[i].data as Host | Uint8Array, Number);
    const scale = Math.max(1, ...want.map(Math.abs));
    assert.ok(maxAbsDiff(got, want) <= tol * scale, `output ${i}: max diff ${maxAbsDiff(got, want)} (scale ${scale})\n got ${got.slice(0, 8)}\nwant ${want.slice(0, 8)}`);
  }
  return program.stats;
}

/** Each case: a function, its inputs, and the primitives its jaxpr must contain (so the case tests what it says). */
const CASES: { name: string; prims: string[]; fn: (...a: Arr[]) => JsTree<Arr>; inputs: () => { data: Host; shape: number[] }[] }[] = [
  { name: 'add, mul, min, max with broadcasting and literals', prims: ['add', 'mul', 'min', 'max'], fn: (a, b) => [a.ref.add(b.ref).mul(2), np.minimum(a.ref, b.ref), np.maximum(a, b).add(-0.5)], inputs: () => [rand([3, 4]), rand([1, 4])] },
  { name: 'neg, reciprocal, sqrt, exp, log', prims: ['neg', 'reciprocal', 'sqrt', 'exp', 'log'], fn: (x) => [x.ref.neg(), np.reciprocal(x.ref), np.sqrt(x.ref), np.exp(x.ref.neg()), np.log(x)], inputs: () => [rand([5, 3], { positive: true })] },
  { name: 'sin, cos, asin, atan', prims: ['sin', 'cos', 'asin', 'atan'], fn: (x) => [np.sin(x.ref), np.cos(x.ref), np.arcsin(x.ref), np.arctan(x)], inputs: () => [rand([7], { unit: true })] },
  { name: 'floor, ceil, erf, erfc', prims: ['floor', 'ceil', 'erf', 'erfc'], fn: (x) => [np.floor(x.ref.mul(3)), np.ceil(x.ref.mul(3)), lax.erf(x.ref), lax.erfc(x)], inputs: () => [rand([9])] },
  { name: 'integer idiv and mod (C-style signs)', prims: ['idiv', 'mod'], fn: (a, b) => [np.fmod(a.ref, b.ref), np.floorDivide(a.ref, b.ref), np.remainder(a, b)], inputs: () => [rand([6], { int: [-20, 20] }), { data: Int32Array.of(3, -3, 7, 5, -2, 4), shape: [6] }] },
  { name: 'cast, compare, where', prims: ['cast', 'compare', 'where'], fn: (x, y) => [np.where(np.less(x.ref, y.ref), x.ref, y.ref), np.equal(x.ref, y.ref).astype(np.float32), np.notEqual(x.ref, 0).astype(np.int32), np.lessEqual(x, y)], inputs: () => [rand([4, 3]), rand([4, 3])] },
  { name: 'reduce sum, max, min over axes', prims: ['reduce'], fn: (x) => [x.ref.sum(), np.max(x.ref, 1), np.min(x.ref, [0, 2]), np.mean(x, -1, { keepdims: true })], inputs: () => [rand([2, 3, 4])] },
  { name: 'softmax, silu (stop_gradient inside)', prims: ['stop_gradient'], fn: (x) => [nn.softmax(x.ref, -1), nn.silu(x)], inputs: () => [rand([3, 5])] },
  { name: 'transpose, reshape, broadcast', prims: ['transpose', 'reshape', 'broadcast'], fn: (x) => [np.transpose(x.ref, [2, 0, 1]), x.ref.reshape([6, 4]), np.broadcastTo(x.reshape([2, 3, 4, 1]), [2, 3, 4, 5])], inputs: () => [rand([2, 3, 4])] },
  { name: 'concatenate, split', prims: ['concatenate', 'split'], fn: (a, b) => { const [p, q] = np.split(np.concatenate([a, b], 1), [2], 1); return [p, q]; }, inputs: () => [rand([2, 3]), rand([2, 4])] },
  { name: 'shrink (slice), pad, flip', prims: ['shrink', 'pad', 'flip'], fn: (x) => [x.ref.slice([1, 3], [0, 2]), np.pad(x.ref, [[1, 0], [0, 2]]), np.flip(x, 1)], inputs: () => [rand([4, 3])] },
  { name: 'gather (np.take) of rows with int32 ids', prims: ['gather'], fn: (t, i) => [np.take(t, i, 0)], inputs: () => [rand([6, 3]), rand([2, 5], { int: [0, 6] })] },
  { name: 'dot as a plain and a batched matmul', prims: ['dot'], fn: (a, b, c) => [np.matmul(a.ref, b), np.matmul(np.transpose(a.reshape([2, 3, 4]), [0, 2, 1]), c)], inputs: () => [rand([6, 4]), rand([4, 5]), rand([2, 3, 7])] },
  // one query token's attention output, heads merged: after the unit axis moves, the source's axes
  // are in order, but the contracted axis merges two of them (heads x head_dim), not the last alone
  { name: 'dot over merged heads of a one-token sequence', prims: ['dot'], fn: (o, w) => [np.matmul(np.transpose(o, [0, 2, 1, 3]).reshape([2, 1, 32]), w)], inputs: () => [rand([2, 2, 1, 16]), rand([32, 5])] },
];

describe('jaxpr -> ONNX lowering', () => {
  for (const cs of CASES) {
    it(`matches jax-js: ${cs.name}`, async () => {
      const ins = cs.inputs();
      const { jaxpr } = makeJaxpr(cs.fn)(...ins.map(dev));
      const prims = new Set(jaxpr.jaxpr.flatten().simplify().eqns.map((e) => e.primitive as string));
      jaxpr.dispose();
      for (const p of cs.prims) assert.ok(prims.has(p), `the case should exercise ${p}; its jaxpr has ${[...prims].join(', ')}`);
      await agree(cs.fn, ins);
    });
  }

  it('has a case for every primitive with a lowering', () => {
    const covered = new Set(CASES.flatMap((c) => c.prims));
    assert.deepEqual(LOWERED_PRIMITIVES.filter((p) => !covered.has(p)), []);
  });

  it('fuses softmax, RMSNorm and SiLU chains of a forward program into single ops, with the same numbers', async () => {
    // RMSNorm exactly as model/layers.ts writes it
    const rms = (x: Arr, scale: Arr) => x.ref.mul(np.reciprocal(np.sqrt(np.mean(np.square(x), -1, { keepdims: true }).add(1e-6)))).mul(scale);
    const fn = (x: Arr, scale: Arr) => [nn.softmax(rms(x.ref, scale), -1), nn.silu(x)];
    const stats = await agree(fn, [rand([2, 5, 8]), rand([8], { positive: true })]);
    assert.deepEqual(stats.fused, { 'rms-norm': 1, softmax: 1, silu: 1 });
    assert.equal(stats.ops.SimplifiedLayerNormalization, 1);
    assert.equal(stats.ops.Softmax, 1);
    assert.equal(stats.ops.Sigmoid, 1);
    assert.equal(stats.ops.Exp ?? 0, 0, 'no exp left unfused');
  });

  it('leaves a chain unfused when the backward pass reads its intermediates', async () => {
    const fn = (x: Arr) => [grad((y: Arr) => nn.softmax(nn.silu(y), -1).mul(np.arange(5).astype(np.float32)).sum())(x)];
    const stats = await agree(fn, [rand([3, 5])], 1e-4);
    assert.deepEqual(stats.fused, {});
  });

  it('folds every weight gradient (broadcast and transposed views) into one MatMul', async () => {
    // the gradient of a linear layer wrt its weight and input: dots over reshape(transpose(broadcast(.)))
    const loss = (w: Arr, x: Arr, y: Arr) => np.square(np.matmul(x, w).sub(y)).sum();
    const fn = (w: Arr, x: Arr, y: Arr) => [grad(loss, { argnums: [0, 1] } as never)(w, x, y)].flat() as Arr[];
    const inputs = [rand([8, 6]), rand([3, 5, 8]), rand([3, 5, 6])];
    const stats = await agree(fn, inputs, 1e-4);
    assert.ok(stats.dots >= 3, `expected the forward and two backward dots, got ${stats.dots}`);
    assert.equal(stats.dotsAsMatMul, stats.dots, 'every dot becomes a MatMul');
    // with no materialized broadcast allowed at all, the graph still lowers: no Expand feeds a MatMul
    await traceProgram(fn, inputs.map(dev) as [Arr, Arr, Arr], { materializeLimit: 0 });
  });

  it('refuses, naming the equation, a graph where a large materialized broadcast would feed a dot', async () => {
    const loss = (w: Arr, x: Arr) => np.matmul(x, w).sum();
    const { jaxpr } = makeJaxpr((w: Arr, x: Arr) => grad(loss)(w, x))(dev(rand([16, 16])), dev(rand([4, 8, 16])));
    const flat = jaxpr.jaxpr.flatten().simplify() as never;
    const consts = [] as { dtype: string; data: ArrayBufferView }[];
    for (const c of jaxpr.consts as unknown as Arr[]) consts.push({ dtype: c.dtype, data: (await c.ref.data()) as ArrayBufferView });
    // positive control: folded, it lowers
    assert.ok(lowerJaxpr(flat, consts).stats.dotsAsMatMul > 0);
    assert.throws(() => lowerJaxpr(flat, consts, { foldViews: false, materializeLimit: 256 }), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.match(err.message, /equation #\d+ \(.*\).*materializ/);
      return true;
    });
    jaxpr.dispose();
  });

  it('refuses random-number primitives with what to do instead', async () => {
    await assert.rejects(traceProgram((k: Arr) => random.normal(k, [3]), [random.key(0)]), /draw the noise on the host/);
  });
});
