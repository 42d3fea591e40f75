/**
 * The training loop: flow-matching loss and gradients from the model, AdamW with a cosine
 * schedule, the two-stage curriculum (stage 1: semantic expert frozen, stage 2: everything),
 * atomic checkpoints every N steps, metrics as JSONL, a progress bar, and exact resume.
 *
 * Resume is exact because nothing in a step depends on hidden state: the batch of step s is a
 * pure function of (seed, s) (the BatchSource contract) and the noise key of step s is derived
 * from (seed, s); the parameters and both experts' AdamW moments are restored from the checkpoint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { numpy as np, random, tree } from '@jax-js/jax';
import {
  type Batch,
  decodeParams,
  encodeParams,
  getConfig,
  initParams,
  lossAndGrad,
  type ModelConfig,
  type Params,
  type TauDistribution,
  settle,
} from '../model/index.ts';
import { ProgressBar } from '../util/progress.ts';
import { UserError } from '../util/errors.ts';
import { lossChartSvg } from '../util/plot.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { ADAMW_DEFAULTS, type AdamWConfig, type AdamWState, adamwInit, adamwStep } from './optimizer.ts';
import type { TrainConfig } from './presets.ts';
import { type MetricsLine, RunDir } from './run-dir.ts';
import { cosineLr } from './schedule.ts';
import { emaInit, emaStep } from './ema.ts';

/** The weights' moving average inside a checkpoint (when emaDecay > 0); the policy acts with it. */
export const EMA_FILE = 'ema.safetensors';

type Arr = np.Array;

/** Training batches, deterministic in the step index (so a resumed run sees the same data). */
export type BatchSource = {
  batchAt(step: number): Promise<Batch>;
};

/** Files a caller adds to every checkpoint (policy metadata, tokenizer, normalization stats). */
export type CheckpointExtras = Record<string, string | Uint8Array>;

/** What `train` returns. */
export type TrainResult = {
  modelConfig: ModelConfig;
  params: Params;
  steps: number;
  /** mean loss of the last 10% of logged steps */
  finalLoss: number;
  firstLoss: number;
  seconds: number;
  checkpointDir: string;
};

/** The stage (1: semantic frozen, 2: all) and learning rate of a step. */
export function stageAt(c: TrainConfig, step: number): { stage: 1 | 2; lr: number; frozen: boolean } {
  const stage1Steps = c.curriculum === 'two-stage' ? Math.floor(c.steps * c.stage1Fraction) : 0;
  if (step < stage1Steps) {
    return { stage: 1, frozen: true, lr: cosineLr({ peakLr: c.stage1Lr, totalSteps: stage1Steps, warmupRatio: c.warmupRatio }, step) };
  }
  const lr = cosineLr({ peakLr: c.lr, totalSteps: c.steps - stage1Steps, warmupRatio: c.warmupRatio }, step - stage1Steps);
  return { stage: 2, frozen: c.freezeSemantic, lr };
}

/** A 32-bit key seed for step `step` of a run seeded with `seed`. */
function stepSeed(seed: number, step: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0;
}

/** Both experts' AdamW states. */
export type Optimizers = { semantic: AdamWState<Params['semantic']>; action: AdamWState<Params['action']> };

/** A fresh optimizer state for each expert. */
export function initOptimizers(params: Params): Optimizers {
  return { semantic: adamwInit(params.semantic), action: adamwInit(params.action) };
}

/**
 * One optimizer step: flow-matching loss and grads, AdamW on the action expert and (unless
 * `frozen`) on the semantic expert. Consumes `params`, `optimizers` and `key`; returns the new ones,
 * the loss and the pre-clipping gradient norm over the trained experts (sqrt(|g_s|^2 + |g_a|^2)).
 */
export function trainStep(
  c: ModelConfig, params: Params, optimizers: Optimizers, batch: Batch, key: Arr,
  o: { frozen: boolean; lr: number; opt: AdamWConfig; tau?: TauDistribution },
): { params: Params; optimizers: Optimizers; loss: Arr; gradNorm: Arr } {
  const { loss, grads } = lossAndGrad(c, params, batch, key, { freezeSemantic: o.frozen, tau: o.tau });
  const a = adamwStep(params.action, grads.action, optimizers.action, o.lr, o.opt);
  if (o.frozen) {
    tree.dispose(grads.semantic);
    return { params: { semantic: params.semantic, action: a.params }, optimizers: { semantic: optimizers.semantic, action: a.state }, loss, gradNorm: a.gradNorm };
  }
  const s = adamwStep(params.semantic, grads.semantic, optimizers.semantic, o.lr, o.opt);
  const gradNorm = np.sqrt(np.square(s.gradNorm).add(np.square(a.gradNorm)));
  return { params: { semantic: s.params, action: a.params }, optimizers: { semantic: s.state, action: a.state }, loss, gradNorm };
}

/**
 * Trains (or resumes) a run in `run`. With `resume`, continues from latest.json; without, refuses
 * to overwrite an existing run.
 */
export async function train(opts: {
  config: TrainConfig;
  data: BatchSource;
  run: RunDir;
  resume?: boolean;
  /** start from a pretrained run's (or checkpoint's) weights instead of a fresh init: see `policyWeightsFile` */
  initFrom?: string;
  extras?: CheckpointExtras;
  quiet?: boolean;
  /** stop after this step (exclusive), as if killed: for tests of resume */
  stopAt?: number;
  /** the model config (default: the registry's `config.model`; e.g. with a tokenizer's vocabulary size) */
  modelConfig?: ModelConfig;
}): Promise<TrainResult> {
  const { config: c, run } = opts;
  const modelConfig = opts.modelConfig ?? getConfig(c.model);
  const opt = { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay, maxGradNorm: c.clipNorm > 0 ? c.clipNorm : Infinity };
  const latest = run.latest();
  if (latest && !opts.resume) throw new UserError(`${run.root} already holds a run (step ${latest.step}); pass --resume to continue it or choose another --out`);

  let params: Params;
  let optimizers: Optimizers;
  let ema: Params | undefined;
  let start = 0;
  if (latest) {
    params = decodeParams(modelConfig, readFileSync(join(latest.dir, 'model.safetensors')));
    const moments = (name: string) => decodeParams(modelConfig, readFileSync(join(latest.dir, name)));
    const state = JSON.parse(readFileSync(join(latest.dir, 'trainer.json'), 'utf8')) as { step: number; optSteps: { semantic: number; action: number } };
    const m = moments('adam-m.safetensors');
    const v = moments('adam-v.safetensors');
    optimizers = {
      semantic: { step: state.optSteps.semantic, m: m.semantic, v: v.semantic },
      action: { step: state.optSteps.action, m: m.action, v: v.action },
    };
    start = state.step;
    if (c.emaDecay > 0) ema = decodeParams(modelConfig, readFileSync(join(latest.dir, EMA_FILE)));
    run.truncateMetrics(start); // lines past the checkpoint are recomputed
  } else {
    const pretrained = opts.initFrom && policyWeightsFile(opts.initFrom);
    params = pretrained ? decodeParams(modelConfig, readFileSync(pretrained), pretrained) : initParams(modelConfig, c.seed); // the optimizer starts fresh
    optimizers = initOptimizers(params);
    if (c.emaDecay > 0) ema = emaInit(params);
    run.writeConfig(c, modelConfig);
  }

  const bar = new ProgressBar('train', c.steps, { quiet: opts.quiet });
  const t0 = performance.now();
  let lastLog = performance.now();
  let samplesSinceLog = 0;
  let checkpointDir = latest?.dir ?? '';
  const end = Math.min(c.steps, opts.stopAt ?? c.steps);
  let next = start < end ? opts.data.batchAt(start) : undefined;
  for (let step = start; step < end; step++) {
    const batch = await next!;
    next = step + 1 < end ? opts.data.batchAt(step + 1) : undefined; // prefetch while this step computes
    const { stage, lr, frozen } = stageAt(c, step);
    const r = trainStep(modelConfig, params, optimizers, batch, random.key(stepSeed(c.seed, step)), { frozen, lr, opt, tau: c.timeSampling });
    const { loss, gradNorm } = r;
    params = r.params;
    optimizers = r.optimizers;
    if (ema) {
      ema = emaStep(ema, params, c.emaDecay);
      await settle(ema.action.actionOut.w); // the average is one program: one output ready = all
    }
    await settle(gradNorm); // run this step's kernels now: jax-js is lazy, and 10 queued steps run ~3x slower
    samplesSinceLog += c.batchSize;
    const last = step + 1 === c.steps;
    if ((step + 1) % c.logEvery === 0 || last || step === start) {
      const lossValue = (await loss.data())[0];
      const normValue = (await gradNorm.data())[0];
      if (!Number.isFinite(lossValue)) throw new UserError(`training diverged at step ${step + 1} (loss ${lossValue}); lower --lr or raise --clip-norm`);
      const now = performance.now();
      const line: MetricsLine = { step: step + 1, loss: lossValue, lr, gradNorm: normValue, samplesPerSec: (samplesSinceLog * 1000) / Math.max(1, now - lastLog), stage, time: (now - t0) / 1000 };
      run.appendMetrics(line);
      lastLog = now;
      samplesSinceLog = 0;
      bar.update(step + 1, `loss ${lossValue.toFixed(4)} lr ${lr.toExponential(1)}`);
    } else {
      loss.dispose();
      gradNorm.dispose();
    }
    if ((step + 1) % c.checkpointEvery === 0 || last) {
      checkpointDir = await writeCheckpoint(run, step + 1, modelConfig, params, optimizers, { ...(ema ? { [EMA_FILE]: await encodeParams(modelConfig, ema) } : {}), ...opts.extras });
    }
  }
  bar.done();
  if (ema) tree.dispose(ema);
  const metrics = run.readMetrics();
  writeLossPlot(run, metrics);
  const tail = metrics.slice(-Math.max(1, Math.ceil(metrics.length / 10)));
  return {
    modelConfig,
    params,
    steps: end,
    firstLoss: metrics[0]?.loss ?? NaN,
    finalLoss: tail.reduce((s, m) => s + m.loss, 0) / Math.max(1, tail.length),
    seconds: (performance.now() - t0) / 1000,
    checkpointDir,
  };
}

/**
 * The weights a run's policy acts with, which a fine-tuning run starts from: those of its latest
 * checkpoint (RUN with latest.json) or of a checkpoint directory; the moving average when the run
 * kept one, else the trained weights.
 */
export function policyWeightsFile(path: string): string {
  const dir = existsSync(join(path, 'latest.json')) ? new RunDir(path).latest()!.dir : path;
  for (const name of [EMA_FILE, 'model.safetensors']) if (existsSync(join(dir, name))) return join(dir, name);
  throw new UserError(`--init-from ${path}: neither a training run (no latest.json) nor a checkpoint (no model.safetensors); pass the --out of a \`vlalab train\` run`);
}

async function writeCheckpoint(run: RunDir, step: number, modelConfig: ModelConfig, params: Params, o: Optimizers, extras: CheckpointExtras): Promise<string> {
  const m = { semantic: o.semantic.m, action: o.action.m };
  const v = { semantic: o.semantic.v, action: o.action.v };
  return run.writeCheckpoint(step, {
    'model.safetensors': await encodeParams(modelConfig, params),
    'adam-m.safetensors': await encodeParams(modelConfig, m),
    'adam-v.safetensors': await encodeParams(modelConfig, v),
    'config.json': JSON.stringify(modelConfig, null, 2),
    'trainer.json': JSON.stringify({ step, optSteps: { semantic: o.semantic.step, action: o.action.step } }),
    ...extras,
  });
}

/** Writes RUN/loss.svg from the metrics. */
export function writeLossPlot(run: RunDir, metrics: MetricsLine[]): void {
  writeFileAtomic(run.path('loss.svg'), lossChartSvg(metrics.map((m) => m.step), metrics.map((m) => m.loss), { name: 'flow-matching loss' }));
}
