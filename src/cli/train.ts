/** `vlalab train`: flow-matching training of a MoT policy on LeRobot datasets. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  BYTE_TOKENIZER, buildWordTokenizer, checkMixturePaths, createLoader, createThreadLoader, type Dataset, type DatasetSource, type Loader, openDataset, parseMixture, tokenizerFromJson, truncationWarning,
} from '../data/index.ts';
import { chooseEngine, type EngineName, ortLabel, parseEngine } from '../engine/index.ts';
import { CONFIG_NAMES, getConfig, initBackend } from '../model/index.ts';
import {
  checkResume, configFileFields, getPreset, policyMeta, POLICY_FILE, PRESET_NAMES, readPolicyMeta, resolveTrainConfig, RunDir, type RunSource, type TrainConfig, train, type TrainResult,
} from '../training/index.ts';
import { shellQuote, UserError } from '../util/index.ts';
import { action, ensureDir, intOption, printJson, readJsonFile } from './run.ts';


/** Datasets to train on, how each was opened (for the loader thread), with their mixture step sizes and weights. */
export type TrainingData = { datasets: Dataset[]; sources: DatasetSource[]; frameStep: number[]; weights: number[] };

/**
 * Reads `--data`: a mixture JSON file, or dataset directories separated by commas. `embodiment` (a
 * name or a spec file) applies to directories; `skipMissing` leaves out episodes whose videos are missing.
 */
export async function openTrainingData(spec: string, opts: { embodiment?: string; skipMissing?: boolean } = {}): Promise<TrainingData> {
  if (spec.endsWith('.json')) {
    const m = parseMixture(readJsonFile(spec), spec);
    checkMixturePaths(m, spec);
    const sources = m.datasets.map((d): DatasetSource => ({ dir: d.path, embodiment: d.embodiment ?? opts.embodiment, skipMissing: opts.skipMissing }));
    const datasets = await Promise.all(sources.map((s) => openDataset(s.dir, s)));
    return { datasets, sources, frameStep: m.datasets.map((d) => d.frame_step_size), weights: m.datasets.map((d) => d.weight) };
  }
  const dirs = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (dirs.length === 0) throw new UserError('--data needs a mixture .json or at least one dataset directory');
  for (const d of dirs) if (!existsSync(d) || !statSync(d).isDirectory()) throw new UserError(`--data: ${d} is not a directory (or a mixture .json)`);
  const sources = dirs.map((dir): DatasetSource => ({ dir, embodiment: opts.embodiment, skipMissing: opts.skipMissing }));
  const datasets = await Promise.all(sources.map((s) => openDataset(s.dir, s)));
  return { datasets, sources, frameStep: datasets.map(() => 1), weights: datasets.map(() => 1) };
}

/**
 * The model config (with the tokenizer's vocabulary), the loader and the policy metadata a run of
 * `config` on `data` trains with; a fine-tuning run (`initFrom`) keeps the pretrained run's tokenizer.
 * With `thread`, the batches are built on a worker thread (loader-thread.ts: the same batches, built
 * while ONNX Runtime's step blocks the main thread); close it with `close()`. `truncation` warns of
 * instructions longer than the model's tokens.
 */
export async function trainingLoader(config: TrainConfig, data: TrainingData, opts: { initFrom?: string; vocabulary?: readonly string[]; thread?: boolean } = {}) {
  const datasets = data.datasets;
  // fine-tuning keeps the pretrained run's tokenizer (its embeddings were learnt for those ids); else
  // the word list comes from the data, so a resumed run rebuilds the same one
  const tokenizer = opts.initFrom ? tokenizerFromJson(readPolicyMeta(opts.initFrom).tokenizer, `--init-from ${opts.initFrom}`)
    : config.tokenizer === 'words' ? buildWordTokenizer([...datasets.flatMap((d) => d.tasks), ...(opts.vocabulary ?? [])]) : BYTE_TOKENIZER;
  const model = { ...getConfig(config.model), vocabSize: tokenizer.vocabSize };
  const options = {
    frameStep: data.frameStep, weights: data.weights,
    horizon: model.actionHorizon, mode: config.eefMode, normMode: config.normMode, normPerStep: config.normPerStep, batchSize: config.batchSize, seed: config.seed,
    maxViews: model.maxViews, imageSize: model.imageSize, maxTokens: model.maxTokens, pState: config.pState, pView: config.pView,
    augment: { shift: config.augShift, color: config.augColor }, aim: model.aimWeight !== undefined,
  };
  const loader: Loader & { close?(): Promise<void> } = opts.thread
    ? await createThreadLoader(data.sources, { ...options, tokenizer: tokenizer.json })
    : createLoader(datasets, { ...options, tokenizer });
  const first = datasets[0];
  // every embodiment trained on, with the stats of its first dataset, so eval and serve can act as any of them
  const embodiments = datasets.flatMap((d, i) => (datasets.findIndex((x) => x.embodiment.name === d.embodiment.name) === i
    ? [{ embodiment: d.embodiment.name, cameras: d.cameras, norm: loader.norm[i], instruction: d.tasks[0] }] : []));
  const meta = policyMeta({
    embodiment: first.embodiment.name, embodimentSpec: first.embodiment.file ? first.embodiment.spec : undefined, parameterization: config.eefMode, normMode: config.normMode, cameras: first.cameras,
    executeSteps: config.executeSteps, norm: loader.norm[0], instruction: first.tasks[0], tokenizer: tokenizer.json,
    ...(embodiments.length > 1 ? { embodiments } : {}),
  });
  // instructions cut short by the model's token budget (and any that become the same tokens)
  const truncation = truncationWarning(datasets.flatMap((d) => d.tasks), model, tokenizer);
  return { model, loader, meta, truncation };
}

/**
 * Trains `config` on `datasets` into run directory `out`; the checkpoints can act (policy.json).
 * `vocabulary`: more instructions for a word tokenizer (a study gives all its runs one vocabulary).
 */
export async function trainOnDatasets(config: TrainConfig, data: TrainingData, out: string, opts: { resume?: boolean; extend?: boolean; quiet?: boolean; initFrom?: string; engine?: EngineName; source?: RunSource; vocabulary?: readonly string[] } = {}): Promise<TrainResult> {
  const { model, loader, meta, truncation } = await trainingLoader(config, data, { ...opts, thread: true });
  if (truncation) process.stderr.write(`${truncation}\n`); // stderr, also with --json
  ensureDir(out);
  try {
    return await train({
      config, data: loader, run: new RunDir(out, opts.source), resume: opts.resume, extend: opts.extend, quiet: opts.quiet, initFrom: opts.initFrom, modelConfig: model, engine: opts.engine,
      extras: { [POLICY_FILE]: JSON.stringify(meta, null, 2) },
    });
  } finally {
    await loader.close?.();
  }
}

/** `--data` with every path made absolute, so a run's config.json names its data from any directory. */
export function absoluteDataSpec(spec: string): string {
  return spec.endsWith('.json') ? resolve(spec) : spec.split(',').map((s) => s.trim()).filter(Boolean).map((d) => resolve(d)).join(',');
}

type TrainFlags = {
  preset?: string; data?: string; out: string; resume?: boolean; extend?: boolean; config?: string; steps?: string; batchSize?: string; lr?: string;
  model?: string; seed?: string; eefMode?: string; initFrom?: string; engine?: string; json?: boolean; embodiment?: string; skipMissing?: boolean;
};

/** The config, data and source of a training command: a fresh run's from its flags, a resumed run's from its config.json. */
type TrainPlan = { config: TrainConfig; data: string; source: RunSource; extended: string[] };

/**
 * Plans `vlalab train`. Without `--resume`: the preset (default quickstart), then `--config`, then
 * flags. With `--resume`: the run's own config.json, and any flag that changes it is refused with
 * the field-by-field difference unless `--extend` accepts the new values.
 */
export function planTraining(o: TrainFlags, overrides: Partial<Record<keyof TrainConfig, unknown>>): TrainPlan {
  const file = o.config ? configFileFields(readJsonFile(o.config), o.config) : {};
  const stored = o.resume ? new RunDir(o.out).readConfig() : undefined;
  if (!stored) {
    if (o.extend) throw new UserError('--extend changes a resumed run; use it with --resume on an existing --out');
    if (!o.data) {
      throw new UserError(o.resume ? `${o.out} holds no run to resume (no config.json); start one with \`vlalab train --data DIR --out ${o.out}\``
        : 'train needs --data: a dataset directory, several separated by commas, or a mixture .json');
    }
    const preset = o.preset ?? 'quickstart';
    const data = absoluteDataSpec(o.data);
    const embodiment = o.embodiment?.endsWith('.json') ? resolve(o.embodiment) : o.embodiment;
    return { config: resolveTrainConfig(preset, file, overrides), data, source: { preset, data, ...(embodiment ? { embodiment } : {}), ...(o.skipMissing ? { skipMissing: true } : {}) }, extended: [] };
  }
  const data = o.data ? absoluteDataSpec(o.data) : stored.data;
  if (!data) throw new UserError(`${new RunDir(o.out).path('config.json')} does not say which data the run trains on (written by an older vlalab); pass the run's --data again`);
  const asked = resolveTrainConfig(o.preset ? getPreset(o.preset) : stored.train, file, overrides);
  const moreChanges = stored.data && data !== stored.data ? [`data ${stored.data} -> ${data}`] : [];
  const changes = checkResume(stored, asked, { out: o.out, step: new RunDir(o.out).latest()?.step, extend: o.extend, moreChanges });
  const embodiment = o.embodiment ? (o.embodiment.endsWith('.json') ? resolve(o.embodiment) : o.embodiment) : stored.embodiment;
  const skipMissing = o.skipMissing ?? stored.skipMissing;
  return { config: asked, data, source: { preset: stored.preset, data, ...(embodiment ? { embodiment } : {}), ...(skipMissing ? { skipMissing } : {}) }, extended: changes };
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a policy by flow matching on one or more LeRobot datasets')
    .option('--preset <name>', `training preset: ${PRESET_NAMES.join(', ')} (default: quickstart)`)
    .option('--data <dirs|mixture.json>', 'dataset directory, several separated by commas, or a mixture JSON file (a resumed run: its own)')
    .requiredOption('--out <dir>', 'run directory (checkpoints, metrics.jsonl, loss.svg, config.json)')
    .option('--resume', 'continue the run in --out from its last checkpoint, with its own data and config (RUN/config.json)')
    .option('--extend', 'with --resume: accept flags that change the run\'s config (e.g. more --steps); the schedule is recomputed for them')
    .option('--config <file>', 'JSON file of config fields overriding the preset, or a run\'s config.json')
    .option('--steps <n>', 'optimizer steps')
    .option('--batch-size <n>', 'samples per step')
    .option('--lr <x>', 'peak learning rate')
    .option('--model <name>', `model config: ${CONFIG_NAMES.join(', ')} (\`vlalab model info --config NAME\`)`)
    .option('--eef-mode <mode>', 'action parameterization: world-rel, world-delta, eef-rel, eef-delta')
    .option('--seed <n>', 'seed of init, data order and noise')
    .option('--init-from <dir>', 'fine-tune from a pretrained run (its latest checkpoint, EMA weights if kept) or a checkpoint directory')
    .option('--engine <name>', 'ort (ONNX Runtime, default) or jax (jax-js wasm); checkpoints are the same files either way')
    .option('--embodiment <name|file.json>', 'embodiment of the --data directories (a registered name or a spec file) when robot_type is not registered')
    .option('--skip-missing', 'leave out episodes whose video files are missing (listed once) instead of stopping')
    .option('--json', 'print a JSON summary')
    .action(
      action(async (o: TrainFlags) => {
        const num = (name: string, v: string | undefined) => {
          if (v === undefined) return undefined;
          const x = Number(v);
          if (!Number.isFinite(x)) throw new UserError(`${name} must be a number, got "${v}"`);
          return x;
        };
        const plan = planTraining(o, {
          steps: o.steps === undefined ? undefined : intOption('--steps', o.steps, 1),
          batchSize: o.batchSize === undefined ? undefined : intOption('--batch-size', o.batchSize, 1),
          lr: num('--lr', o.lr), model: o.model, eefMode: o.eefMode, seed: o.seed === undefined ? undefined : intOption('--seed', o.seed),
        });
        const config = plan.config;
        getConfig(config.model);
        const backend = await initBackend();
        const { engine, note } = await chooseEngine(parseEngine(o.engine));
        if (note) process.stderr.write(`${note}\n`);
        const data = await openTrainingData(plan.data, { embodiment: plan.source.embodiment, skipMissing: plan.source.skipMissing });
        const datasets = data.datasets;
        for (const d of datasets) {
          const skipped = d.skipped ?? [];
          if (skipped.length) process.stderr.write(`${d.dir}: skipping ${skipped.length} episode${skipped.length > 1 ? 's' : ''} whose video is missing: ${skipped.map((x) => x.episode).join(', ')} (${skipped[0].files[0]}${skipped.length > 1 || skipped[0].files.length > 1 ? ', ...' : ''})\n`);
        }
        const run = new RunDir(o.out, plan.source);
        if (plan.extended.length > 0 && !o.json) process.stderr.write(`extending the run: ${plan.extended.join(', ')}\n`);
        const latest = o.resume ? run.latest() : undefined;
        if (!o.json) {
          const what = latest ? `resuming ${o.out} at step ${latest.step} of ${config.steps}` : `training ${config.steps} steps`;
          process.stderr.write(`${what}: preset ${plan.source.preset ?? '(custom)'}, model ${config.model}, batch ${config.batchSize} on ${datasets.map((d) => `${d.dir} (${d.numFrames} frames)`).join(', ')} [${engine === 'ort' ? ortLabel() : backend}]\n`);
          if (latest && latest.step >= config.steps) process.stderr.write(`the run already finished at step ${latest.step}; to train further pass --steps N --extend\n`);
        }
        const stopOnInterrupt = () => {
          const kept = safeLatest(run);
          process.stderr.write(`\ninterrupted: ${kept ? `kept the checkpoint of step ${kept.step} of ${config.steps} (${kept.dir})` : 'no checkpoint was written yet'}; ` +
            `continue with: vlalab train --out ${shellQuote(o.out)} --resume\n`);
          process.exit(130);
        };
        process.once('SIGINT', stopOnInterrupt);
        const r = await trainOnDatasets(config, data, o.out, { resume: o.resume, extend: plan.extended.length > 0, quiet: o.json, initFrom: o.initFrom, source: plan.source, engine });
        process.removeListener('SIGINT', stopOnInterrupt);
        const summary = { run: o.out, checkpoint: r.checkpointDir, steps: r.steps, first_loss: r.firstLoss, final_loss: r.finalLoss, train_seconds: r.seconds };
        if (o.json) return printJson(summary);
        process.stdout.write(`done: ${r.steps} steps in ${r.seconds.toFixed(0)} s, loss ${r.firstLoss.toFixed(3)} -> ${r.finalLoss.toFixed(3)}; checkpoint ${r.checkpointDir}; loss curve ${o.out}/loss.svg\n`);
      }),
    );
}

/** The latest checkpoint, or undefined (also when latest.json is being replaced at this moment). */
function safeLatest(run: RunDir): { step: number; dir: string } | undefined {
  try {
    return run.latest();
  } catch {
    return undefined;
  }
}
