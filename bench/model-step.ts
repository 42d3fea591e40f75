/**
 * Model speed benchmark: one training step (lossAndGrad + AdamW on both experts, as the trainer
 * does) and one action-chunk sample (prefix cache + N Euler steps), on synthetic batches.
 *
 *   node bench/model-step.ts [configs=debug,tiny] [batch=32] [reps=5] [--frozen] [--sample-only|--train-only] [--kernels] [--sync-every=N [--settle]]
 *   VLALAB_THREADS=1 node bench/model-step.ts tiny 32     # single-threaded wasm
 *
 * Prints the median (and min/max) wall time over `reps` timed repetitions after 2 warm-up
 * repetitions (the first compiles), and the median process CPU time (all threads; on a shared,
 * busy machine the steadier figure). --kernels counts kernel launches per step.
 */
import '../src/model/backend.ts';
import { random, tree } from '@jax-js/jax';
import { getConfig, initBackend, initParams, kernelLaunches, kernelMemo, sampleActions, settle, syntheticBatch } from '../src/model/index.ts';
import { ADAMW_DEFAULTS, initOptimizers, trainStep } from '../src/training/index.ts';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const pos = args.filter((a) => !a.startsWith('--'));
const names = (pos[0] ?? 'debug,tiny').split(',');
const batchSize = Number(pos[1] ?? 32);
const reps = Number(pos[2] ?? 5);
const frozen = flags.has('--frozen');
/** Read results back only every N steps, as the trainer does between log lines (default: every step); --settle awaits each step's work anyway. */
const syncEvery = Number([...flags].find((f) => f.startsWith('--sync-every='))?.split('=')[1] ?? 1);
const backend = await initBackend();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[], cpu: number[]) =>
  `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length}); cpu ${median(cpu).toFixed(1)} ms`;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// counted where each launch prepares its kernel (the profiler's measure entries arrive only after the step)
if (flags.has('--kernels') && !kernelMemo) console.log('  --kernels: this jax-js version is not patched (src/model/backend.ts), launches are not counted');

/** Runs `body(i)` for 2 warm-up + `reps` timed repetitions; wall and CPU ms of the timed ones. */
async function timed(name: string, what: string, body: (i: number) => Promise<void>): Promise<{ times: number[]; cpu: number[] }> {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const k0 = kernelLaunches();
    const t0 = performance.now();
    const c0 = cpuMs();
    await body(i);
    if (i >= 2) times.push(performance.now() - t0);
    if (i >= 2) cpu.push(cpuMs() - c0);
    if (i === 2 && flags.has('--kernels')) console.log(`  ${name}: ${kernelLaunches() - k0} kernel launches per ${what}`);
  }
  return { times, cpu };
}

for (const name of names) {
  const c = getConfig(name);
  let params = initParams(c, 0);
  let opts = initOptimizers(params);
  const batch = syntheticBatch(c, batchSize, 1);
  if (!flags.has('--sample-only')) {
    const { times, cpu } = await timed(name, 'training step', async (i) => {
      // exactly the trainer's step (lossAndGrad + AdamW per trained expert)
      const r = trainStep(c, params, opts, batch, random.key(i), { frozen, lr: 1e-4, opt: ADAMW_DEFAULTS });
      const { loss } = r;
      params = r.params;
      opts = r.optimizers;
      if (flags.has('--settle')) await settle(r.gradNorm);
      r.gradNorm.dispose();
      if ((i + 1) % syncEvery === 0) {
        await loss.data();
        await params.action.actionOut.b.ref.data(); // the update has finished
      } else {
        loss.dispose();
        await Promise.resolve(); // the trainer awaits its next batch here
      }
    });
    console.log(`${name} train${frozen ? ' (frozen semantic)' : ''} B=${batchSize} [${backend}]: ${fmt(times, cpu)}`);
  }
  if (!flags.has('--train-only')) {
    const one = syntheticBatch(c, 1, 2);
    const { times, cpu } = await timed(name, 'sample', async (i) => {
      await sampleActions(c, params, one, random.key(i));
    });
    console.log(`${name} sample B=1 H=${c.actionHorizon} ${c.sampleSteps} steps [${backend}]: ${fmt(times, cpu)}`);
  }
  tree.dispose([params, opts]);
}
