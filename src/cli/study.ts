/**
 * `vlalab study plan|run|report`: the paper's controlled study (pretrain -> few-shot fine-tune ->
 * evaluate, one training choice varied at a time) from a study file or a preset (table1 .. table5).
 * This file wires the study layer to recording (sim record, data corpus), training and evaluation.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { evaluateInSim, type TaskEvaluation } from '../eval/index.ts';
import { ortThreads } from '../engine/index.ts';
import { initBackend } from '../model/index.ts';
import {
  blindFigure, blindFigureReport, BLIND_FIGURES, runBlindFigure, type CellEvaluation, expandStudy, formatPlan, parseStudy, planStudy, readCellEvaluation, reportChartSvg, reportHtml, reportMarkdown, runStudy, type Study,
  type StudyBackend, studyColumns, studyPreset, studyPresetNames, studyResults, type StudyResults,
} from '../study/index.ts';
import { loadPolicyParts } from '../training/index.ts';
import { count, formatSeconds, UserError } from '../util/index.ts';
import { corpusParts, recordCorpus, writeCorpusMixture } from './corpus.ts';
import { localPolicy } from './eval.ts';
import { recordDemonstrations } from './record.ts';
import { action, ensureDir, intOption, printJson, readJsonFile } from './run.ts';
import { openTrainingData, trainOnDatasets } from './train.ts';

/** Image side of every recording (the models' input size). */
const IMAGE_SIZE = 64;

/** The study named by `spec` (a preset name or a JSON file) at `scale` (presets default to laptop). */
export function loadStudy(spec: string, scale?: string): Study {
  const isFile = spec.endsWith('.json') || existsSync(spec);
  if (isFile) return parseStudy(readJsonFile(spec), spec, scale);
  return parseStudy(studyPreset(spec), `study preset ${spec}`, scale ?? 'laptop');
}

/** The backend of a study run in this process: sim recording, `train`'s and `eval`'s code paths. */
export function localStudyBackend(o: { quiet?: boolean } = {}): StudyBackend {
  return {
    corpusTasks: (name, cap) => corpusParts(name).reduce((n, p) => n + Math.min(p.tasks.length, cap ?? p.tasks.length), 0),
    async recordCorpus(name, dir, r) {
      await recordCorpus(name, { out: dir, episodes: r.episodes, seed: r.seed, imageSize: IMAGE_SIZE, quiet: true, reuse: true, tasksPerPart: r.tasksPerPart });
      return writeCorpusMixture(name, dir);
    },
    async recordDemos(r) {
      rmSync(`${r.out}.partial`, { recursive: true, force: true });
      await recordDemonstrations({ robot: r.robot, tasks: r.tasks, episodes: r.episodes, seed: r.seed, out: `${r.out}.partial`, imageSize: IMAGE_SIZE, quiet: true });
      renameSync(`${r.out}.partial`, r.out);
    },
    async train(r) {
      const data = await openTrainingData(r.data);
      await trainOnDatasets(r.config, data, r.out, { resume: true, quiet: o.quiet, initFrom: r.initFrom, vocabulary: r.vocabulary, source: { data: r.data } });
    },
    async evaluate(r) {
      const parts = loadPolicyParts(r.checkpoint);
      return evaluateInSim(localPolicy(parts, { seed: r.seed }), {
        robot: parts.embodiment.name, tasks: r.tasks, episodes: r.episodes, seed: r.seed, executeSteps: r.executeSteps ?? parts.meta.executeSteps, maxSteps: r.maxSteps, imageSize: IMAGE_SIZE, quiet: o.quiet,
      });
    },
    log: (line) => { if (!o.quiet) process.stderr.write(`study: ${line}\n`); },
  };
}

/** One training or evaluation of a study, as study-job.ts runs it in its own process. */
export type StudyJob =
  | { kind: 'train'; request: Parameters<StudyBackend['train']>[0] }
  | { kind: 'evaluate'; request: Parameters<StudyBackend['evaluate']>[0] };

const JOB_ENTRY = join(import.meta.dirname, 'study-job.ts');

/**
 * Runs `job` in a child process (study-job.ts) with VLALAB_THREADS=`threads`, so that several run
 * on separate cores (ONNX Runtime's Node binding computes on the calling thread: jobs in one process
 * would take turns). Resolves with what the job wrote to its result file (an evaluation's rows);
 * rejects with the end of the child's error output.
 */
async function runJobProcess(job: StudyJob, threads: number): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-study-job-'));
  try {
    const spec = join(dir, 'job.json');
    const result = join(dir, 'result.json');
    writeFileSync(spec, JSON.stringify({ ...job, result }));
    const child = spawn(process.execPath, [JOB_ENTRY, spec], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, VLALAB_THREADS: String(threads) } });
    let errors = '';
    child.stderr.on('data', (d: Buffer) => { errors = (errors + d.toString()).slice(-4000); });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
      child.once('error', rej);
      child.once('exit', (c, sig) => res([c, sig]));
    });
    const what = job.kind === 'train' ? `training ${job.request.out}` : `evaluation of ${job.request.checkpoint}`;
    if (code !== 0) throw new Error(`study job (${what}) failed (${signal ?? `exit ${code}`}):\n${errors.trim()}`);
    return existsSync(result) ? JSON.parse(readFileSync(result, 'utf8')) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The backend of a study that runs several jobs at a time: recording in this process, each training
 * and evaluation in its own process on `threads` cores, without progress bars.
 */
export function processStudyBackend(o: { quiet?: boolean; threads: number }): StudyBackend {
  const local = localStudyBackend(o);
  return {
    ...local,
    train: async (request) => { await runJobProcess({ kind: 'train', request }, o.threads); },
    evaluate: async (request) => (await runJobProcess({ kind: 'evaluate', request }, o.threads)) as TaskEvaluation[],
  };
}

/** Reads the study in `dir` (its study.json) and its finished cells. */
function readStudyDir(dir: string): { study: Study; evals: Map<string, CellEvaluation> } {
  const file = join(dir, 'study.json');
  if (!existsSync(file)) throw new UserError(`${dir} holds no study (no study.json); start one with \`vlalab study run PRESET --out ${dir}\``);
  const study = parseStudy(readJsonFile(file), file);
  const evals = new Map<string, CellEvaluation>();
  for (const c of expandStudy(study).cells) {
    const e = readCellEvaluation(dir, c.id);
    if (e) evals.set(c.id, e);
  }
  return { study, evals };
}

/** Writes DIR/report.md, report.html, chart.svg and results.json; returns the results. */
export function writeStudyReport(dir: string): StudyResults {
  const { study, evals } = readStudyDir(dir);
  const res = studyResults(study, expandStudy(study).cells, studyColumns(study), evals);
  const log = join(dir, 'runs.jsonl');
  const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: 'start' | 'end'; command: string; seconds?: number; reused?: string[] }) : [];
  const ends = lines.filter((l) => l.event === 'end');
  const killed = lines.filter((l) => l.event === 'start').length - ends.length;
  const notes = [
    ...(ends.length ? [`command: \`${ends[0].command}\``, `wall time: ${formatSeconds(ends.reduce((s, r) => s + (r.seconds ?? 0), 0))} in ${count(ends.length, 'completed invocation')}${killed > 0 ? ` (and ${killed} interrupted, not counted)` : ''}`] : []),
    ...(ends.some((e) => e.reused?.length) ? [`reused from other studies (their time not counted): ${ends.flatMap((e) => e.reused ?? []).join(', ')}`] : []),
    `recipe: training preset ${study.budgets.trainPreset}${study.budgets.model ? `, model ${study.budgets.model}` : ''}; pretrain ${study.budgets.pretrainSteps} steps, fine-tune ${study.budgets.finetuneSteps} steps, batch ${study.budgets.batchSize}, seed ${study.seed}; ` +
      `${study.downstream.nShot}-shot, ${study.downstream.episodes} episodes per task (seeds from ${study.downstream.evalSeed})`,
  ];
  writeFileSync(join(dir, 'results.json'), JSON.stringify(res, null, 2) + '\n');
  writeFileSync(join(dir, 'report.md'), reportMarkdown(res, notes));
  writeFileSync(join(dir, 'report.html'), reportHtml(res, notes));
  writeFileSync(join(dir, 'chart.svg'), reportChartSvg(res));
  return res;
}

type StudyFlags = { scale?: string; out?: string; json?: boolean; jobs?: string; reuse?: string };

/** The directories of a --reuse list (separated by commas). */
const reuseDirs = (list?: string) => list?.split(',').map((d) => d.trim()).filter(Boolean) ?? [];

export function register(program: Command): void {
  const study = program.command('study').description(`the paper's controlled study: pretrain -> few-shot fine-tune -> evaluate, one training choice varied at a time (presets ${studyPresetNames().join(', ')})`);
  const scaleHelp = 'scale of the study: ci (seconds per cell, for tests) or laptop (the default of a preset); a study file may define its own';

  study
    .command('plan')
    .description('print the cells, the shared pretraining runs and an estimated wall time, without running anything')
    .argument('<study>', `a study file (.json) or a preset: ${studyPresetNames().join(', ')}`)
    .option('--scale <name>', scaleHelp)
    .option('--jobs <n>', 'estimate the wall time of `study run --jobs n`', '1')
    .option('--reuse <dirs>', 'as `study run --reuse`: mark the runs other study directories supply, and leave them out of the estimate')
    .option('--json', 'print JSON')
    .action(action((spec: string, o: StudyFlags) => {
      const plan = planStudy(loadStudy(spec, o.scale), localStudyBackend().corpusTasks, intOption('--jobs', o.jobs!, 1), reuseDirs(o.reuse));
      if (o.json) {
        const reused = { pretrains: [...plan.reused.pretrains.keys()], cells: [...plan.reused.cells.keys()] };
        return printJson({ name: plan.study.name, cells: plan.cells, pretrains: plan.pretrains.map((p) => p.key), columns: plan.columns, reused, estimate_seconds: plan.estimate });
      }
      process.stdout.write(formatPlan(plan));
    }));

  study
    .command('run')
    .description('run a study (or continue a killed one: rerun the same command) and write its report')
    .argument('<study>', `a study file (.json) or a preset: ${studyPresetNames().join(', ')}`)
    .requiredOption('--out <dir>', 'study directory (keep it outside the work tree); a rerun continues it')
    .option('--scale <name>', scaleHelp)
    .option('--jobs <n>', 'trainings and evaluations at a time, each in its own process on cores / n threads; the results do not depend on it', '1')
    .option('--reuse <dirs>', 'other study directories (separated by commas) whose finished runs are this study\'s too (same budgets and seed, same recipe, same downstream protocol): copied instead of run again')
    .option('--json', 'print a JSON summary (no progress)')
    .action(action(async (spec: string, o: StudyFlags) => {
      const s = loadStudy(spec, o.scale);
      const jobs = intOption('--jobs', o.jobs!, 1);
      const dir = o.out!;
      ensureDir(dir);
      await initBackend();
      const reuse = reuseDirs(o.reuse);
      const command = `vlalab study run ${spec} --out ${dir}${o.scale ? ` --scale ${o.scale}` : ''}${jobs > 1 ? ` --jobs ${jobs}` : ''}${reuse.length ? ` --reuse ${reuse.join(',')}` : ''}`;
      appendFileSync(join(dir, 'runs.jsonl'), JSON.stringify({ event: 'start', command, at: new Date().toISOString() }) + '\n');
      const backend = jobs > 1 ? processStudyBackend({ quiet: o.json, threads: Math.max(1, Math.floor(ortThreads() / jobs)) }) : localStudyBackend({ quiet: o.json });
      const r = await runStudy(s, dir, backend, { jobs, reuse });
      appendFileSync(join(dir, 'runs.jsonl'), JSON.stringify({ event: 'end', command, seconds: r.seconds, ran: r.ran.length, skipped: r.skipped.length, reused: r.reused }) + '\n');
      const res = writeStudyReport(dir);
      if (o.json) return printJson({ out: dir, seconds: r.seconds, ran: r.ran, skipped: r.skipped, reused: r.reused, findings: res.findings.map((f) => ({ claim: f.claim, holds: f.holds ?? null })) });
      process.stdout.write(`${s.name}: ${r.ran.length} cells run, ${r.skipped.length} already done${r.reused.length ? ` (${r.reused.length} runs reused)` : ''}, in ${formatSeconds(r.seconds)}; report ${join(dir, 'report.md')} and report.html\n`);
    }));

  study
    .command('blind')
    .description('Figures 4-5: the point-scored evaluation of a study\'s models through the Grouped Blind Ensemble service (simulated robot, scripted operator and judge)')
    .argument('<dir>', 'study directory whose cells the figure compares (table1 for figure4, table3 for figure5)')
    .requiredOption('--figure <name>', `figure: ${Object.keys(BLIND_FIGURES).join(', ')}`)
    .option('--trials <n>', 'trials per model and task [10]', '10')
    .option('--tasks <names>', 'multi-stage tasks separated by commas (default: all four)')
    .option('--json', 'print the bars as JSON')
    .action(action(async (dir: string, o: { figure: string; trials: string; tasks?: string; json?: boolean }) => {
      const f = blindFigure(o.figure);
      const missing = f.models.filter((m) => !readCellEvaluation(dir, m.cell)).map((m) => m.cell);
      if (missing.length) throw new UserError(`${o.figure} compares cells of ${f.study}; ${dir} has not finished ${missing.join(', ')}: run \`vlalab study run ${f.study} --out ${dir}\` first`);
      const out = join(dir, `blind-${f.name}`);
      rmSync(out, { recursive: true, force: true }); // a fresh blind study each time (its models' servers get new ports)
      ensureDir(out);
      await initBackend();
      const t0 = performance.now();
      const bars = await runBlindFigure(f, dir, { out, trials: intOption('--trials', o.trials, 1), tasks: o.tasks?.split(',').map((t) => t.trim()).filter(Boolean) });
      const rep = blindFigureReport(f, bars);
      writeFileSync(join(out, 'results.json'), JSON.stringify({ figure: f.name, seconds: (performance.now() - t0) / 1000, bars }, null, 2) + '\n');
      writeFileSync(join(out, 'report.md'), rep.markdown);
      writeFileSync(join(out, 'report.html'), rep.html);
      writeFileSync(join(out, 'chart.svg'), rep.svg);
      if (o.json) return printJson({ figure: f.name, out, bars });
      process.stdout.write(rep.markdown);
    }));

  study
    .command('report')
    .description('write report.md, report.html, chart.svg and results.json of a study directory (finished cells so far)')
    .argument('<dir>', 'study directory (of `vlalab study run --out`)')
    .option('--json', 'print the results as JSON')
    .action(action((dir: string, o: StudyFlags) => {
      const res = writeStudyReport(dir);
      if (o.json) return printJson(res);
      process.stdout.write(readFileSync(join(dir, 'report.md'), 'utf8'));
    }));
}
