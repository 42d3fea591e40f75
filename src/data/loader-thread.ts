/**
 * The training loader on its own thread. ONNX Runtime runs a training step as one blocking call on
 * the main thread, so a loader there builds the next batch only between steps, and its garbage (the
 * decoded-frame cache's many arrays) is marked by every collection of the main heap. Here a worker
 * opens the same datasets, builds the same batches (createLoader: a pure function of (seed, step))
 * and hands them over by transfer, so batch building and its collections overlap the step.
 *
 * The worker keeps the process alive until `close()`: a training awaits work of threads that do not
 * (jax-js's unreferenced wasm pool, ORT), and with batch building gone from the main thread its
 * event loop could otherwise empty mid-run and end the process ("unsettled top-level await", exit
 * 13, seen in the study e2e test under load). Every user must close it (trainOnDatasets does).
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/index.ts';
import { type OpenDatasetOptions } from './lerobot.ts';
import { type Loader, type LoaderOptions, type NormStats, prefetching, type SampleBatch } from './loader.ts';
import type { Tokenizer } from './tokenizer.ts';

/** How the worker opens one dataset: openDataset's directory and its serializable options (an embodiment by name or spec file). */
export type DatasetSource = { dir: string; embodiment?: string } & Pick<OpenDatasetOptions, 'skipMissing' | 'imageCacheBytes'>;

/** The loader's options as they cross to the worker: the tokenizer as its JSON. */
export type ThreadLoaderOptions = Omit<LoaderOptions, 'tokenizer'> & { tokenizer?: Tokenizer['json'] };

/** What the main thread sends the worker. */
export type ToLoaderThread = { type: 'batch'; step: number };

/** What the worker sends back: once `ready` (or `error` without a step), then a batch or an error per request. */
export type FromLoaderThread =
  | { type: 'ready'; norm: NormStats[] }
  | { type: 'batch'; step: number; batch: SampleBatch }
  | { type: 'error'; step?: number; message: string; user: boolean };

/** A loader whose batches are built on a worker thread; `close` ends the thread. */
export type ThreadLoader = Loader & { close(): Promise<void> };

/** The worker's start-up data. */
export type LoaderThreadData = { sources: DatasetSource[]; options: ThreadLoaderOptions };

const WORKER = new URL('./loader-worker.ts', import.meta.url);

/**
 * Starts a worker that opens `sources` and builds `options`' batches; resolves once it has the
 * normalization stats (rejects with the worker's error, e.g. a broken dataset). Batches are
 * byte-identical to `createLoader`'s on the same datasets and options. `options.prefetch` batches
 * (default 2) are requested ahead of the last one asked for.
 */
export async function createThreadLoader(sources: readonly DatasetSource[], options: ThreadLoaderOptions): Promise<ThreadLoader> {
  const data: LoaderThreadData = { sources: [...sources], options: { ...options, prefetch: 0 } };
  const worker = new Worker(WORKER, { workerData: data });
  const inflight = new Map<number, { resolve: (b: SampleBatch) => void; reject: (e: Error) => void }[]>(); // requests the worker will answer, by step
  let failure: Error | undefined;
  let closed = false;
  const toError = (m: { message: string; user: boolean }) => (m.user ? new UserError(m.message) : new Error(`loader thread: ${m.message}`));
  const fail = (e: Error) => {
    failure ??= e;
    for (const ps of inflight.values()) for (const p of ps) p.reject(failure);
    inflight.clear();
  };

  const norm = await new Promise<NormStats[]>((resolve, reject) => {
    const early = (e: Error) => reject(e);
    const exited = (code: number) => reject(new Error(`loader thread exited (code ${code}) before it was ready`));
    worker.once('error', early);
    worker.once('exit', exited);
    worker.once('message', (m: FromLoaderThread) => {
      worker.off('error', early);
      worker.off('exit', exited);
      if (m.type === 'ready') resolve(m.norm);
      else reject(m.type === 'error' ? toError(m) : new Error(`loader thread: unexpected ${m.type}`));
    });
  }).catch(async (e: Error) => {
    await worker.terminate();
    throw e;
  });
  worker.on('message', (m: FromLoaderThread) => {
    if (m.type === 'ready') return;
    if (m.step === undefined) return fail(toError(m as { message: string; user: boolean }));
    const ps = inflight.get(m.step) ?? [];
    inflight.delete(m.step);
    for (const p of ps) {
      if (m.type === 'batch') p.resolve(m.batch);
      else p.reject(toError(m));
    }
  });
  worker.on('error', (e) => fail(e));
  worker.on('exit', (code) => fail(new Error(closed ? 'the loader was closed' : `loader thread exited (code ${code})`)));

  // a batch is handed out once (its buffers were transferred), so the queue forgets it
  const queue = prefetching(options.prefetch, (step) => new Promise<SampleBatch>((resolve, reject) => {
    if (failure) return reject(failure);
    const ps = inflight.get(step);
    if (ps) return ps.push({ resolve, reject }); // asked again before its answer came: share it
    inflight.set(step, [{ resolve, reject }]);
    worker.postMessage({ type: 'batch', step } satisfies ToLoaderThread);
  }));

  return {
    ...queue,
    norm,
    async close() {
      closed = true;
      await worker.terminate();
    },
  };
}
