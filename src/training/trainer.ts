/**
 * The training loop: flow-matching loss and gradients from the model, AdamW with a cosine
 * schedule, the two-stage curriculum (stage 1: semantic expert frozen, stage 2: everything),
 * atomic checkpoints every N steps, metrics as JSONL, a progress bar, and exact resume.
 *
 * Resume is exact because nothing in a step depends on hidden state: the batch of step s is a
 * pure function of (seed, s) (the BatchSource contract) and the noise key of step s is derived
 * from (seed, s); the parameters and both experts' AdamW moments are restored from the checkpoint.
 * The step itself runs on an engine (steppers.ts): ONNX Runtime by default, or jax-js; both compute
 * the same math from the same noise and write the same checkpoint files.
 */
import {
  type Batch,
  getConfig,
  lossAndGrad,
  type ModelConfig,
  type Params,
  type TauDistribution,
  numpy as np,
  tree,
} from '../model/index.ts';
import { ProgressBar } from '../util/progress.ts';
import { UserError } from '../util/errors.ts';
import { lossChartSvg } from '../util/plot.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { ADAMW_DEFAULTS, type AdamWConfig, adamwStep } from './optimizer.ts';
import type { TrainConfig } from './presets.ts';
import { checkResume, CKPT_FILES, initTrainState, type MetricsLine, restoreTrainState, RUN_FILES, type RunDir } from './run-state.ts';
import { cosineLr } from './schedule.ts';
import type { EngineName } from '../engine/index.ts';
import { jaxStepper, type Optimizers, ortStepper, type Snapshot, type Stepper, type TrainState } from './steppers.ts';

export type { Optimizers } from './steppers.ts';

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

/**
 * One optimizer step: flow-matching loss and grads, AdamW on the action expert and (unless
 * `frozen`) on the semantic expert. Consumes `params`, `optimizers` and `key`; returns the new ones,
 * the loss, the pre-clipping gradient norm over the trained experts (sqrt(|g_s|^2 + |g_a|^2)) and,
 * where an aim head trains, its error (`lossAndGrad`).
 */
export function trainStep(
  c: ModelConfig, params: Params, optimizers: Optimizers, batch: Batch, key: Arr,
  o: { frozen: boolean; lr: number; opt: AdamWConfig; tau?: TauDistribution },
): { params: Params; optimizers: Optimizers; loss: Arr; gradNorm: Arr; aimLoss?: Arr } {
  const { loss, grads, aimLoss } = lossAndGrad(c, params, batch, key, { freezeSemantic: o.frozen, tau: o.tau });
  const a = adamwStep(params.action, grads.action, optimizers.action, o.lr, o.opt);
  if (o.frozen) {
    tree.dispose(grads.semantic);
    return { params: { semantic: params.semantic, action: a.params }, optimizers: { semantic: optimizers.semantic, action: a.state }, loss, gradNorm: a.gradNorm };
  }
  const s = adamwStep(params.semantic, grads.semantic, optimizers.semantic, o.lr, o.opt);
  const gradNorm = np.sqrt(np.square(s.gradNorm).add(np.square(a.gradNorm)));
  return { params: { semantic: s.params, action: a.params }, optimizers: { semantic: s.state, action: a.state }, loss, gradNorm, aimLoss };
}

/**
 * Trains (or resumes) a run in `run`. With `resume`, continues from latest.json with the run's own
 * config: a `config` that differs from its config.json is refused field by field unless `extend`
 * (then config.json is rewritten and the schedule follows the new values); without `resume`,
 * refuses to overwrite an existing run.
 */
export async function train(opts: {
  config: TrainConfig;
  data: BatchSource;
  run: RunDir;
  resume?: boolean;
  /** with `resume`: continue with a `config` that differs from the run's config.json (e.g. more steps) */
  extend?: boolean;
  /** start from a pretrained run's (or checkpoint's) weights instead of a fresh init: see `policyWeightsFile` */
  initFrom?: string;
  extras?: CheckpointExtras;
  quiet?: boolean;
  /** stop after this step (exclusive), as if killed: for tests of resume */
  stopAt?: number;
  /** the model config (default: the registry's `config.model`; e.g. with a tokenizer's vocabulary size) */
  modelConfig?: ModelConfig;
  /** the execution engine (default 'ort'); checkpoints are the same files either way */
  engine?: EngineName;
}): Promise<TrainResult> {
  const { config: c, run } = opts;
  const modelConfig = opts.modelConfig ?? getConfig(c.model);
  const opt = { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay, maxGradNorm: c.clipNorm > 0 ? c.clipNorm : Infinity };
  const latest = run.latest();
  if (latest && !opts.resume) throw new UserError(`${run.root} already holds a run (step ${latest.step}); pass --resume to continue it or choose another --out`);

  let state: TrainState;
  let start = 0;
  if (latest) {
    const stored = run.readConfig();
    if (stored) {
      checkResume(stored, c, { out: run.root, step: latest.step, extend: opts.extend });
      if (opts.extend) run.writeConfig(c, stored.model, stored);
    }
    ({ state, step: start } = restoreTrainState(latest.dir, modelConfig, c.emaDecay > 0));
    run.truncateMetrics(start); // lines past the checkpoint are recomputed
  } else {
    state = initTrainState(modelConfig, { seed: c.seed, ema: c.emaDecay > 0, initFrom: opts.initFrom }); // the optimizer starts fresh
    run.writeConfig(c, modelConfig);
  }
  const stepperOptions = { config: modelConfig, opt, tau: c.timeSampling ?? modelConfig.tauDistribution, emaDecay: c.emaDecay };
  const stepper: Stepper = (opts.engine ?? 'ort') === 'ort' ? await ortStepper(stepperOptions, state) : jaxStepper(stepperOptions, state, trainStep);

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
    const last = step + 1 === c.steps;
    const logged = (step + 1) % c.logEvery === 0 || last || step === start;
    const { loss, gradNorm, aimLoss } = await stepper.step(batch, stepSeed(c.seed, step), { frozen, lr, read: logged, nextSeed: step + 1 < end ? stepSeed(c.seed, step + 1) : undefined });
    samplesSinceLog += c.batchSize;
    if (logged) {
      if (!Number.isFinite(loss)) throw new UserError(`training diverged at step ${step + 1} (loss ${loss}); lower --lr or raise --clip-norm`);
      const now = performance.now();
      const line: MetricsLine = { step: step + 1, loss, lr, gradNorm, samplesPerSec: (samplesSinceLog * 1000) / Math.max(1, now - lastLog), stage, time: (now - t0) / 1000 };
      if (aimLoss !== undefined) line.aimLoss = aimLoss;
      run.appendMetrics(line);
      lastLog = now;
      samplesSinceLog = 0;
      bar.update(step + 1, `loss ${loss.toFixed(4)}${aimLoss === undefined ? '' : ` (aim ${aimLoss.toFixed(4)})`} lr ${lr.toExponential(1)}`);
    }
    if ((step + 1) % c.checkpointEvery === 0 || last) {
      checkpointDir = await writeCheckpoint(run, step + 1, modelConfig, await stepper.snapshot(CKPT_FILES.ema), opts.extras ?? {});
    }
  }
  bar.done();
  const params = stepper.params();
  await stepper.release();
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

async function writeCheckpoint(run: RunDir, step: number, modelConfig: ModelConfig, snap: Snapshot, extras: CheckpointExtras): Promise<string> {
  return run.writeCheckpoint(step, {
    ...snap.files,
    [CKPT_FILES.modelConfig]: JSON.stringify(modelConfig, null, 2),
    [CKPT_FILES.trainer]: JSON.stringify({ step, optSteps: snap.optSteps }),
    ...extras,
  });
}

/** Writes RUN/loss.svg from the metrics. */
export function writeLossPlot(run: RunDir, metrics: MetricsLine[]): void {
  const aimed = metrics.filter((m) => m.aimLoss !== undefined);
  const also = aimed.length ? [{ name: 'aim head error', steps: aimed.map((m) => m.step), values: aimed.map((m) => m.aimLoss!) }] : [];
  writeFileAtomic(run.path(RUN_FILES.lossPlot), lossChartSvg(metrics.map((m) => m.step), metrics.map((m) => m.loss), { name: aimed.length ? 'loss (flow matching + aimWeight x aim)' : 'flow-matching loss', also }));
}
