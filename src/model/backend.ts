/**
 * The jax-js backend: the Worker shim (so wasm kernels run on all cores), a consistency check, and
 * the device switch. Model files import this module first.
 */
import { uninstallWorkerShim, wasmMemoryBytes, workerShimInstalled } from './worker-shim.ts';
import { defaultDevice, init, numpy as np } from '@jax-js/jax';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/index.ts';

export { wasmMemoryBytes };

/**
 * If `@jax-js/jax` was evaluated before the shim (someone imported it first), its wasm memory is not
 * shared and a global Worker would make later kernels fail to link. Probe one kernel: a LinkError
 * means exactly that, so remove the shim and stay single-threaded.
 */
function probe(): boolean {
  if (!workerShimInstalled) return false;
  const x = np.array([1, 2]).add(1);
  try {
    x.ref.dataSync(); // with the pool this throws "cannot read synchronously" (async work pending)
    return true;
  } catch (err) {
    if ((err as Error).name === 'LinkError') {
      uninstallWorkerShim();
      return false;
    }
    return true;
  } finally {
    if (x.refCount > 0) x.dispose();
  }
}

/** True when wasm kernels run on the worker thread pool. */
export const multiThreaded = probe();

type Prepare = (kernel: object) => unknown;
type WasmBackendLike = { prepareKernel: Prepare; prepareKernelSync: Prepare };

let launches = 0;

/** Kernel launches on the wasm backend so far (each launch prepares its kernel; 0 without the patch). */
export function kernelLaunches(): number {
  return launches;
}

/**
 * jax-js 0.1.25 prepares every kernel launch afresh: a jitted program re-dispatches the same Kernel
 * objects each call, and each dispatch re-hashes its kernel (a BigInt polynomial hash of the whole
 * expression tree) to find the compiled module, ~20 % of a small model's step. This memoizes the
 * prepared executable per Kernel object (what it returns is immutable: the kernel and its compiled
 * module). The backend is reached through the library's internal chunk; if its layout differs (another
 * version), nothing is patched. Returns whether the patch is active.
 */
async function memoizeKernelPreparation(): Promise<boolean> {
  try {
    const index = fileURLToPath(import.meta.resolve('@jax-js/jax'));
    const chunk = /from "\.\/(backend-[\w-]+\.js)"/.exec(readFileSync(index, 'utf8'))?.[1];
    if (!chunk) return false;
    const mod = (await import(new URL(chunk, import.meta.resolve('@jax-js/jax')).href)) as Record<string, unknown>;
    const getBackend = Object.values(mod).find((f) => typeof f === 'function' && f.name === 'getBackend') as ((d: string) => unknown) | undefined;
    const wasm = getBackend?.('wasm') as Partial<WasmBackendLike> | undefined;
    if (typeof wasm?.prepareKernel !== 'function' || typeof wasm.prepareKernelSync !== 'function') return false;
    for (const name of ['prepareKernel', 'prepareKernelSync'] as const) {
      const original = wasm[name]!.bind(wasm);
      const memo = new WeakMap<object, unknown>();
      wasm[name] = (kernel: object) => {
        launches++;
        let exe = memo.get(kernel);
        if (exe === undefined) memo.set(kernel, (exe = original(kernel)));
        return exe;
      };
    }
    return true;
  } catch {
    return false;
  }
}

/** True when kernel preparation is memoized (see memoizeKernelPreparation). */
export const kernelMemo = await memoizeKernelPreparation();

/**
 * Resolves when every kernel that `x` depends on has run (`x` is not consumed). jax-js launches
 * kernels lazily, when some array is read: a loop that reads results back only every N steps (a
 * trainer between log lines) builds N steps of work, every buffer of it allocated, before running
 * any of it, which measured ~4x slower per step for the `quick` config. Await this once per step
 * (e.g. on the gradient norm that `adamwStep` returns).
 */
export async function settle(x: np.Array): Promise<void> {
  (await x.ref.blockUntilReady()).dispose();
}

/** The devices a model can run on: 'cpu' is jax-js's wasm backend. */
export type ModelDevice = 'cpu' | 'webgpu';

/**
 * Selects the compute device (default 'cpu' = wasm, multi-threaded through the Worker shim unless
 * VLALAB_THREADS=1). 'webgpu' needs a WebGPU-capable runtime (a browser or Deno; not Node).
 * Returns a description such as "wasm, 2 threads".
 */
export async function initBackend(opts: { device?: ModelDevice } = {}): Promise<string> {
  const device = opts.device ?? 'cpu';
  if (device === 'webgpu') {
    const available = await init('webgpu');
    if (!available.includes('webgpu')) {
      throw new UserError('WebGPU is not available in this runtime (Node has none); use --device cpu');
    }
    defaultDevice('webgpu');
    return 'webgpu';
  }
  await init('wasm');
  defaultDevice('wasm');
  const threads = multiThreaded ? (globalThis.navigator?.hardwareConcurrency ?? 1) : 1;
  return `wasm, ${threads} thread${threads === 1 ? '' : 's'}`;
}
