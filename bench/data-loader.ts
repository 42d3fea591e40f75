/**
 * Loader throughput: samples per second of model batches (2 views of 64x64, H = 16, eef-rel chunks,
 * quantile normalization, sensory dropout) from a recorded LeRobot dataset, after a warm-up pass
 * that decodes and caches every frame's PNGs.
 *
 *   node bench/data-loader.ts DATASET_DIR [batch=32] [batches=50] [reps=5]
 *   (record one first: npx vlalab sim record --robot panda7 --task pick-place --episodes 100 --out /tmp/pp)
 */
import { createLoader, openDataset } from '../src/data/index.ts';

const [dir, batchArg = '32', batchesArg = '50', repsArg = '5'] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/data-loader.ts DATASET_DIR [batch] [batches] [reps]');
const batchSize = Number(batchArg);
const batches = Number(batchesArg);
const reps = Number(repsArg);
const t0 = performance.now();
const ds = await openDataset(dir);
const tOpen = performance.now() - t0;
const loader = createLoader([ds], { horizon: 16, mode: 'eef-rel', normMode: 'quantile', batchSize, seed: 0, maxViews: 2, imageSize: 64, maxTokens: 32, pState: 0.2, pView: 0.2 });
const tIndex = performance.now() - t0 - tOpen;
for (let i = 0; i < ds.numFrames; i++) for (const c of ds.cameras) ds.image(c, i); // warm the decoded-frame cache
const rates: number[] = [];
for (let r = 0; r < reps; r++) {
  const s = performance.now();
  for (let b = 0; b < batches; b++) await loader.batchAt(r * batches + b);
  rates.push((batches * batchSize * 1000) / (performance.now() - s));
}
rates.sort((a, b) => a - b);
console.log(`${dir}: ${ds.numFrames} frames; open ${tOpen.toFixed(0)} ms, stats + index ${tIndex.toFixed(0)} ms`);
console.log(`samples/s (batch ${batchSize}): median ${rates[reps >> 1].toFixed(0)} (min ${rates[0].toFixed(0)}, max ${rates[reps - 1].toFixed(0)})`);
