/**
 * Training presets: named, frozen configurations in one registry. A preset fixes the model
 * config, the data view (horizon, parameterization, dropout) and the optimization schedule;
 * CLI flags and JSON config files override single fields and are validated by the same schema.
 */
import { z } from 'zod';
import { EEF_MODES, NORM_MODES } from '../actions/index.ts';
import { UserError } from '../util/errors.ts';
import { problemsMessage, schemaProblems } from '../util/schema.ts';
import { unknownNameMessage } from '../util/suggest.ts';

export const trainConfigSchema = z
  .object({
    /** model config name from the model registry (debug, tiny, small, paper) */
    model: z.string().min(1),
    /** optimizer steps in total (both stages) */
    steps: z.number().int().positive(),
    /** samples per optimizer step */
    batchSize: z.number().int().positive(),
    /** peak learning rate of stage 2 (or of the whole run for stage2-only) [2e-5 at paper scale] */
    lr: z.number().positive(),
    /** peak learning rate of stage 1, semantic expert frozen [1e-4] */
    stage1Lr: z.number().positive(),
    /** curriculum: 'stage2-only' trains everything from the start; 'two-stage' first freezes the semantic expert */
    curriculum: z.enum(['two-stage', 'stage2-only']),
    /** fraction of `steps` spent in stage 1 when curriculum is two-stage */
    stage1Fraction: z.number().min(0).max(1),
    /** keep the semantic expert frozen for the whole run (fine-tuning option) */
    freezeSemantic: z.boolean(),
    /** warmup steps as a fraction of each stage's steps [0.05] */
    warmupRatio: z.number().min(0).max(1),
    /** decoupled AdamW weight decay [1e-5] */
    weightDecay: z.number().min(0),
    /** global gradient-norm clip (0 disables) */
    clipNorm: z.number().min(0),
    /** EEF parameterization of the action chunk */
    eefMode: z.enum(EEF_MODES),
    /** normalization of state and actions */
    normMode: z.enum(NORM_MODES),
    /** normalize each step of the action chunk by its own stats (runs before it pooled the chunk's steps) */
    normPerStep: z.boolean().default(false),
    /** probability of zeroing the state input (sensory dropout) [0.2] */
    pState: z.number().min(0).max(1),
    /** probability of dropping each camera view, at least one kept [0.2] */
    pView: z.number().min(0).max(1),
    /** training-time random shift of each view, in pixels at the model's image size (0: none; runs before it had none) */
    augShift: z.number().int().min(0).default(0),
    /** training-time colour jitter strength: brightness +-j, contrast and channel gains in [1 - j, 1 + j] (0: none) */
    augColor: z.number().min(0).lt(1).default(0),
    /** flow time distribution: uniform (paper) or beta(1.5, 1) (pi0) */
    timeSampling: z.enum(['uniform', 'beta']),
    /** write a checkpoint every N steps (and at the end) */
    checkpointEvery: z.number().int().positive(),
    /** log a metrics line every N steps */
    logEvery: z.number().int().positive(),
    /** actions of each predicted chunk executed before re-planning, in evaluation */
    executeSteps: z.number().int().positive(),
    /** decay of the exponential moving average of the weights the policy acts with (0: act with the last weights) */
    emaDecay: z.number().min(0).lt(1),
    /** instruction tokenizer: bytes, or whole words of the training data's instructions (bytes for other words) */
    tokenizer: z.enum(['bytes', 'words']),
    /** seed for initialization, data order, dropout and noise */
    seed: z.number().int().min(0),
  })
  .strict();

/** A validated training configuration. */
export type TrainConfig = z.infer<typeof trainConfigSchema>;

const BASE: TrainConfig = {
  model: 'tiny',
  steps: 2000,
  batchSize: 32,
  lr: 2e-4,
  stage1Lr: 1e-3,
  curriculum: 'stage2-only',
  stage1Fraction: 0.5,
  freezeSemantic: false,
  warmupRatio: 0.05,
  weightDecay: 1e-5,
  clipNorm: 1,
  eefMode: 'eef-rel',
  normMode: 'quantile',
  normPerStep: false,
  pState: 0,
  pView: 0,
  augShift: 0,
  augColor: 0,
  timeSampling: 'uniform',
  checkpointEvery: 500,
  logEvery: 10,
  executeSteps: 8,
  emaDecay: 0,
  tokenizer: 'bytes',
  seed: 0,
};

/** The registered presets. The learning rates are laptop-scale (small models, from scratch). */
export const PRESETS: Readonly<Record<string, Readonly<TrainConfig>>> = Object.freeze({
  /** trains in seconds: for tests and for checking a setup end to end */
  debug: Object.freeze({ ...BASE, model: 'debug', steps: 30, batchSize: 8, checkpointEvery: 15, logEvery: 5, executeSteps: 4 }),
  /** the quickstart: one robot, one task, a few minutes on a 2-core CPU */
  // measured on the 2-core machine: the debug-sized MoT learns pick-and-place within the 15-minute
  // budget where larger configs get too few steps (see BENCHMARKS.md "Quickstart"); re-planning every
  // 2 actions: the same trained policy scored 72/84/60% re-planning every 1/2/4. The convolutional
  // stem and augmented views (the laptop preset's levers) took it from 40-42/50 to 50/50
  quickstart: Object.freeze({ ...BASE, model: 'debug-conv', steps: 12000, lr: 1e-3, augShift: 4, augColor: 0.1, executeSteps: 2, emaDecay: 0.999, checkpointEvery: 2000 }),
  /** a longer run (up to about 2 hours on a 2-core CPU) for a whole suite */
  // a LIBERO-style suite (10 language-conditioned tasks): whole-word tokens keep the instructions in
  // debug's 16 tokens (bytes need 64, twice the step time) and make them easier to ground; the
  // convolutional stem, shifted and colour-jittered views and an 80,000-step schedule took the
  // spatial suite from 17% (debug, 50,000 steps) to 71.5% (BENCHMARKS.md "Recipe ladder", row r3);
  // the aim head (an auxiliary loss: where the gripper next closes or opens) to 82.5% (row r12:
  // +8.5 [+1.5, +15.5]); re-planning every 2 actions beat 1, 4 and 8 on the same weights
  laptop: Object.freeze({
    ...BASE, model: 'debug-conv-aim', tokenizer: 'words', steps: 80000, lr: 1e-3, augShift: 4, augColor: 0.1, executeSteps: 2, emaDecay: 0.999, checkpointEvery: 2500,
  }),
  /** the paper's recipe shape: sensory dropout and the two-stage curriculum */
  paper: Object.freeze({ ...BASE, model: 'small', steps: 20000, curriculum: 'two-stage', lr: 2e-5, stage1Lr: 1e-4, pState: 0.2, pView: 0.2, checkpointEvery: 1000 }),
});

/** The presets' names, in registry order. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** The preset `name`, with a "did you mean" for typos. */
export function getPreset(name: string): TrainConfig {
  const p = PRESETS[name];
  if (!p) throw new UserError(unknownNameMessage('preset', name, PRESET_NAMES));
  return { ...p };
}

/**
 * Resolves a full config: the preset (by name, or a run's own config when resuming), then a JSON
 * config file's fields, then CLI overrides, all validated by one schema so a typo or a bad value
 * names the field. Every problem is reported at once.
 */
export function resolveTrainConfig(preset: string | Readonly<TrainConfig>, ...overrides: Record<string, unknown>[]): TrainConfig {
  const merged: Record<string, unknown> = { ...(typeof preset === 'string' ? getPreset(preset) : preset) };
  for (const o of overrides) for (const [k, v] of Object.entries(o)) if (v !== undefined) merged[k] = v;
  const r = trainConfigSchema.safeParse(merged);
  if (!r.success) throw new UserError(problemsMessage('training config', schemaProblems(trainConfigSchema, r.error)));
  return Object.freeze(r.data);
}

/**
 * The config fields of a `--config` file: a plain object of fields, or a run's own config.json
 * (`{"train": {...}, "model": {...}}`), whose training config is taken whole.
 */
export function configFileFields(value: unknown, source: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${source}: expected a JSON object of training config fields (or a run's config.json)`);
  const v = value as Record<string, unknown>;
  const train = v.train;
  if (typeof train === 'object' && train !== null && !Array.isArray(train)) return train as Record<string, unknown>;
  return v;
}

/** One field whose value differs between two configs. */
export type ConfigChange = { field: keyof TrainConfig; from: unknown; to: unknown };

/** The fields whose values differ from `a` to `b`, in schema order. */
export function diffTrainConfig(a: Readonly<TrainConfig>, b: Readonly<TrainConfig>): ConfigChange[] {
  const fields = Object.keys(trainConfigSchema.shape) as (keyof TrainConfig)[];
  return fields.filter((f) => a[f] !== b[f]).map((field) => ({ field, from: a[field], to: b[field] }));
}
