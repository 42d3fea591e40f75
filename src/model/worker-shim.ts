/**
 * A minimal Web `Worker` on top of `node:worker_threads`, installed as a side effect of importing
 * this module. jax-js creates its wasm backend (and decides whether to start a thread pool) when
 * `@jax-js/jax` is first evaluated, and starts the pool only if a global `Worker` exists; Node has
 * none. So this module must be evaluated BEFORE `@jax-js/jax`: every model file imports it first.
 *
 * jax-js hands the worker a `blob:` URL of a classic script; we resolve it with
 * `buffer.resolveObjectURL`, read its text (async), and start a real thread with `eval: true` and a
 * small prelude that maps `self.onmessage`/`postMessage` onto `parentPort`. Messages posted before
 * the thread exists are queued. Threads are `unref`ed while idle so they never keep the process
 * alive, and ref'ed while a reply is owed so an `await x.data()` keeps it alive.
 *
 * Set `VLALAB_THREADS=1` in the environment to skip the shim (single-threaded wasm); any other
 * number caps the pool size (jax-js uses `navigator.hardwareConcurrency` workers).
 */
import { resolveObjectURL } from 'node:buffer';
import { Worker as NodeWorker } from 'node:worker_threads';

/** Prelude run in each thread: the Web worker globals jax-js's worker source expects. */
const PRELUDE = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
parentPort.on('message', (data) => { if (typeof self.onmessage === 'function') self.onmessage({ data }); });
`;

type Listener = ((e: { data?: unknown; message?: string }) => void) | null;

/** The subset of the Web Worker interface jax-js uses: constructor, postMessage, onmessage, onerror. */
class ShimWorker {
  onmessage: Listener = null;
  onerror: Listener = null;
  #thread: NodeWorker | null = null;
  #queue: unknown[] = [];
  #terminated = false;
  #pending = 0;

  constructor(url: string | URL, _options?: unknown) {
    const href = String(url);
    const blob = href.startsWith('blob:') ? resolveObjectURL(href) : undefined;
    if (!blob) throw new Error(`worker-shim: only blob: URLs are supported, got ${href}`);
    void blob.text().then(
      (source) => this.#start(source),
      (err: unknown) => this.onerror?.({ message: String(err) }),
    );
  }

  #start(source: string): void {
    if (this.#terminated) return;
    const thread = new NodeWorker(PRELUDE + source, { eval: true });
    thread.on('message', (data: unknown) => {
      if (--this.#pending === 0) thread.unref();
      this.onmessage?.({ data });
    });
    thread.on('error', (err: Error) => this.onerror?.({ message: err.message }));
    this.#thread = thread;
    for (const m of this.#queue) thread.postMessage(m);
    this.#queue = [];
    if (this.#pending === 0) thread.unref();
  }

  /** Every message jax-js posts gets exactly one reply; the thread is ref'ed while replies are owed. */
  postMessage(message: unknown): void {
    this.#pending++;
    if (this.#thread) {
      this.#thread.ref();
      this.#thread.postMessage(message);
    } else this.#queue.push(message);
  }

  terminate(): void {
    this.#terminated = true;
    void this.#thread?.terminate();
  }
}

/** Number of wasm worker threads requested through VLALAB_THREADS (undefined: jax-js default). */
export function requestedThreads(): number | undefined {
  const raw = process.env.VLALAB_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** True when the shim was installed by this module (false: disabled, or a Worker already existed). */
export let workerShimInstalled = false;

const g = globalThis as { Worker?: unknown; navigator?: { hardwareConcurrency?: number } };
const threads = requestedThreads();
if (g.Worker === undefined && threads !== 1) {
  g.Worker = ShimWorker;
  workerShimInstalled = true;
  if (threads !== undefined && g.navigator) {
    Object.defineProperty(g.navigator, 'hardwareConcurrency', { value: threads, configurable: true });
  }
}

/** Removes the shim again (only used when jax-js was loaded before it; see backend.ts). */
export function uninstallWorkerShim(): void {
  if (workerShimInstalled && g.Worker === ShimWorker) delete g.Worker;
  workerShimInstalled = false;
}
