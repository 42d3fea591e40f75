/**
 * A Web `Worker` for jax-js's wasm thread pool on Node, installed as a side effect of importing this
 * module. jax-js creates its wasm backend (and decides whether to use a thread pool) when
 * `@jax-js/jax` is first evaluated, and uses a pool only if a global `Worker` exists; Node has none.
 * So this module must be evaluated BEFORE `@jax-js/jax`: the model layer's backend (model/backend.ts)
 * imports it first. It lives in util/ so that any layer may (a late install, after jax-js was
 * evaluated, makes jax-js's kernels fail to link: backend.ts probes for that and removes it).
 *
 * jax-js splits each kernel into one chunk per worker, posts `{type: 'kernel', module, ptrs, begin,
 * end}` to each, and waits for one reply per message before the next kernel. With real message
 * passing (node:worker_threads `postMessage`) that round trip costs ~0.1 ms per kernel, more than
 * most kernels of a small model take. So this shim does not pass messages:
 *
 * - Worker 0 runs on the calling (main) thread. Its chunk runs inline; so do all CPU routines
 *   (jax-js sends those to worker 0), through an in-process copy of jax-js's own worker script.
 * - Workers 1..n-1 are real threads that share the wasm memory and sleep on an `Atomics.wait`
 *   channel; a kernel is handed over by writing its arguments into a SharedArrayBuffer and
 *   `Atomics.notify` (a compiled module is sent once per thread through a MessagePort).
 * - The chunks a dispatch posts are collected and run in one microtask: the threads' chunks are
 *   started, worker 0's chunk runs here, then the threads are awaited (`Atomics.wait`) and every
 *   reply is delivered. Kernels of size <= 512 (one chunk) never leave the main thread, nor do
 *   kernels whose chunks were measured to run in under INLINE_CHUNK_MS (waking a thread costs more).
 *
 * The threads are `unref`ed and never keep the process alive. `VLALAB_THREADS=1` skips the shim
 * (jax-js's single-threaded synchronous wasm); `VLALAB_THREADS=N` uses N workers (default: the
 * number of CPU cores, jax-js's `navigator.hardwareConcurrency`).
 */
import { resolveObjectURL } from 'node:buffer';
import { MessageChannel, type MessagePort, Worker as NodeWorker } from 'node:worker_threads';

/** Opaque wasm objects (the project's TS lib has no WebAssembly types). */
type WasmModule = object;
type WasmMemory = object;
const Wasm = (globalThis as unknown as { WebAssembly: { Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> } } }).WebAssembly;

type Msg = { type: string; kernelHash?: string; module?: WasmModule; ptrs?: number[]; begin?: number; end?: number; memory?: WasmMemory };
type Reply = { type: string; ok?: boolean; error?: string };
type Listener = ((e: { data?: unknown; message?: string }) => void) | null;

// Layout of a thread's control block (Int32 slots).
const SEQ = 0; // jobs posted by the main thread
const DONE = 1; // jobs finished by the thread
const STATUS = 2; // 0 ok, 1 failed (message in the error bytes)
const ID = 3; // kernel id, or -1: only read the MessagePort
const BEGIN = 4;
const END = 5;
const NPTRS = 6;
const SLEEPING = 7; // bit 1: the thread sleeps on SEQ; bit 2: the main thread sleeps on DONE
const PTRS = 8;
const MAX_PTRS = 248;
const ERR_OFFSET = (PTRS + MAX_PTRS) * 4; // byte offset of the UTF-8 error message
const CTRL_BYTES = ERR_OFFSET + 1024;
/** Polls of the control word before a waiting side sleeps (kernels come back to back in a step). */
const SPIN = Number(process.env.VLALAB_SPIN ?? 50);

/** The thread's program: wait for a job, run the kernel chunk, report, repeat. */
const THREAD_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
const [SEQ, DONE, STATUS, ID, BEGIN, END, NPTRS, SLEEPING, PTRS, ERR_OFFSET, SPIN] = ${JSON.stringify([SEQ, DONE, STATUS, ID, BEGIN, END, NPTRS, SLEEPING, PTRS, ERR_OFFSET, SPIN])};
const errBytes = new Uint8Array(workerData.ctrl, ERR_OFFSET, 1024);
let memory = null;
const funcs = new Map();
function drain() {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message;
    if (msg.type === 'init') memory = msg.memory;
    else if (msg.type === 'module') funcs.set(msg.id, new WebAssembly.Instance(msg.module, { env: { memory } }).exports.kernel);
  }
}
let seen = 0;
const args = [];
for (;;) {
  for (let spins = 0; Atomics.load(ctrl, SEQ) === seen; ) {
    if (++spins > SPIN) {
      Atomics.or(ctrl, SLEEPING, 1);
      Atomics.wait(ctrl, SEQ, seen, 1000);
      Atomics.and(ctrl, SLEEPING, ~1);
      spins = 0;
    }
  }
  seen = Atomics.load(ctrl, SEQ);
  let status = 0;
  try {
    const id = ctrl[ID];
    if (id < 0 || !funcs.has(id)) drain();
    if (id >= 0) {
      const n = ctrl[NPTRS];
      args.length = n + 2;
      for (let i = 0; i < n; i++) args[i] = ctrl[PTRS + i];
      args[n] = ctrl[BEGIN];
      args[n + 1] = ctrl[END];
      funcs.get(id)(...args);
    }
  } catch (err) {
    status = 1;
    errBytes.fill(0);
    new TextEncoder().encodeInto(String(err).slice(0, 300), errBytes);
  }
  ctrl[STATUS] = status;
  Atomics.store(ctrl, DONE, seen);
  if (Atomics.load(ctrl, SLEEPING) & 2) Atomics.notify(ctrl, DONE);
}
`;

/** Waits until `ctrl[DONE] !== value`: a short spin, then `Atomics.wait` (flagged so the thread notifies). */
function waitDone(ctrl: Int32Array, value: number): void {
  for (let spins = 0; Atomics.load(ctrl, DONE) === value; ) {
    if (++spins > SPIN) {
      Atomics.or(ctrl, SLEEPING, 2);
      Atomics.wait(ctrl, DONE, value, 1000);
      Atomics.and(ctrl, SLEEPING, ~2);
      spins = 0;
    }
  }
}

/** Chunks shorter than this (ms, measured on this thread) are not handed to other threads. */
const INLINE_CHUNK_MS = 0.06;
/** Last measured time of one chunk of each kernel on this thread, by kernel hash. */
const chunkTime = new Map<string, number>();

/** Small ids for kernel hashes, shared by all threads. */
const kernelIds = new Map<string, number>();

/** One posted message awaiting its reply. */
type Job = { worker: ShimWorker; msg: Msg; inline: boolean; reply?: Reply };
let batch: Job[] = [];

/** Runs the chunks posted since the last flush: threads first, worker 0 here, then the replies. */
function flush(): void {
  const jobs = batch;
  batch = [];
  // a kernel whose chunks run in less than INLINE_CHUNK_MS stays on this thread: waking a thread
  // costs about as much (far more when the machine is oversubscribed)
  const hash = jobs[0].msg.type === 'kernel' ? jobs[0].msg.kernelHash! : '';
  const chunkMs = chunkTime.get(hash);
  const split = !(chunkMs !== undefined && chunkMs < INLINE_CHUNK_MS);
  const here = (j: Job) => j.inline || !split;
  for (const j of jobs) if (!here(j)) j.worker.thread!.start(j.msg);
  const t0 = performance.now();
  let n = 0;
  for (const j of jobs) if (here(j)) (j.reply = j.worker.runInline(j.msg)), n++;
  if (hash && n > 0) chunkTime.set(hash, (performance.now() - t0) / n);
  for (const j of jobs) if (!here(j)) j.reply = j.worker.thread!.finish();
  for (const j of jobs) j.worker.onmessage?.({ data: j.reply });
}

/** A real thread behind the Atomics channel. */
class Thread {
  #ctrl = new Int32Array(new SharedArrayBuffer(CTRL_BYTES));
  #port: MessagePort;
  #seq = 0;
  #sent = new Set<number>();
  #node: NodeWorker;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#node = new NodeWorker(THREAD_SOURCE, { eval: true, workerData: { ctrl: this.#ctrl.buffer, port: port2 }, transferList: [port2] });
    this.#node.unref();
    port1.unref();
  }

  /** Hands the memory to the thread (read before its first kernel). */
  init(memory: WasmMemory): void {
    this.#port.postMessage({ type: 'init', memory });
    this.#post(-1, []);
  }

  /** Starts one kernel chunk (the previous job of this thread must be finished). */
  start(msg: Msg): void {
    let id = kernelIds.get(msg.kernelHash!);
    if (id === undefined) kernelIds.set(msg.kernelHash!, (id = kernelIds.size));
    if (!this.#sent.has(id)) {
      this.#port.postMessage({ type: 'module', id, module: msg.module });
      this.#sent.add(id);
    }
    const ptrs = msg.ptrs!;
    if (ptrs.length > MAX_PTRS) throw new Error(`worker-shim: ${ptrs.length} kernel arguments (max ${MAX_PTRS})`);
    this.#ctrl[BEGIN] = msg.begin!;
    this.#ctrl[END] = msg.end!;
    this.#post(id, ptrs);
  }

  #post(id: number, ptrs: number[]): void {
    const c = this.#ctrl;
    c[ID] = id;
    c[NPTRS] = ptrs.length;
    for (let i = 0; i < ptrs.length; i++) c[PTRS + i] = ptrs[i];
    Atomics.store(c, SEQ, ++this.#seq);
    if (Atomics.load(c, SLEEPING) & 1) Atomics.notify(c, SEQ); // a spinning thread needs no syscall
  }

  /** Waits for the job in flight and returns jax-js's reply. */
  finish(): Reply {
    const c = this.#ctrl;
    for (let done = Atomics.load(c, DONE); done !== this.#seq; done = Atomics.load(c, DONE)) waitDone(c, done);
    if (c[STATUS] === 0) return { type: 'done', ok: true };
    const bytes = new Uint8Array(c.buffer, ERR_OFFSET, 1024);
    return { type: 'done', ok: false, error: new TextDecoder().decode(bytes.slice(0, bytes.indexOf(0))) };
  }

  terminate(): void {
    void this.#node.terminate();
  }
}

/** jax-js's worker script, evaluated in this thread (used for CPU routines, which go to worker 0). */
type Script = { onmessage: ((e: { data: Msg }) => void) | null; reply: Reply | null };
let script: Promise<Script> | null = null;
let memory: WasmMemory | null = null;

function loadScript(url: string): Promise<Script> {
  const blob = url.startsWith('blob:') ? resolveObjectURL(url) : undefined;
  if (!blob) return Promise.reject(new Error(`worker-shim: only blob: URLs are supported, got ${url}`));
  return blob.text().then((source) => {
    const self: Script = { onmessage: null, reply: null };
    new Function('self', 'postMessage', source)(self, (m: Reply) => (self.reply = m));
    return self;
  });
}

let created = 0;
/** Kernel functions instantiated on this thread, by kernel hash. */
const inlineFuncs = new Map<string, (...args: number[]) => void>();
let loaded: Script | null = null;

/** The subset of the Web Worker interface jax-js uses: constructor, postMessage, onmessage, onerror. */
class ShimWorker {
  onmessage: Listener = null;
  onerror: Listener = null;
  /** Null for worker 0 (this thread). */
  readonly thread: Thread | null;

  constructor(url: string | URL, _options?: unknown) {
    this.thread = created++ === 0 ? null : new Thread();
    script ??= loadScript(String(url));
  }

  postMessage(message: unknown): void {
    const msg = message as Msg;
    if (msg.type === 'init') {
      memory = msg.memory!;
      this.thread?.init(memory);
      // reply once jax-js's worker script is loaded (routines need it), as a real worker would
      void script!.then(
        (s) => {
          loaded = s;
          s.onmessage?.({ data: msg });
          this.onmessage?.({ data: { type: 'ready' } });
        },
        (err: unknown) => this.onerror?.({ message: String(err) }),
      );
      return;
    }
    if (batch.length === 0) queueMicrotask(flush);
    // non-kernel messages (routines) always run on this thread, whichever worker they were posted to
    batch.push({ worker: this, msg, inline: !this.thread || msg.type !== 'kernel' });
  }

  /** Runs a kernel chunk or a routine on this thread. */
  runInline(msg: Msg): Reply {
    try {
      if (msg.type === 'kernel') {
        let f = inlineFuncs.get(msg.kernelHash!);
        if (!f) {
          f = new Wasm.Instance(msg.module!, { env: { memory: memory! } }).exports.kernel as (...a: number[]) => void;
          inlineFuncs.set(msg.kernelHash!, f);
        }
        f(...msg.ptrs!, msg.begin!, msg.end!);
        return { type: 'done', ok: true };
      }
      loaded!.reply = null;
      loaded!.onmessage?.({ data: msg });
      return loaded!.reply ?? { type: 'done', ok: false, error: `worker-shim: no reply to a "${msg.type}" message` };
    } catch (err) {
      return { type: 'done', ok: false, error: String(err) };
    }
  }

  terminate(): void {
    this.thread?.terminate();
  }
}

/** Bytes of jax-js's wasm memory (it only grows; flat across steps = no leaked buffers), or null before the pool starts or without the shim. */
export function wasmMemoryBytes(): number | null {
  return memory ? (memory as { buffer: ArrayBufferLike }).buffer.byteLength : null;
}

/** Number of wasm workers requested through VLALAB_THREADS (undefined: jax-js default). */
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
