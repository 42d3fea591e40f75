/**
 * Loader throughput: samples per second of model batches (2 views of 64x64, H = 16, eef-rel chunks,
 * quantile normalization, sensory dropout) from a recorded LeRobot dataset, after a warm-up pass
 * that decodes and caches every frame's PNGs; the same with the recipe's image augmentation, and
 * with the aim head's targets (`aim`: the loader's start-up and its batches).
 *
 *   node bench/data-loader.ts DATASET_DIR [batch=32] [batches=50] [reps=5] [deviceMs=20]
 *
 * Then a trainer-shaped loop (ask for step s+1, then await a simulated device step of deviceMs)
 * shows how much of the loader's time the prefetch hides: ms per step with the batch awaited
 * before the device wait (serial) and with the trainer's pattern (overlapped).
 *   (record one first: npx vlalab sim record --robot panda7 --task pick-place --episodes 100 --out /tmp/pp)
 */
import { createLoader, openDataset } from '../src/data/index.ts';

import { setTimeout as sleep } from 'node:timers/promises';

const [dir, batchArg = '32', batchesArg = '50', repsArg = '5', deviceArg = '20'] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/data-loader.ts DATASET_DIR [batch] [batches] [reps]');
const batchSize = Number(batchArg);
const batches = Number(batchesArg);
const reps = Number(repsArg);
const t0 = performance.now();
const ds = await openDataset(dir);
const tOpen = performance.now() - t0;
const opts = { horizon: 16, mode: 'eef-rel', normMode: 'quantile', batchSize, seed: 0, maxViews: 2, imageSize: 64, maxTokens: 32, pState: 0.2, pView: 0.2 } as const;
const loader = createLoader([ds], opts);
const tIndex = performance.now() - t0 - tOpen;
for (let i = 0; i < ds.numFrames; i++) for (const c of ds.cameras) ds.image(c, i); // warm the decoded-frame cache
/** Sorted samples/s of `reps` passes of `batches` batches from `l`, starting at step `from`. */
async function samplesPerSec(l: ReturnType<typeof createLoader>, from: number): Promise<number[]> {
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    for (let b = 0; b < batches; b++) await l.batchAt(from + r * batches + b);
    rates.push((batches * batchSize * 1000) / (performance.now() - s));
  }
  return rates.sort((a, b) => a - b);
}
const fmt = (rates: number[]) => `median ${rates[reps >> 1].toFixed(0)} (min ${rates[0].toFixed(0)}, max ${rates[reps - 1].toFixed(0)})`;
const rates = await samplesPerSec(loader, 0);
// the recipe's augmentation (shift 4 px, colour jitter 0.1), on the same frames
const augmented = await samplesPerSec(createLoader([ds], { ...opts, augment: { shift: 4, color: 0.1 } }), 0);
console.log(`${dir}: ${ds.numFrames} frames; open ${tOpen.toFixed(0)} ms, stats + index ${tIndex.toFixed(0)} ms`);
console.log(`samples/s (batch ${batchSize}): ${fmt(rates)}; with augmentation (shift 4, colour 0.1): ${fmt(augmented)}`);
// with the aim head's targets (the next gripper event of every frame, found when the loader is made)
const tAim = performance.now();
const aimed = createLoader([ds], { ...opts, aim: true });
const tAimIndex = performance.now() - tAim;
console.log(`with aim targets: stats + index + events ${tAimIndex.toFixed(0)} ms; samples/s ${fmt(await samplesPerSec(aimed, 0))}`);

const deviceMs = Number(deviceArg);
const steps = 40;
const unprefetched = createLoader([ds], { ...opts, prefetch: 0 });
let t = performance.now();
for (let step = 0; step < steps; step++) {
  await unprefetched.batchAt(10_000 + step); // serial: the batch first, then the device
  await sleep(deviceMs);
}
const serial = (performance.now() - t) / steps;
t = performance.now();
let next = loader.batchAt(20_000);
for (let step = 0; step < steps; step++) {
  await next;
  next = loader.batchAt(20_001 + step); // the trainer's pattern: built while the device works
  await sleep(deviceMs);
}
await next;
const overlapped = (performance.now() - t) / steps;
console.log(`trainer loop with a ${deviceMs} ms device step: serial ${serial.toFixed(1)} ms/step, overlapped ${overlapped.toFixed(1)} ms/step`);
