/**
 * The loader thread's body (started by loader-thread.ts): opens the datasets, builds the loader,
 * answers `ready` with its normalization stats, then each batch request with the batch, its
 * buffers transferred (not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../util/index.ts';
import { openDataset } from './lerobot.ts';
import { createLoader, type SampleBatch } from './loader.ts';
import type { FromLoaderThread, LoaderThreadData, ToLoaderThread } from './loader-thread.ts';
import { tokenizerFromJson } from './tokenizer.ts';

const port = parentPort!;
const { sources, options } = workerData as LoaderThreadData;
const post = (m: FromLoaderThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const errorOf = (e: unknown, step?: number): FromLoaderThread => ({ type: 'error', step, message: e instanceof Error ? e.message : String(e), user: e instanceof UserError });

/** Every distinct buffer of a batch (to transfer). */
const buffers = (b: SampleBatch): ArrayBuffer[] => [...new Set(Object.values(b).map((a) => a.data.buffer as ArrayBuffer))];

try {
  const datasets = await Promise.all(sources.map((s) => openDataset(s.dir, s)));
  const loader = createLoader(datasets, { ...options, tokenizer: options.tokenizer && tokenizerFromJson(options.tokenizer) });
  port.on('message', (m: ToLoaderThread) => {
    loader.batchAt(m.step).then(
      (batch) => post({ type: 'batch', step: m.step, batch }, buffers(batch)),
      (e) => post(errorOf(e, m.step)),
    );
  });
  post({ type: 'ready', norm: loader.norm });
} catch (e) {
  post(errorOf(e));
}
