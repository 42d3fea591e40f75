/**
 * Would a fused attention kernel make the policy sampler faster? One Euler step's attention of a
 * config (B = 1: the action tokens' queries against the prefix cache plus their own keys) three
 * ways, on the same inputs, in ONNX Runtime:
 *   chain  the nodes the lowering emits for it: split heads (Reshape, Transpose), Concat with the
 *          cache, MatMul, scale, bias, Softmax, MatMul, merge heads (16 nodes)
 *   onnx   ONNX's Attention (opset 23), 3-D inputs, the cache as past_key / past_value
 *   mha    ORT's com.microsoft.MultiHeadAttention, the same inputs
 * Checks that the three agree, then prints the median and 10th-percentile process CPU time per
 * run (CPU time: steadier than wall time on a shared machine), less an Identity graph's (the
 * fixed cost of a run), over `reps` runs, three alternating rounds.
 *
 *   VLALAB_THREADS=1 node bench/attention-fusion.ts [config=tiny] [reps=3000]
 */
import { encodeModel, type Initializer, type OnnxGraph, type OnnxNode, ProgramSession, type ValueInfo } from '../src/engine/index.ts';
import { getConfig, prefixLength, suffixPadding } from '../src/model/index.ts';

const name = process.argv[2] ?? 'tiny';
const reps = Number(process.argv[3] ?? 3000);
const c = getConfig(name);
const [h, d] = [c.numHeads, c.headDim];
const s = 1 + c.actionHorizon + suffixPadding(c); // suffix tokens (queries)
const p = prefixLength(c); // cached keys
const [t, w] = [p + s, h * d];

const f32 = (n: string, dims: number[]): ValueInfo => ({ name: n, dtype: 'float32', dims });
const inputs = [f32('q', [1, s, w]), f32('k', [1, s, w]), f32('v', [1, s, w]), f32('bias', [1, 1, s, t]), f32('past_k', [1, h, p, d]), f32('past_v', [1, h, p, d])];
const output = f32('y', [1, s, w]);
const ints = (n: string, v: number[]): Initializer => ({ name: n, dtype: 'int64', dims: [v.length], raw: new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) });
const perm = (ints_: number[]) => [{ name: 'perm', ints: ints_ }];

const chain: OnnxNode[] = [
  ...['q', 'k', 'v'].flatMap((x) => [
    { op: 'Reshape', inputs: [x, 'heads'], outputs: [`${x}4`] },
    { op: 'Transpose', inputs: [`${x}4`], outputs: [`${x}t`], attrs: perm([0, 2, 1, 3]) },
  ]),
  { op: 'Concat', inputs: ['past_k', 'kt'], outputs: ['kc'], attrs: [{ name: 'axis', i: 2 }] },
  { op: 'Concat', inputs: ['past_v', 'vt'], outputs: ['vc'], attrs: [{ name: 'axis', i: 2 }] },
  { op: 'Transpose', inputs: ['kc'], outputs: ['kT'], attrs: perm([0, 1, 3, 2]) },
  { op: 'MatMul', inputs: ['qt', 'kT'], outputs: ['s0'] },
  { op: 'Mul', inputs: ['s0', 'scale'], outputs: ['s1'] },
  { op: 'Add', inputs: ['s1', 'bias'], outputs: ['s2'] },
  { op: 'Softmax', inputs: ['s2'], outputs: ['pr'], attrs: [{ name: 'axis', i: -1 }] },
  { op: 'MatMul', inputs: ['pr', 'vc'], outputs: ['o'] },
  { op: 'Transpose', inputs: ['o'], outputs: ['ot'], attrs: perm([0, 2, 1, 3]) },
  { op: 'Reshape', inputs: ['ot', 'merged'], outputs: ['y'] },
];
const scale = 1 / Math.sqrt(d);
const graphs: Record<string, { graph: OnnxGraph; opset?: number }> = {
  chain: {
    graph: {
      name: 'chain', nodes: chain, inputs, outputs: [output],
      initializers: [ints('heads', [1, s, h, d]), ints('merged', [1, s, w]), { name: 'scale', dtype: 'float32', dims: [], raw: new Uint8Array(Float32Array.of(scale).buffer) }],
    },
  },
  // both kernels refuse a past key without the present key as an output
  onnx: {
    opset: 23,
    graph: {
      name: 'onnx', inputs, outputs: [output], initializers: [],
      nodes: [{ op: 'Attention', inputs: ['q', 'k', 'v', 'bias', 'past_k', 'past_v'], outputs: ['y', 'present_k', 'present_v'], attrs: [{ name: 'q_num_heads', i: h }, { name: 'kv_num_heads', i: h }, { name: 'scale', f: scale }] }],
    },
  },
  mha: {
    graph: {
      name: 'mha', inputs, outputs: [output], initializers: [],
      nodes: [{ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v', '', '', 'bias', 'past_k', 'past_v'], outputs: ['y', 'present_k', 'present_v'], attrs: [{ name: 'num_heads', i: h }, { name: 'scale', f: scale }] }],
    },
  },
  identity: { graph: { name: 'identity', inputs: [inputs[0]], outputs: [output], initializers: [], nodes: [{ op: 'Identity', inputs: ['q'], outputs: ['y'] }] } },
};

let seed = 1;
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const data = inputs.map((i) => Float32Array.from({ length: i.dims.reduce((a, b) => a * b, 1) }, random));
data[3].forEach((_, i) => i % 7 === 0 && (data[3][i] = -1e9)); // masked keys, as the block mask has

const sessions: Record<string, { session: ProgramSession; values: ReturnType<ProgramSession['value']>[] }> = {};
for (const [k, { graph, opset }] of Object.entries(graphs)) {
  const session = await ProgramSession.create(encodeModel(graph, { opset }), graph.inputs, graph.outputs);
  sessions[k] = { session, values: graph.inputs.map((_, i) => session.value(i, data[i])) };
}
const outs: Record<string, Float32Array> = {};
for (const k of ['chain', 'onnx', 'mha']) outs[k] = (await sessions[k].session.run(sessions[k].values))[0].data as Float32Array;
for (const k of ['onnx', 'mha']) {
  const err = outs[k].reduce((m, x, i) => Math.max(m, Math.abs(x - outs.chain[i])), 0);
  if (!(err < 1e-5)) throw new Error(`${k} differs from the chain by ${err}`);
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const results: Record<string, { p10: number[]; median: number[] }> = {};
for (let round = 0; round < 3; round++) {
  for (const [k, { session, values }] of Object.entries(sessions)) {
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const c0 = cpuUs();
      await session.run(values);
      times.push(cpuUs() - c0);
    }
    times.sort((a, b) => a - b);
    const r = (results[k] ??= { p10: [], median: [] });
    r.p10.push(times[Math.floor(reps / 10)]);
    r.median.push(times[Math.floor(reps / 2)]);
  }
}
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
const base = results.identity;
console.log(`${name}: ${h} heads x ${d}, ${s} queries, ${p} cached + ${s} new keys; CPU us per run less Identity's (${mid(base.median)} median), median over 3 rounds of ${reps}`);
console.log('| graph | nodes | median us | p10 us |');
console.log('|---|---|---|---|');
for (const k of ['chain', 'onnx', 'mha']) {
  console.log(`| ${k} | ${graphs[k].graph.nodes.length} | ${mid(results[k].median) - mid(base.median)} | ${mid(results[k].p10) - mid(base.p10)} |`);
}
for (const { session } of Object.values(sessions)) await session.release();
