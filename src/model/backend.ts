/**
 * The one entry to the array library (jax-js): every model, training and serving file imports it
 * from here (through model/index.ts outside the model layer), so the Worker shim is installed and
 * the kernel memo patched before jax-js is first evaluated, whatever a process imports first; the
 * layering test forbids importing `@jax-js/jax` anywhere else (engine/ aside, see cli/main.ts).
 * Also: a consistency check of the thread pool, and the device switch.
 */
import { uninstallWorkerShim, wasmMemoryBytes, workerShimInstalled } from '../util/worker-shim.ts';
import { defaultDevice, init, numpy as np } from '@jax-js/jax';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/index.ts';

export { jit, type JsTree, type JsTreeDef, nn, numpy, random, tree, valueAndGrad } from '@jax-js/jax';
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
let preparations = 0;

/** Kernel launches on the wasm backend so far (each launch prepares its kernel; 0 without the patch). */
export function kernelLaunches(): number {
  return launches;
}

/** Kernel preparations the memo could not answer (a Kernel object seen for the first time); 0 without the patch. */
export function kernelPreparations(): number {
  return preparations;
}

/** The installed @jax-js/jax version (from its package.json). */
export function jaxVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@jax-js/jax')));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@jax-js/jax') return String(pkg.version);
    } catch {
      // not this folder
    }
  }
  return 'unknown';
}

/**
 * jax-js's wasm backend object, reached through the library's internal chunk: `indexSource` is its
 * index.js, which re-exports from "./backend-HASH.js"; that chunk's getBackend('wasm') is the
 * backend. Throws, naming `version`, when the layout differs (another jax-js version).
 */
export async function wasmBackendOf(indexSource: string, importChunk: (file: string) => Promise<Record<string, unknown>>, version: string): Promise<WasmBackendLike> {
  const changed = (what: string) => new Error(`@jax-js/jax ${version}: the kernel memo patch (src/model/backend.ts, written for 0.1.25) ${what}; ` +
    'update the patch for this version, or set VLALAB_KERNEL_MEMO=0 to run without it (small models step ~20% slower)');
  const chunk = /from "\.\/(backend-[\w-]+\.js)"/.exec(indexSource)?.[1];
  if (!chunk) throw changed('finds no backend-*.js chunk in the package index');
  const mod = await importChunk(chunk);
  const getBackend = Object.values(mod).find((f) => typeof f === 'function' && f.name === 'getBackend') as ((d: string) => unknown) | undefined;
  if (!getBackend) throw changed(`finds no getBackend in ${chunk}`);
  const wasm = getBackend('wasm') as Partial<WasmBackendLike> | undefined;
  if (typeof wasm?.prepareKernel !== 'function' || typeof wasm.prepareKernelSync !== 'function') throw changed('finds no prepareKernel/prepareKernelSync on the wasm backend');
  return wasm as WasmBackendLike;
}

/**
 * jax-js 0.1.25 prepares every kernel launch afresh: a jitted program re-dispatches the same Kernel
 * objects each call, and each dispatch re-hashes its kernel (a BigInt polynomial hash of the whole
 * expression tree) to find the compiled module, ~20 % of a small model's step. This memoizes the
 * prepared executable per Kernel object (what it returns is immutable: the kernel and its compiled
 * module). Off with VLALAB_KERNEL_MEMO=0; a jax-js whose layout differs is an error (wasmBackendOf).
 */
async function memoizeKernelPreparation(): Promise<boolean> {
  if (process.env.VLALAB_KERNEL_MEMO === '0') return false;
  const index = import.meta.resolve('@jax-js/jax');
  const wasm = await wasmBackendOf(readFileSync(fileURLToPath(index), 'utf8'), (chunk) => import(new URL(chunk, index).href), jaxVersion());
  for (const name of ['prepareKernel', 'prepareKernelSync'] as const) {
    const original = wasm[name].bind(wasm);
    const memo = new WeakMap<object, unknown>();
    wasm[name] = (kernel: object) => {
      launches++;
      let exe = memo.get(kernel);
      if (exe === undefined) {
        preparations++;
        memo.set(kernel, (exe = original(kernel)));
      }
      return exe;
    };
  }
  return true;
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
