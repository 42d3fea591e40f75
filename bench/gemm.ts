/**
 * The machine's attainable GEMM rate through ONNX Runtime (one 1024^3 float32 MatMul, median of 10
 * runs, VLALAB_THREADS threads) and the GEMM work of each config's batch-32 training step (2·M·N·K
 * summed over the MatMuls the engine lowers it to). Prints one JSON line.
 *
 *   VLALAB_THREADS=2 node bench/gemm.ts [configs=tiny,small]
 */
import '../src/model/backend.ts';
import { numpy as np, tree } from '@jax-js/jax';
import { ProgramSession, traceProgram } from '../src/engine/index.ts';
import { getConfig, initParams, syntheticBatch } from '../src/model/index.ts';
import { ADAMW_DEFAULTS } from '../src/training/index.ts';
import { BATCH_INPUTS, stepFunction, stepGroups, stepScalars } from '../src/training/step-program.ts';

const names = (process.argv[2] ?? 'tiny,small').split(',');
const out: Record<string, number> = {};
const n = 1024;
const mm = await traceProgram((a: np.Array, b: np.Array) => np.matmul(a, b), [np.zeros([n, n]), np.zeros([n, n])]);
const session = await ProgramSession.create(mm.model, mm.inputs, mm.outputs);
const x = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
const values = [session.value(0, x), session.value(1, x)];
const times: number[] = [];
for (let i = 0; i < 12; i++) {
  const t = performance.now();
  await session.run(values);
  if (i >= 2) times.push(performance.now() - t);
}
out.peak = (2 * n ** 3) / ([...times].sort((a, b) => a - b)[5] * 1e6);
for (const name of names) {
  const c = getConfig(name);
  const p = initParams(c, 0);
  const k = { frozen: false, ema: true };
  const shapes = (t: object) => (tree.flatten(t)[0] as np.Array[]).map((a) => a.shape);
  const batch = syntheticBatch(c, 32, 0) as unknown as Record<string, { shape: number[] }>;
  const groups = stepGroups(k).inputs.map((g) => shapes(g.endsWith('S') ? p.semantic : p.action).map((s) => np.zeros(s)));
  const inputs = BATCH_INPUTS.map((f) => (f === 'x0' ? np.zeros([32, c.actionHorizon, c.actionDim]) : f === 'tau' ? np.zeros([32]) : np.zeros(batch[f].shape, f === 'tokens' ? { dtype: np.int32 } : undefined)));
  const fn = stepFunction(c, ADAMW_DEFAULTS, k, { semantic: tree.flatten(p.semantic)[1], action: tree.flatten(p.action)[1] });
  const program = await traceProgram(fn, [groups, inputs, stepScalars(k).map(() => np.zeros([]))]);
  out[`${name}.trainFlops`] = program.stats.matmulFlops;
}
console.log(JSON.stringify(out));
process.exit(0);
