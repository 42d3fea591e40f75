/**
 * The machine's attainable GEMM rate through ONNX Runtime (one 1024^3 float32 MatMul, median of 10
 * runs, VLALAB_THREADS threads) and the GEMM work of each config's batch-32 training step (2·M·N·K
 * summed over the MatMuls the engine lowers it to). Prints one JSON line.
 *
 *   VLALAB_THREADS=2 node bench/gemm.ts [configs=tiny,small]
 */
import '../src/model/backend.ts';
import { ProgramSession, traceProgram } from '../src/engine/index.ts';
import { getConfig, initParams, syntheticBatch, numpy as np } from '../src/model/index.ts';
import { ADAMW_DEFAULTS, stepLayout, traceStepProgram } from '../src/training/index.ts';

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
  const program = await traceStepProgram(c, ADAMW_DEFAULTS, { frozen: false, ema: true }, stepLayout(initParams(c, 0)), syntheticBatch(c, 32, 0));
  out[`${name}.trainFlops`] = program.stats.matmulFlops;
}
console.log(JSON.stringify(out));
process.exit(0);
