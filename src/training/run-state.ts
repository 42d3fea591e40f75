/**
 * A run's state in one place: the files a run directory and a checkpoint hold (`RUN_FILES`,
 * `CKPT_FILES`), zod-validated reads of each JSON file, the one resolver of "a run directory or a
 * checkpoint" (`resolveCheckpoint`, used by training, fine-tuning, eval and serving), the start of a
 * run (`initTrainState`) apart from its restore (`restoreTrainState`), as openpi's train.py keeps
 * init, restore and the step apart, and the guard that a resumed run keeps its config
 * (`checkResume`).
 *
 *   RUN/config.json                 {preset, data, embodiment, skipMissing, train, model}: where the run
 *                                   came from, its resolved training config and model config (all
 *                                   `--resume` needs)
 *   RUN/metrics.jsonl               one JSON line per logged step
 *   RUN/checkpoints/step-000500/    model.safetensors, adam-m.safetensors, adam-v.safetensors,
 *                                   [ema.safetensors], config.json (the model config), trainer.json,
 *                                   policy.json, [tokenizer.json]
 *   RUN/latest.json                 {"step": 500, "dir": "checkpoints/step-000500"}, written last
 *   RUN/loss.svg                    the loss curve, written at the end
 * Every file is written atomically and latest.json only after the checkpoint it names is
 * complete, so a run killed at any moment resumes from a whole checkpoint.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { CHECKPOINT_FILES, decodeParams, initParams, type ModelConfig, type Params } from '../model/index.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { problemsMessage, schemaProblems } from '../util/schema.ts';
import { shellQuote } from '../util/shell.ts';
import { emaInit } from './ema.ts';
import { adamwInit } from './optimizer.ts';
import { diffTrainConfig, type TrainConfig, trainConfigSchema } from './presets.ts';
import type { Optimizers, TrainState } from './steppers.ts';

/** The files of a run directory. */
export const RUN_FILES = Object.freeze({ config: 'config.json', metrics: 'metrics.jsonl', latest: 'latest.json', lossPlot: 'loss.svg', checkpoints: 'checkpoints' });

/** The files of a checkpoint directory (the steppers write the three safetensors of the state, under these names). */
export const CKPT_FILES = Object.freeze({
  /** the trained weights */
  weights: CHECKPOINT_FILES.weights,
  /** AdamW's first and second moments of both experts, by parameter name */
  adamM: 'adam-m.safetensors',
  adamV: 'adam-v.safetensors',
  /** the weights' moving average (when emaDecay > 0); the policy acts with it */
  ema: 'ema.safetensors',
  /** the ModelConfig */
  modelConfig: CHECKPOINT_FILES.config,
  /** {step, optSteps}: the step reached and each expert's AdamW step count */
  trainer: 'trainer.json',
  /** what acting needs: embodiments, transforms, tokenizer (training/policy.ts) */
  policy: 'policy.json',
});

const latestSchema = z.object({ step: z.number().int().min(0), dir: z.string() });
const stepCount = z.number().int().min(0);
const trainerSchema = z.object({ step: stepCount, optSteps: z.object({ semantic: stepCount, action: stepCount }) });
const metricsLineSchema = z.object({
  step: z.number().int(), loss: z.number(), lr: z.number(), gradNorm: z.number(), samplesPerSec: z.number(), stage: z.union([z.literal(1), z.literal(2)]), time: z.number(),
  // the aim head's error (mean squared, normalized EEF units), already inside `loss` x aimWeight: on steps where the head trains
  aimLoss: z.number().optional(),
});

/** One line of metrics.jsonl. */
export type MetricsLine = z.infer<typeof metricsLineSchema>;

/** A checkpoint's trainer.json. */
export type TrainerFile = z.infer<typeof trainerSchema>;

/** Where a run came from: the preset it started from and its `--data` (absolute paths). */
export type RunSource = { preset?: string; data?: string; embodiment?: string; skipMissing?: boolean };

const runConfigSchema = z.object({
  /** the preset the run started from (for messages; `train` holds every value) */
  preset: z.string().optional(),
  /** the `--data` the run trains on: dataset directories separated by commas, or a mixture .json (absolute) */
  data: z.string().optional(),
  /** the `--embodiment` of the data (a registered name or an absolute spec file path) */
  embodiment: z.string().optional(),
  /** `--skip-missing`: episodes whose video is missing are left out */
  skipMissing: z.boolean().optional(),
  /** the resolved training config */
  train: z.unknown(),
  /** the model config the checkpoints hold */
  model: z.record(z.string(), z.unknown()),
});

/** A run's config.json, validated. */
export type RunConfig = RunSource & { train: TrainConfig; model: Record<string, unknown> };

/**
 * JSON file `file` parsed by `schema`; a file that is not JSON or does not fit is refused with
 * every problem and `fix` (what the user can do).
 */
export function readJsonChecked<S extends z.ZodType>(file: string, schema: S, fix: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message}); ${fix}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const problems = schemaProblems(schema, r.error);
    throw new UserError(`${problemsMessage(file, problems)}${problems.length === 1 ? '; ' : '\n'}${fix}`);
  }
  return r.data;
}

export class RunDir {
  readonly root: string;
  /** written into config.json with the configs (see `writeConfig`) */
  readonly source: RunSource;

  constructor(root: string, source: RunSource = {}) {
    this.root = root;
    this.source = source;
  }

  /** Writes config.json: this run's source (over `base`, e.g. the stored one), its training config and its model config. */
  writeConfig(train: Readonly<TrainConfig>, model: object, base: RunSource = {}): void {
    const { preset, data, embodiment, skipMissing } = base;
    const source = { ...JSON.parse(JSON.stringify({ preset, data, embodiment, skipMissing })), ...this.source };
    writeFileAtomic(this.path(RUN_FILES.config), JSON.stringify({ ...source, train, model }, null, 2));
  }

  /** The run's config.json, or undefined when there is none (a run not started yet). */
  readConfig(): RunConfig | undefined {
    const p = this.path(RUN_FILES.config);
    if (!existsSync(p)) return undefined;
    const r = readJsonChecked(p, runConfigSchema, 'restore it, or start the run over in another --out');
    const t = trainConfigSchema.safeParse(r.train);
    if (!t.success) throw new UserError(problemsMessage(`${p} (not a vlalab run config)`, schemaProblems(trainConfigSchema, t.error).map((m) => `train ${m}`)));
    return { preset: r.preset, data: r.data, embodiment: r.embodiment, skipMissing: r.skipMissing, train: Object.freeze(t.data), model: r.model };
  }

  /** Path of a file in the run directory. */
  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** The checkpoint named by latest.json, or undefined for a fresh run. */
  latest(): { step: number; dir: string } | undefined {
    const p = this.path(RUN_FILES.latest);
    if (!existsSync(p)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(p, 'utf8'));
    } catch {
      raw = undefined;
    }
    const r = latestSchema.safeParse(raw);
    if (!r.success) throw new UserError(`${p} is damaged (${r.error.issues[0].message}); delete it to start over, or restore it`);
    const dir = join(this.root, r.data.dir);
    if (!existsSync(dir)) throw new UserError(`${p} names ${r.data.dir}, which does not exist; delete latest.json to start over`);
    return { step: r.data.step, dir };
  }

  /**
   * Writes a checkpoint: every file atomically into checkpoints/step-NNNNNN/, then latest.json.
   * Keeps the newest `keep` checkpoints.
   */
  writeCheckpoint(step: number, files: Record<string, string | Uint8Array>, keep = 2): string {
    const name = `step-${String(step).padStart(6, '0')}`;
    const dir = this.path(RUN_FILES.checkpoints, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, data] of Object.entries(files)) writeFileAtomic(join(dir, file), data);
    writeFileAtomic(this.path(RUN_FILES.latest), JSON.stringify({ step, dir: `${RUN_FILES.checkpoints}/${name}` }));
    const all = readdirSync(this.path(RUN_FILES.checkpoints)).filter((d) => /^step-\d+$/.test(d)).sort();
    for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(this.path(RUN_FILES.checkpoints, old), { recursive: true, force: true });
    return dir;
  }

  /** Appends a metrics line. */
  appendMetrics(line: MetricsLine): void {
    mkdirSync(this.root, { recursive: true });
    appendFileSync(this.path(RUN_FILES.metrics), `${JSON.stringify(line)}\n`);
  }

  /** Metrics lines up to and including `upToStep` (all when omitted); a torn or foreign line is skipped. */
  readMetrics(upToStep = Infinity): MetricsLine[] {
    const p = this.path(RUN_FILES.metrics);
    if (!existsSync(p)) return [];
    const out: MetricsLine[] = [];
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        continue; // a line cut by a kill mid-write: the steps after the checkpoint are re-run and re-logged
      }
      const m = metricsLineSchema.safeParse(raw);
      if (m.success && m.data.step <= upToStep) out.push(m.data);
    }
    return out;
  }

  /** Rewrites metrics.jsonl keeping the lines up to `step` (on resume, drop steps that will re-run). */
  truncateMetrics(step: number): void {
    const keep = this.readMetrics(step);
    writeFileAtomic(this.path(RUN_FILES.metrics), keep.map((m) => `${JSON.stringify(m)}\n`).join(''));
  }
}

/** A checkpoint: its directory and the step it was written at; `run` when it was named through its run directory. */
export type CheckpointRef = { dir: string; step: number; run?: RunDir };

/**
 * The one resolver of "a run directory or a checkpoint": a run (with latest.json) is its latest
 * checkpoint; a directory with model.safetensors is a checkpoint, its step from trainer.json (a
 * copy under another name keeps it) or else the step-NNNNNN folder name. `flag` names the option in errors.
 */
export function resolveCheckpoint(path: string, flag?: string): CheckpointRef {
  if (existsSync(join(path, RUN_FILES.latest))) {
    const run = new RunDir(path);
    return { ...run.latest()!, run };
  }
  if (existsSync(join(path, CKPT_FILES.weights))) {
    const trainer = existsSync(join(path, CKPT_FILES.trainer)) ? safeTrainerStep(join(path, CKPT_FILES.trainer)) : undefined;
    return { dir: path, step: trainer ?? Number(/step-(\d+)/.exec(basename(path))?.[1] ?? 0) };
  }
  throw new UserError(`${flag ? `${flag} ` : ''}${path} is neither a training run (no ${RUN_FILES.latest}) nor a checkpoint (no ${CKPT_FILES.weights}); pass the --out of a \`vlalab train\` run`);
}

/** The step of a trainer.json, or undefined when it is damaged (the caller falls back to the folder name). */
function safeTrainerStep(file: string): number | undefined {
  try {
    return stepCount.safeParse(JSON.parse(readFileSync(file, 'utf8')).step).data;
  } catch {
    return undefined;
  }
}

/**
 * The weights a run's policy acts with, which a fine-tuning run starts from: those of the
 * checkpoint `path` resolves to; the moving average when the run kept one, else the trained weights.
 */
export function policyWeightsFile(path: string, flag = '--init-from'): string {
  const { dir } = resolveCheckpoint(path, flag);
  return existsSync(join(dir, CKPT_FILES.ema)) ? join(dir, CKPT_FILES.ema) : join(dir, CKPT_FILES.weights);
}

/** A fresh optimizer state for each expert. */
export function initOptimizers(params: Params): Optimizers {
  return { semantic: adamwInit(params.semantic), action: adamwInit(params.action) };
}

/**
 * The state a new run starts from: the weights of `initFrom` (a pretrained run or checkpoint, see
 * `policyWeightsFile`) or a seeded initialization; fresh optimizer moments; the EMA when kept.
 */
export function initTrainState(c: ModelConfig, o: { seed: number; ema: boolean; initFrom?: string }): TrainState {
  const pretrained = o.initFrom ? policyWeightsFile(o.initFrom) : undefined;
  const params = pretrained ? decodeParams(c, readFileSync(pretrained), pretrained) : initParams(c, o.seed);
  return { params, optimizers: initOptimizers(params), ema: o.ema ? emaInit(params) : undefined };
}

/** The trainable state saved in checkpoint `dir` (weights, both experts' moments and step counts, the EMA) and its step. */
export function restoreTrainState(dir: string, c: ModelConfig, withEma: boolean): { state: TrainState; step: number } {
  const read = (name: string) => decodeParams(c, readFileSync(join(dir, name)), join(dir, name));
  const { step, optSteps } = readJsonChecked(join(dir, CKPT_FILES.trainer), trainerSchema, 'the checkpoint is damaged; resume from an older one by pointing latest.json at it');
  if (withEma && !existsSync(join(dir, CKPT_FILES.ema))) throw new UserError(`${dir} has no ${CKPT_FILES.ema}: the run was trained without an EMA; resume it with the config it was started with`);
  const m = read(CKPT_FILES.adamM);
  const v = read(CKPT_FILES.adamV);
  const state: TrainState = {
    params: read(CKPT_FILES.weights),
    optimizers: { semantic: { step: optSteps.semantic, m: m.semantic, v: v.semantic }, action: { step: optSteps.action, m: m.action, v: v.action } },
    ema: withEma ? read(CKPT_FILES.ema) : undefined,
  };
  return { state, step };
}

/** Training fields a resumed run keeps even with `extend`: they fix the checkpoint's tensors (model shapes, vocabulary, the EMA file). */
export const FIXED_ON_RESUME = ['model', 'tokenizer', 'emaDecay'] as const;

/**
 * Checks that resuming the run in `out` (stored config `stored`, at checkpoint `step`) with `asked`
 * continues the same run: any field that differs (and any of `moreChanges`, e.g. its data) is
 * refused field by field unless `extend`; with it, FIXED_ON_RESUME fields and a step count not
 * above `step` are still refused. Returns the changes as "field from -> to" (empty: the same run).
 */
export function checkResume(stored: RunConfig, asked: Readonly<TrainConfig>, o: { out: string; step?: number; extend?: boolean; moreChanges?: string[] }): string[] {
  const changes = [...diffTrainConfig(stored.train, asked).map((c) => `${c.field} ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`), ...(o.moreChanges ?? [])];
  if (changes.length > 0 && !o.extend) {
    throw new UserError(`--resume: the flags change the run's config (${join(o.out, RUN_FILES.config)}): ${changes.join(', ')}; ` +
      `continue it as it was with \`vlalab train --out ${shellQuote(o.out)} --resume\` alone, or add --extend to continue with the new values (the learning-rate schedule is recomputed for them)`);
  }
  const fixed = FIXED_ON_RESUME.filter((f) => stored.train[f] !== asked[f]);
  if (fixed.length > 0) throw new UserError(`--extend cannot change ${fixed.join(', ')} (the checkpoint's tensors depend on them); start a new run, e.g. with --init-from ${o.out}`);
  if (o.step !== undefined && changes.length > 0 && asked.steps <= o.step) throw new UserError(`--extend: the run is at step ${o.step}; pass --steps above it`);
  return changes;
}

