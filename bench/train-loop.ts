/**
 * The training loop's own throughput: `train()` exactly as `vlalab train` runs it (ONNX Runtime
 * step, the loader, the noise draw, metrics), with the loader on the main thread and on its own
 * worker thread (the default), alternating runs of the same steps on the same data.
 *
 *   node bench/train-loop.ts DATASET_DIR [preset=laptop] [steps=600] [reps=3] [--config FILE.json]
 *   VLALAB_THREADS=1 node bench/train-loop.ts /tmp/spatial laptop 600 3 --config r2.json
 *
 * Prints steps/s per run (logged steps after the first 100) and the medians; the batches are the
 * same either way (loader-thread.test.ts). The datasets are opened once, so the main-thread loader's
 * decoded-frame cache is cold only in its first run, while the loader thread opens its own and
 * starts cold every run: compare run 1 with run 1 for a cold start.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/model/backend.ts';
import { openTrainingData, trainingLoader } from '../src/cli/train.ts';
import { ortLabel } from '../src/engine/index.ts';
import { configFileFields, resolveTrainConfig, RunDir, train } from '../src/training/index.ts';

const args = process.argv.slice(2);
const configAt = args.indexOf('--config');
const fields = configAt >= 0 ? configFileFields(JSON.parse(readFileSync(args[configAt + 1], 'utf8')), args[configAt + 1]) : {};
const [dir, preset = 'laptop', stepsArg = '600', repsArg = '3'] = args.filter((_, i) => configAt < 0 || (i !== configAt && i !== configAt + 1));
if (!dir) throw new Error('usage: node bench/train-loop.ts DATASET_DIR [preset] [steps] [reps] [--config FILE.json]');
const steps = Number(stepsArg);
const config = resolveTrainConfig(preset, fields, { steps, checkpointEvery: steps, logEvery: 10 });
const data = await openTrainingData(dir);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Steps/s of one run after its first 100 steps. */
async function once(thread: boolean): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'vlalab-loop-'));
  const { model, loader } = await trainingLoader(config, data, { thread });
  try {
    const run = new RunDir(out);
    await train({ config, data: loader, run, quiet: true, modelConfig: model });
    const m = run.readMetrics();
    const from = m.find((x) => x.step >= 100)!;
    const to = m[m.length - 1];
    return (to.step - from.step) / (to.time - from.time);
  } finally {
    await loader.close?.();
    rmSync(out, { recursive: true, force: true });
  }
}

console.log(`${dir}: preset ${preset}, model ${config.model}, batch ${config.batchSize}, augmentation ${config.augShift} px / ${config.augColor}, ${steps} steps [${ortLabel()}]`);
const rates: Record<'main' | 'thread', number[]> = { main: [], thread: [] };
for (let r = 0; r < Number(repsArg); r++) {
  for (const thread of [false, true]) {
    const k = thread ? 'thread' : 'main';
    rates[k].push(await once(thread));
    console.log(`  run ${r + 1}, loader on the ${k === 'main' ? 'main thread' : 'worker thread'}: ${rates[k].at(-1)!.toFixed(1)} steps/s`);
  }
}
const [a, b] = [median(rates.main), median(rates.thread)];
console.log(`median steps/s: main thread ${a.toFixed(1)}, worker thread ${b.toFixed(1)} (${(b / a).toFixed(2)}x)`);
