/**
 * Model speed benchmark: one training step exactly as the trainer runs it (flow-matching loss and
 * gradients, AdamW on each trained expert, optionally the EMA) and one action-chunk sample (prefix
 * cache + N Euler steps, noise drawn on the host), on synthetic batches, on either engine.
 *
 *   node bench/model-step.ts [configs=debug,tiny] [batch=32] [reps=5] [--sample-reps=N] [--engine=ort|jax] [--frozen] [--ema] [--sample-only|--train-only] [--kernels]
 *   VLALAB_THREADS=1 node bench/model-step.ts tiny 32     # one thread (ORT intra-op threads, or single-threaded wasm)
 *
 * Prints the median (and min/max) wall time over `reps` timed repetitions after 2 warm-up
 * repetitions (the first traces and compiles), and the median process CPU time (all threads; on a
 * shared, busy machine the steadier figure). --kernels counts jax-js kernel launches per step.
 */
import '../src/model/backend.ts';
import { getConfig, initBackend, initParams, kernelLaunches, kernelMemo, syntheticBatch } from '../src/model/index.ts';
import { ortLabel, parseEngine } from '../src/engine/index.ts';
import { createSampler } from '../src/serving/index.ts';
import { ADAMW_DEFAULTS, initOptimizers, jaxStepper, ortStepper, trainStep } from '../src/training/index.ts';
import { emaInit } from '../src/training/ema.ts';

const args = process.argv.slice(2);
const flag = (k: string) => args.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const flags = new Set(args.filter((a) => a.startsWith('--')));
const pos = args.filter((a) => !a.startsWith('--'));
const names = (pos[0] ?? 'debug,tiny').split(',');
const batchSize = Number(pos[1] ?? 32);
const reps = Number(pos[2] ?? 5);
// a chunk takes milliseconds: it gets its own, larger count (the first runs after a session starts are slower)
const sampleReps = Number(flag('sample-reps') ?? reps);
const frozen = flags.has('--frozen');
const engine = parseEngine(flag('engine') ?? 'ort')!;
const backend = engine === 'ort' ? ortLabel() : await initBackend();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[], cpu: number[]) =>
  `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length}); cpu ${median(cpu).toFixed(1)} ms`;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

if (flags.has('--kernels') && !kernelMemo) console.log('  --kernels: this jax-js version is not patched (src/model/backend.ts), launches are not counted');

/** Runs `body(i)` for 2 warm-up + `n` timed repetitions; wall and CPU ms of the timed ones. */
async function timed(name: string, what: string, n: number, body: (i: number) => Promise<void>): Promise<{ times: number[]; cpu: number[] }> {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n + 2; i++) {
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
  const params = initParams(c, 0);
  const state = { params, optimizers: initOptimizers(params), ema: flags.has('--ema') ? emaInit(params) : undefined };
  const o = { config: c, opt: ADAMW_DEFAULTS, tau: c.tauDistribution, emaDecay: 0.999 };
  const batch = syntheticBatch(c, batchSize, 1);
  const sampler = flags.has('--train-only') ? undefined : await createSampler(c, params, { engine });
  if (sampler) {
    const one = syntheticBatch(c, 1, 2);
    const { times, cpu } = await timed(name, 'sample', sampleReps, async (i) => {
      await sampler.sample(one, i);
    });
    console.log(`${name} sample B=1 H=${c.actionHorizon} ${c.sampleSteps} steps [${backend}]: ${fmt(times, cpu)}`);
    await sampler.release();
  }
  if (!flags.has('--sample-only')) {
    const stepper = engine === 'ort' ? await ortStepper(o, state) : jaxStepper(o, state, trainStep);
    const { times, cpu } = await timed(name, 'training step', reps, async (i) => {
      await stepper.step(batch, i, { frozen, lr: 1e-4, read: true, nextSeed: i + 1 });
    });
    console.log(`${name} train${frozen ? ' (frozen semantic)' : ''} B=${batchSize} [${backend}]: ${fmt(times, cpu)}`);
    await stepper.release();
  }
}
process.exit(0);
