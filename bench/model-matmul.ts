import '../src/util/worker-shim.ts';
import { numpy as np, jit } from '../src/model/index.ts';
const f = jit((a: np.Array, b: np.Array) => np.matmul(a, b));
const n = Number(process.argv[2] ?? 256);
const a = np.ones([n, n]); const b = np.ones([n, n]);
for (let i = 0; i < 3; i++) { const c = f(a.ref, b.ref); await c.data(); }
const t = performance.now(); const R = 20;
for (let i = 0; i < R; i++) { const c = f(a.ref, b.ref); await c.data(); }
const dt = (performance.now() - t) / R;
console.log(process.env.VLALAB_THREADS ?? 'default', `${n}x${n} matmul ${dt.toFixed(2)} ms, ${(2*n**3/dt/1e6).toFixed(2)} GFLOP/s`);
