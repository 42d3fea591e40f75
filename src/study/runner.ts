/**
 * Plans and runs a study: record the pretraining corpora (shared parts once) and the n-shot
 * fine-tuning demonstrations, train each shared pretraining run, then per cell fine-tune and
 * evaluate. Every training run is a normal run directory; a cell is finished once its eval.json is
 * written (atomically, last), so a killed study rerun with the same command resumes every run from
 * its last checkpoint and never repeats a finished cell. All cells use the same training seed,
 * demonstrations and evaluation seeds (matched: the deltas pair episodes by task and seed).
 *
 *   DIR/study.json                the resolved study (a rerun must match it)
 *   DIR/data/corpus/PART/         pretraining datasets; mixture-D1.json .. mixture-D4.json
 *   DIR/data/downstream/          the fine-tuning demonstrations (panda7, all downstream tasks)
 *   DIR/pretrain/KEY/             shared pretraining runs
 *   DIR/cells/ID/                 the cell's fine-tuning run and eval.json
 */
import { cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type TaskEvaluation } from '../eval/index.ts';
import { resolveTrainConfig, RunDir, type TrainConfig } from '../training/index.ts';
import { allTasks, getTask } from '../sim/index.ts';
import { formatSeconds, UserError, writeFileAtomic } from '../util/index.ts';
import { type Cell, expandStudy, type PretrainRun, type Recipe, type Study } from './study.ts';

/** What the runner needs from the layers above it (the CLI wires recording, training and evaluation). */
export type StudyBackend = {
  /** tasks corpus `name` records (at most `tasksPerPart` per part), for the wall-time estimate */
  corpusTasks(name: string, tasksPerPart?: number): number;
  /** records corpus `name`'s parts into `dir` (keeping parts already there) and returns its mixture file */
  recordCorpus(name: string, dir: string, o: { episodes: number; seed: number; tasksPerPart?: number }): Promise<string>;
  /** records `episodes` expert demonstrations of each task on `robot` into the new dataset `dir` */
  recordDemos(o: { robot: string; tasks: readonly string[]; episodes: number; seed: number; out: string }): Promise<void>;
  /** trains (or resumes) run `out` on `data` (a mixture .json or a dataset dir), optionally from a pretrained run */
  train(o: { config: TrainConfig; data: string; out: string; initFrom?: string; vocabulary: readonly string[] }): Promise<void>;
  /** evaluates the run `checkpoint` closed-loop on `tasks` */
  evaluate(o: { checkpoint: string; tasks: readonly string[]; episodes: number; seed: number; executeSteps?: number; maxSteps?: number }): Promise<TaskEvaluation[]>;
  /** progress lines */
  log(line: string): void;
};

/** One evaluated episode of a cell. */
export type EpisodeOutcome = { task: string; seed: number; success: boolean; points: number; maxPoints: number };

/** A finished cell's eval.json. */
export type CellEvaluation = { cell: string; step: number; seconds: number; episodes: EpisodeOutcome[] };

/** The robot every cell is fine-tuned and evaluated on (the paper's Franka). */
export const DOWNSTREAM_ROBOT = 'panda7';

/** The downstream columns with their (capped) tasks. */
export function studyColumns(s: Study): { name: string; tasks: string[] }[] {
  return s.downstream.columns.map((c) => {
    const tasks = c.tasks ? c.tasks.map((t) => getTask(t).name) : allTasks().filter((t) => t.suite === c.suite).map((t) => t.name);
    if (tasks.length === 0) throw new UserError(`study "${s.name}": column ${c.name} names suite "${c.suite}", which has no tasks (see \`vlalab sim tasks\`)`);
    return { name: c.name, tasks: tasks.slice(0, s.downstream.tasksPerColumn ?? tasks.length) };
  });
}

function trainConfig(s: Study, r: Recipe, stage: 'pretrain' | 'finetune'): TrainConfig {
  const b = s.budgets;
  return resolveTrainConfig(b.trainPreset, {
    model: b.model, batchSize: b.batchSize, checkpointEvery: b.checkpointEvery, executeSteps: b.executeSteps, seed: s.seed, eefMode: r.eefMode,
    // whole-word tokens: instructions fit the small models' token budgets (bytes would truncate them)
    tokenizer: 'words',
    ...(stage === 'pretrain'
      ? { steps: b.pretrainSteps, pState: r.pState, pView: r.pView, curriculum: r.curriculum, freezeSemantic: false }
      : { steps: b.finetuneSteps, curriculum: 'stage2-only', freezeSemantic: r.freeze }),
  });
}

/**
 * Costs on the 2-core machine (64 px): recording 10 panda7 episodes took 4.2 s; a laptop-preset
 * step (debug-conv, batch 32, ONNX Runtime) ~45 ms for one job alone; an evaluation ~6.5 ms per
 * control step re-planning every 2 actions (a 5-shot study's cells: 100 spatial episodes, most
 * running to the step budget, in 62-73 s). With several jobs at once each one runs slower: two
 * trainings side by side (1 thread each) ~1.2x; two evaluations are single-threaded simulations and
 * barely slow each other. Checked on whole studies with --jobs 2: Table I at laptop scale 48:42
 * measured against 55:35 estimated, the STUDY.md probe 31:39 against 29:32. For the estimate.
 */
const COST = { recordEpisodeS: 0.45, runStartS: 2.5, sampleS: 0.001, simStepS: 0.004, queryS: 0.005, sharedTrain: 1.2, sharedEval: 1.1 };

/** What a study will run, before anything runs. */
export type StudyPlan = {
  study: Study;
  cells: Cell[];
  pretrains: PretrainRun[];
  columns: { name: string; tasks: string[] }[];
  corpora: string[];
  /** Finished runs of other studies this study takes (by pretraining key and cell id). */
  reused: { pretrains: Map<string, string>; cells: Map<string, { dir: string; evaluation: boolean }> };
  /** Seconds: each stage's job time summed, and the wall time with `jobs` at a time. */
  estimate: { recordS: number; pretrainS: number; finetuneS: number; evalS: number; jobs: number; totalS: number };
};

/**
 * The wall time of running `jobs` at a time as runStudy does: pretraining runs first, then cells in
 * plan order, each cell after its pretraining run (`after`, an index into `pretrainS`); a job's time
 * is its time alone times the slow-down of sharing the machine (while another job runs).
 */
export function scheduledSeconds(pretrainS: number[], cells: { after?: number; trainS: number; evalS: number }[], jobs: number): number {
  const shared = (train: number, evaluate: number) => (jobs > 1 ? train * COST.sharedTrain + evaluate * COST.sharedEval : train + evaluate);
  const done = new Array<number>(pretrainS.length);
  const free = new Array<number>(jobs).fill(0); // when each slot frees up
  const take = (ready: number, seconds: number): number => {
    const i = free.indexOf(Math.min(...free));
    free[i] = Math.max(free[i], ready) + seconds;
    return free[i];
  };
  pretrainS.forEach((t, i) => { done[i] = take(0, shared(t, 0)); });
  // cells whose pretraining run finished earlier start earlier (the runner grants slots in plan order among the ready ones)
  const order = cells.map((c, i) => ({ c, i, ready: c.after === undefined ? 0 : done[c.after] })).sort((a, b) => a.ready - b.ready || a.i - b.i);
  let end = Math.max(0, ...done);
  for (const { c, ready } of order) end = Math.max(end, take(ready, shared(c.trainS, c.evalS)));
  return end;
}

/**
 * The plan of study `s`: cells, shared pretraining runs, and an estimated wall time with `jobs` at a
 * time; runs that `reuse` (other study directories, see `reusableRuns`) would supply cost nothing
 * (a reused cell without its evaluation costs its evaluation).
 */
export function planStudy(s: Study, corpusTasks: StudyBackend['corpusTasks'], jobs = 1, reuse: string[] = []): StudyPlan {
  const { cells, pretrains } = expandStudy(s);
  const columns = studyColumns(s);
  const tasks = columns.flatMap((c) => c.tasks);
  const corpora = [...new Set(pretrains.map((p) => p.recipe.corpus))].sort();
  const b = s.budgets;
  const fine = trainConfig(s, s.baseline, 'finetune');
  const biggest = corpora.at(-1);
  const recorded = biggest ? corpusTasks(biggest, b.corpusTasksPerPart) : 0;
  const recordS = COST.recordEpisodeS * (recorded * b.corpusEpisodes + tasks.length * s.downstream.nShot);
  const stepS = COST.sampleS * b.batchSize + 0.012;
  const pretrainRunS = COST.runStartS + b.pretrainSteps * stepS;
  const finetuneRunS = COST.runStartS + b.finetuneSteps * stepS;
  const budgetSteps = tasks.reduce((n, t) => n + Math.min(getTask(t).stepBudget, s.downstream.maxSteps ?? Infinity), 0) * s.downstream.episodes;
  const evalRunS = budgetSteps * (COST.simStepS + COST.queryS / fine.executeSteps);
  const keys = pretrains.map((p) => p.key);
  const reused = { pretrains: new Map<string, string>(), cells: new Map<string, { dir: string; evaluation: boolean }>() };
  for (const other of reuse) {
    const r = reusableRuns(s, other);
    for (const [k, v] of r.pretrains) if (!reused.pretrains.has(k)) reused.pretrains.set(k, v);
    for (const [k, v] of r.cells) if (!reused.cells.has(k)) reused.cells.set(k, v);
  }
  const pretrainTimes = pretrains.map((p) => (reused.pretrains.has(p.key) ? 0 : pretrainRunS));
  const cellTimes = cells.map((c) => {
    const r = reused.cells.get(c.id);
    return { after: c.pretrain ? keys.indexOf(c.pretrain) : undefined, trainS: r ? 0 : finetuneRunS, evalS: r?.evaluation ? 0 : evalRunS };
  });
  const wallS = scheduledSeconds(pretrainTimes, cellTimes, Math.max(1, jobs));
  const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  return {
    study: s, cells, pretrains, columns, corpora, reused,
    estimate: { recordS, pretrainS: sum(pretrainTimes), finetuneS: sum(cellTimes.map((c) => c.trainS)), evalS: sum(cellTimes.map((c) => c.evalS)), jobs: Math.max(1, jobs), totalS: recordS + wallS },
  };
}

/** The plan as text (cells, shared runs, estimate). */
export function formatPlan(p: StudyPlan): string {
  const e = p.estimate;
  const lines = [
    `${p.study.name}: ${p.cells.length} cells, ${p.pretrains.length} shared pretraining runs`,
    `downstream (${DOWNSTREAM_ROBOT}): ${p.columns.map((c) => `${c.name} (${c.tasks.length} tasks)`).join(', ')}; ${p.study.downstream.nShot}-shot, ${p.study.downstream.episodes} episodes per task from seed ${p.study.downstream.evalSeed}`,
    `budgets: preset ${p.study.budgets.trainPreset}, pretrain ${p.study.budgets.pretrainSteps} steps, fine-tune ${p.study.budgets.finetuneSteps} steps, batch ${p.study.budgets.batchSize}, seed ${p.study.seed}`,
    '',
    'pretraining runs:',
    ...(p.pretrains.length ? p.pretrains.map((r) => `  ${r.key}${p.reused.pretrains.has(r.key) ? `  (reused: ${p.reused.pretrains.get(r.key)})` : ''}`) : ['  (none)']),
    '',
    'cells:',
    ...p.cells.map((c) => {
      const r = p.reused.cells.get(c.id);
      const reused = r ? `  (reused: ${r.dir}${r.evaluation ? '' : ', evaluated here'})` : '';
      return `  ${c.id.padEnd(36)} ${c.pretrain ? `from ${c.pretrain}` : 'from scratch'}${c.recipe.freeze ? ', frozen semantic expert' : ''}${c.vs ? `  (delta vs ${c.vs})` : ''}${reused}`;
    }),
    '',
    `estimated wall time${e.jobs > 1 ? ` with ${e.jobs} jobs at a time` : ''}: ${formatSeconds(e.totalS)} (record ${formatSeconds(e.recordS)}; job time: pretrain ${formatSeconds(e.pretrainS)}, fine-tune ${formatSeconds(e.finetuneS)}, evaluate ${formatSeconds(e.evalS)} at most: failed episodes run to the step budget)`,
  ];
  return lines.join('\n') + '\n';
}

/** True when run directory `dir` holds a checkpoint at (or past) `steps`. */
function finished(dir: string, steps: number): boolean {
  const latest = existsSync(join(dir, 'latest.json')) ? new RunDir(dir).latest() : undefined;
  return latest !== undefined && latest.step >= steps;
}

/** Reads a finished cell's eval.json, or undefined. */
export function readCellEvaluation(dir: string, cell: string): CellEvaluation | undefined {
  const f = join(dir, 'cells', cell, 'eval.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as CellEvaluation) : undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Finished runs of another study's directory that study `s` can take instead of running them: both
 * studies have the same budgets and seed; a pretraining run then is the same run when its key (its
 * recipe) is; a cell is when its recipe is and the downstream demonstrations are the same (tasks,
 * shots, demonstration seed), and its evaluation carries over when the evaluation protocol is the
 * same too (episodes, seed, step limit). Returns the other study's run directories by this study's
 * pretraining key and cell id.
 */
export function reusableRuns(s: Study, other: string): { pretrains: Map<string, string>; cells: Map<string, { dir: string; evaluation: boolean }> } {
  const pretrains = new Map<string, string>();
  const cells = new Map<string, { dir: string; evaluation: boolean }>();
  const file = join(other, 'study.json');
  if (!existsSync(file)) throw new UserError(`--reuse ${other}: no study.json there (is it a study directory?)`);
  const o = JSON.parse(readFileSync(file, 'utf8')) as Study;
  if (!same(o.budgets, s.budgets) || o.seed !== s.seed) return { pretrains, cells };
  const mine = expandStudy(s);
  const theirs = expandStudy(o);
  for (const p of mine.pretrains) {
    const dir = join(other, 'pretrain', p.key);
    if (theirs.pretrains.some((q) => q.key === p.key) && finished(dir, s.budgets.pretrainSteps)) pretrains.set(p.key, dir);
  }
  const demos = (x: Study) => [studyColumns(x).flatMap((c) => c.tasks), x.downstream.nShot, x.downstream.demoSeed];
  const protocol = (x: Study) => [x.downstream.episodes, x.downstream.evalSeed, x.downstream.maxSteps];
  if (!same(demos(o), demos(s))) return { pretrains, cells };
  for (const c of mine.cells) {
    const match = theirs.cells.find((d) => same(d.recipe, c.recipe));
    const dir = match && join(other, 'cells', match.id);
    if (dir && finished(dir, s.budgets.finetuneSteps)) cells.set(c.id, { dir, evaluation: same(protocol(o), protocol(s)) && readCellEvaluation(other, match.id) !== undefined });
  }
  return { pretrains, cells };
}

/** Copies a finished run directory `from` to `to` (whole or not at all), replacing what `to` held (a partial run). */
function copyRun(from: string, to: string): void {
  const tmp = `${to}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(from, tmp, { recursive: true });
  rmSync(to, { recursive: true, force: true });
  renameSync(tmp, to);
}

/**
 * Up to `jobs` tasks at a time, granted in order of priority (lowest first) among those waiting,
 * not in order of arrival. After a failure no waiting task starts; `run` rejects for them.
 */
/** The rejection of tasks that never started because an earlier one failed. */
const STOPPED = new Error('stopped after an earlier failure');

function orderedSlots(jobs: number) {
  let free = jobs;
  let failed = false;
  const waiting: { priority: number; start: () => void }[] = [];
  const next = () => {
    while (free > 0 && waiting.length && !failed) {
      free--;
      waiting.shift()!.start();
    }
  };
  return {
    async run<T>(priority: number, task: () => Promise<T>): Promise<T> {
      await new Promise<void>((start) => {
        waiting.splice(waiting.filter((w) => w.priority <= priority).length, 0, { priority, start });
        next();
      });
      if (failed) throw STOPPED;
      try {
        return await task();
      } catch (err) {
        failed = true;
        for (const w of waiting.splice(0)) w.start();
        throw err;
      } finally {
        free++;
        next();
      }
    },
  };
}

/**
 * Runs (or continues) study `s` in `dir`: everything not yet finished, `jobs` runs at a time
 * (pretraining runs first, then cells, each in plan order; a cell waits for its pretraining run).
 * With one job the order is the plan's. `reuse`: other studies' directories whose finished runs this
 * study shares (see `reusableRuns`), copied in first. Returns the wall time of this invocation, which
 * cells it evaluated (in plan order) and what it reused. After a failure the running jobs finish and
 * no other starts.
 */
export async function runStudy(s: Study, dir: string, backend: StudyBackend, o: { jobs?: number; reuse?: string[] } = {}): Promise<{ seconds: number; ran: string[]; skipped: string[]; reused: string[] }> {
  const t0 = performance.now();
  const plan = planStudy(s, backend.corpusTasks, o.jobs, o.reuse);
  const stored = join(dir, 'study.json');
  if (existsSync(stored)) {
    if (readFileSync(stored, 'utf8') !== JSON.stringify(s, null, 2) + '\n') {
      throw new UserError(`${dir} holds another study (or other settings of it: ${stored}); rerun it with its own command, or pass a new --out`);
    }
  } else {
    writeFileAtomic(stored, JSON.stringify(s, null, 2) + '\n');
  }
  const tasks = plan.columns.flatMap((c) => c.tasks);
  const b = s.budgets;
  // finished runs of other studies that are this study's runs too, copied in (a partial run here is replaced)
  const reused: string[] = [];
  for (const [key, from] of plan.reused.pretrains) {
    const to = join(dir, 'pretrain', key);
    if (finished(to, b.pretrainSteps)) continue;
    copyRun(from, to);
    reused.push(`pretrain/${key}`);
    backend.log(`pretrain ${key}: reused from ${from}`);
  }
  for (const [id, { dir: from, evaluation }] of plan.reused.cells) {
    const to = join(dir, 'cells', id);
    if (readCellEvaluation(dir, id) || (!evaluation && finished(to, b.finetuneSteps))) continue;
    copyRun(from, to);
    const evalFile = join(to, 'eval.json');
    if (evaluation) writeFileAtomic(evalFile, JSON.stringify({ ...(JSON.parse(readFileSync(evalFile, 'utf8')) as CellEvaluation), cell: id }, null, 2) + '\n');
    else rmSync(evalFile, { force: true });
    reused.push(`cells/${id}`);
    backend.log(`cell ${id}: reused from ${from}${evaluation ? '' : ' (trained; evaluated here)'}`);
  }
  const mixtures = new Map<string, string>();
  for (const corpus of plan.corpora) {
    backend.log(`corpus ${corpus}`);
    mixtures.set(corpus, await backend.recordCorpus(corpus, join(dir, 'data', 'corpus'), { episodes: b.corpusEpisodes, seed: 1000, tasksPerPart: b.corpusTasksPerPart }));
  }
  const demos = join(dir, 'data', 'downstream');
  if (!existsSync(demos)) {
    backend.log(`downstream demonstrations: ${tasks.length} tasks x ${s.downstream.nShot}`);
    await backend.recordDemos({ robot: DOWNSTREAM_ROBOT, tasks, episodes: s.downstream.nShot, seed: s.downstream.demoSeed, out: demos });
  }
  // one vocabulary for every run, so scratch and pretrained cells read instructions identically
  const vocabulary = allTasks().map((t) => t.instruction);
  const slots = orderedSlots(Math.max(1, o.jobs ?? 1));
  const pretrained = new Map(plan.pretrains.map((p, i) => {
    const out = join(dir, 'pretrain', p.key);
    const config = trainConfig(s, p.recipe, 'pretrain');
    if (finished(out, config.steps)) return [p.key, Promise.resolve()];
    return [p.key, slots.run(i, async () => {
      backend.log(`pretrain ${p.key}`);
      await backend.train({ config, data: mixtures.get(p.recipe.corpus)!, out, vocabulary });
    })];
  }));
  const ran = new Set<string>();
  const skipped = plan.cells.filter((c) => readCellEvaluation(dir, c.id)).map((c) => c.id);
  const cells = plan.cells.filter((c) => !skipped.includes(c.id)).map(async (c, i) => {
    if (c.pretrain) await pretrained.get(c.pretrain);
    await slots.run(plan.pretrains.length + i, async () => {
      const t1 = performance.now();
      const out = join(dir, 'cells', c.id);
      const config = trainConfig(s, c.recipe, 'finetune');
      if (!finished(out, config.steps)) {
        backend.log(`cell ${c.id}: fine-tune`);
        await backend.train({ config, data: demos, out, initFrom: c.pretrain ? join(dir, 'pretrain', c.pretrain) : undefined, vocabulary });
      }
      backend.log(`cell ${c.id}: evaluate`);
      const rows = await backend.evaluate({ checkpoint: out, tasks, episodes: s.downstream.episodes, seed: s.downstream.evalSeed, executeSteps: b.executeSteps, maxSteps: s.downstream.maxSteps });
      const episodes = rows.flatMap((r) => r.episodes.map((e) => ({ task: r.task, seed: e.seed, success: e.success, points: e.points, maxPoints: e.maxPoints })));
      const evaluation: CellEvaluation = { cell: c.id, step: config.steps, seconds: (performance.now() - t1) / 1000, episodes };
      writeFileAtomic(join(out, 'eval.json'), JSON.stringify(evaluation, null, 2) + '\n');
      ran.add(c.id);
      const wins = episodes.filter((e) => e.success).length;
      backend.log(`cell ${c.id}: ${wins}/${episodes.length} episodes succeeded; ${formatSeconds(evaluation.seconds)} (${ran.size + skipped.length} of ${plan.cells.length} cells done)`);
    });
  });
  // every job settles before the first failure is reported (in-process runs cannot be cut short)
  const reasons = (await Promise.allSettled([...pretrained.values(), ...cells])).flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (reasons.length) throw reasons.find((r) => r !== STOPPED) ?? reasons[0];
  return { seconds: (performance.now() - t0) / 1000, ran: plan.cells.map((c) => c.id).filter((id) => ran.has(id)), skipped, reused };
}
