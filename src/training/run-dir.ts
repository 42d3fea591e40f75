/**
 * A training run's directory:
 *   RUN/config.json                 {preset, data, train, model}: where the run came from, its resolved
 *                                   training config and model config (all `--resume` needs)
 *   RUN/metrics.jsonl               one JSON line per logged step
 *   RUN/checkpoints/step-000500/    model.safetensors, optimizer.safetensors, policy.json, trainer.json, ...
 *   RUN/latest.json                 {"step": 500, "dir": "checkpoints/step-000500"}, written last
 *   RUN/loss.svg                    the loss curve, written at the end
 * Every file is written atomically and latest.json only after the checkpoint it names is
 * complete, so a run killed at any moment resumes from a whole checkpoint.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { problemsMessage, schemaProblems } from '../util/schema.ts';
import { type TrainConfig, trainConfigSchema } from './presets.ts';

const latestSchema = z.object({ step: z.number().int().min(0), dir: z.string() });

/** One line of metrics.jsonl. */
export type MetricsLine = { step: number; loss: number; lr: number; gradNorm: number; samplesPerSec: number; stage: 1 | 2; time: number };

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

export class RunDir {
  readonly root: string;
  /** written into config.json with the configs (see `writeConfig`) */
  readonly source: RunSource;

  constructor(root: string, source: RunSource = {}) {
    this.root = root;
    this.source = source;
  }

  /** Writes config.json: this run's source, its training config and its model config. */
  writeConfig(train: Readonly<TrainConfig>, model: object): void {
    writeFileAtomic(this.path('config.json'), JSON.stringify({ ...this.source, train, model }, null, 2));
  }

  /** The run's config.json, or undefined when there is none (a run not started yet). */
  readConfig(): RunConfig | undefined {
    const p = this.path('config.json');
    if (!existsSync(p)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(p, 'utf8'));
    } catch (err) {
      throw new UserError(`${p} is not valid JSON (${(err as Error).message}); restore it, or start the run over in another --out`);
    }
    const r = runConfigSchema.safeParse(raw);
    const t = r.success ? trainConfigSchema.safeParse(r.data.train) : undefined;
    if (!r.success || !t?.success) {
      const problems = r.success ? schemaProblems(trainConfigSchema, t!.error!).map((m) => `train ${m}`) : schemaProblems(runConfigSchema, r.error);
      throw new UserError(problemsMessage(`${p} (not a vlalab run config)`, problems));
    }
    return { preset: r.data.preset, data: r.data.data, embodiment: r.data.embodiment, skipMissing: r.data.skipMissing, train: Object.freeze(t.data), model: r.data.model };
  }

  /** Path of a file in the run directory. */
  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** The checkpoint named by latest.json, or undefined for a fresh run. */
  latest(): { step: number; dir: string } | undefined {
    const p = this.path('latest.json');
    if (!existsSync(p)) return undefined;
    const r = latestSchema.safeParse(JSON.parse(readFileSync(p, 'utf8')));
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
    const dir = this.path('checkpoints', name);
    mkdirSync(dir, { recursive: true });
    for (const [file, data] of Object.entries(files)) writeFileAtomic(join(dir, file), data);
    writeFileAtomic(this.path('latest.json'), JSON.stringify({ step, dir: `checkpoints/${name}` }));
    const all = readdirSync(this.path('checkpoints')).filter((d) => /^step-\d+$/.test(d)).sort();
    for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(this.path('checkpoints', old), { recursive: true, force: true });
    return dir;
  }

  /** Appends a metrics line. */
  appendMetrics(line: MetricsLine): void {
    mkdirSync(this.root, { recursive: true });
    appendFileSync(this.path('metrics.jsonl'), `${JSON.stringify(line)}\n`);
  }

  /** Metrics lines up to and including `upToStep` (all when omitted); a torn last line is skipped. */
  readMetrics(upToStep = Infinity): MetricsLine[] {
    const p = this.path('metrics.jsonl');
    if (!existsSync(p)) return [];
    const out: MetricsLine[] = [];
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const m = JSON.parse(line) as MetricsLine;
        if (m.step <= upToStep) out.push(m);
      } catch {
        // a line cut by a kill mid-write: the steps after the checkpoint are re-run and re-logged
      }
    }
    return out;
  }

  /** Rewrites metrics.jsonl keeping the lines up to `step` (on resume, drop steps that will re-run). */
  truncateMetrics(step: number): void {
    const keep = this.readMetrics(step);
    writeFileAtomic(this.path('metrics.jsonl'), keep.map((m) => `${JSON.stringify(m)}\n`).join(''));
  }
}
