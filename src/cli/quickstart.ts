/**
 * `vlalab quickstart`: the whole loop on embedded defaults. Records scripted demonstrations of
 * panda7 pick-and-place as a LeRobot dataset, trains the `quickstart` preset on them, evaluates the
 * trained policy and an untrained baseline (same architecture and transforms, fresh weights) on
 * the same held-out seeds, prints a table and writes a self-contained HTML report.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { evaluateInSim, type TaskEvaluation } from '../eval/index.ts';
import { chooseEngine, ortLabel } from '../engine/index.ts';
import { getConfig, initBackend, initParams } from '../model/index.ts';
import { getPreset, loadPolicyParts, resolveTrainConfig, RunDir } from '../training/index.ts';
import { barChartSvg, escapeHtml, htmlPage, htmlTable, pngDataUri, UserError, writeFileAtomic } from '../util/index.ts';
import { evaluationJson, formatEvaluation, localPolicy } from './eval.ts';
import { recordDemonstrations } from './record.ts';
import { action, ensureDir, intOption, printJson } from './run.ts';

import { openTrainingData, trainOnDatasets } from './train.ts';

/** The embedded defaults. */
export const QUICKSTART = Object.freeze({ robot: 'panda7', task: 'pick-place', demos: 200, demoNoise: 0.008, demoSeed: 1000, evalEpisodes: 50, evalSeed: 0, preset: 'quickstart' });

type Flags = { out: string; json?: boolean; steps?: string; demos: string; episodes: string };

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/**
 * The report's one-line verdict: did training learn the task, judged by the two policies' success
 * rates and 95% intervals on the same seeds (`steps` trained, of the preset's `presetSteps`).
 */
export function quickstartVerdict(trained: TaskEvaluation, baseline: TaskEvaluation, o: { steps: number; presetSteps: number }): { level: 'good' | 'warn' | 'bad'; text: string } {
  const n = trained.episodes.length;
  const short = o.steps < o.presetSteps;
  const both = `${pct(trained.successRate)} [${pct(trained.ci95[0])}, ${pct(trained.ci95[1])}] of ${n} held-out episodes vs ${pct(baseline.successRate)} untrained`;
  if (trained.successRate === 0 && baseline.successRate === 0) {
    return {
      level: 'bad',
      text: short ? `Neither policy succeeded in ${n} episodes: ${o.steps} training steps are too few to learn the task (the quickstart preset trains ${o.presetSteps}); run it again without --steps.`
        : `Neither policy succeeded in ${n} episodes: this run did not learn the task; compare its loss curve below with BENCHMARKS.md "Quickstart".`,
    };
  }
  if (trained.ci95[0] > baseline.ci95[1]) return { level: 'good', text: `The trained policy learnt the task: ${both}.` };
  if (trained.successRate > baseline.successRate) {
    return { level: 'warn', text: `The trained policy is ahead (${both}), but the 95% intervals overlap: evaluate more episodes (--episodes)${short ? ` or train the whole preset (${o.presetSteps} steps)` : ''} to tell them apart.` };
  }
  return { level: 'bad', text: `The trained policy is no better than the untrained one (${both})${short ? `: ${o.steps} training steps are too few (the preset trains ${o.presetSteps})` : '; compare its loss curve below with BENCHMARKS.md "Quickstart"'}.` };
}

/**
 * One recorded episode as a labelled grid: a row per camera, `columns` frames evenly spaced in
 * time, each column headed by its step; the images scale with the page.
 */
export function rolloutGrid(dir: string, caption: string, columns = 8): string {
  const files = readdirSync(join(dir, 'frames')).filter((f) => /_\d+\.png$/.test(f)).sort();
  const cameras = [...new Set(files.map((f) => f.replace(/_\d+\.png$/, '')))];
  const n = files.filter((f) => f.startsWith(`${cameras[0]}_`)).length;
  const k = Math.min(columns, n);
  const steps = Array.from({ length: k }, (_, j) => Math.round((j * (n - 1)) / Math.max(1, k - 1)));
  const head = `<tr><th></th>${steps.map((t) => `<th>step ${t}</th>`).join('')}</tr>`;
  const rows = cameras.map((c) => `<tr><th>${escapeHtml(c)}</th>${steps.map((t) => {
    const png = readFileSync(join(dir, 'frames', `${c}_${String(t).padStart(4, '0')}.png`));
    return `<td><img src="${pngDataUri(png)}" alt="${escapeHtml(c)} camera, step ${t}"></td>`;
  }).join('')}</tr>`).join('\n');
  return `<figure class="rollout"><figcaption>${escapeHtml(caption)}</figcaption><table class="frames">${head}\n${rows}</table></figure>`;
}

/** What the report shows: both evaluations, the demonstrations, the training run. */
export type QuickstartReportData = {
  trained: TaskEvaluation[]; baseline: TaskEvaluation[]; demos: { episodes: number; frames: number };
  trainSeconds: number; steps: number; presetSteps: number; model: string; totalSeconds: number;
};

/** The self-contained report.html of a quickstart in `out` (reads out/run/loss.svg and out/eval/). */
export function quickstartReport(out: string, o: QuickstartReportData): string {
  const row = (label: string, r: TaskEvaluation) => [label, r.task, r.episodes.length, pct(r.successRate), `${pct(r.ci95[0])} – ${pct(r.ci95[1])}`];
  const bars = barChartSvg([
    { label: 'trained', value: o.trained[0].successRate, lo: o.trained[0].ci95[0], hi: o.trained[0].ci95[1], color: '#2b7bb9' },
    { label: 'untrained', value: o.baseline[0].successRate, lo: o.baseline[0].ci95[0], hi: o.baseline[0].ci95[1], color: '#999' },
  ], { title: 'success rate (95% Wilson interval)', percent: true });
  const rollouts = (dir: string, r: TaskEvaluation) => r.episodes.slice(0, 3)
    .map((e) => rolloutGrid(join(dir, r.task, `seed-${e.seed}`), `seed ${e.seed}: ${e.success ? 'success' : 'failure'} after ${e.steps} steps`)).join('\n');
  const verdict = quickstartVerdict(o.trained[0], o.baseline[0], { steps: o.steps, presetSteps: o.presetSteps });
  const loss = readFileSync(join(out, 'run', 'loss.svg'), 'utf8');
  return htmlPage('vlalab quickstart', [
    `<p class="verdict ${verdict.level}">${escapeHtml(verdict.text)}</p>`,
    `<p>${o.demos.episodes} scripted demonstrations (${o.demos.frames} frames) of <b>${QUICKSTART.task}</b> on <b>${QUICKSTART.robot}</b>; model <b>${o.model}</b> trained for ${o.steps} steps in ${o.trainSeconds.toFixed(0)} s; total ${o.totalSeconds.toFixed(0)} s.</p>`,
    `<h2>Success</h2>${htmlTable(['policy', 'task', 'episodes', 'success', '95% CI'], [row('trained', o.trained[0]), row('untrained baseline', o.baseline[0])])}${bars}`,
    `<h2>Training loss</h2>${loss}`,
    `<h2>Rollouts of the trained policy</h2>${rollouts(join(out, 'eval', 'trained'), o.trained[0])}`,
    `<h2>Rollouts of the untrained baseline</h2>${rollouts(join(out, 'eval', 'baseline'), o.baseline[0])}`,
  ]);
}

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('record demos, train a policy, evaluate it against an untrained baseline, and write a report (no arguments needed)')
    .option('--out <dir>', 'output directory', 'vlalab-quickstart')
    .option('--steps <n>', 'training steps (default: the quickstart preset)')
    .option('--demos <n>', 'demonstration episodes', String(QUICKSTART.demos))
    .option('--episodes <n>', 'evaluation episodes per policy', String(QUICKSTART.evalEpisodes))
    .option('--json', 'print a JSON summary as the last line')
    .action(
      action(async (o: Flags) => {
        const t0 = performance.now();
        const log = (m: string) => { if (!o.json) process.stderr.write(`${m}\n`); };
        ensureDir(o.out);
        if (new RunDir(join(o.out, 'run')).latest()) throw new UserError(`${o.out} holds an earlier quickstart; choose another --out or delete it`);
        const config = resolveTrainConfig(QUICKSTART.preset, { steps: o.steps === undefined ? undefined : intOption('--steps', o.steps, 1) });
        const backend = await initBackend();
        const { engine, note } = await chooseEngine();
        if (note) log(note);
        log(`1/4 recording ${o.demos} demonstrations of ${QUICKSTART.task} on ${QUICKSTART.robot} (execution noise ${QUICKSTART.demoNoise * 100} cm, clean labels)`);
        const demos = await recordDemonstrations({ robot: QUICKSTART.robot, tasks: [QUICKSTART.task], episodes: intOption('--demos', o.demos, 1), seed: QUICKSTART.demoSeed, noise: QUICKSTART.demoNoise, out: join(o.out, 'data'), imageSize: getConfig(config.model).imageSize, quiet: o.json });
        log(`2/4 training preset ${QUICKSTART.preset} (model ${config.model}) for ${config.steps} steps [${engine === 'ort' ? ortLabel() : backend}]`);
        const source = { preset: QUICKSTART.preset, data: resolve(o.out, 'data') };
        const trained = await trainOnDatasets(config, await openTrainingData(join(o.out, 'data')), join(o.out, 'run'), { quiet: o.json, source, engine });
        const episodes = intOption('--episodes', o.episodes, 1);
        const evalOpts = { robot: QUICKSTART.robot, tasks: [QUICKSTART.task], episodes, seed: QUICKSTART.evalSeed, executeSteps: config.executeSteps, imageSize: getConfig(config.model).imageSize, quiet: o.json };
        log(`3/4 evaluating the trained policy on ${episodes} held-out seeds`);
        const parts = loadPolicyParts(join(o.out, 'run'));
        const trainedEval = await evaluateInSim(localPolicy(parts, { engine }), { ...evalOpts, label: 'trained', recordDir: join(o.out, 'eval', 'trained') });
        log('4/4 evaluating the untrained baseline (same model and transforms, fresh weights)');
        const baseline = { ...parts, params: initParams(parts.config, config.seed + 1) };
        const baselineEval = await evaluateInSim(localPolicy(baseline, { engine }), { ...evalOpts, label: 'baseline', recordDir: join(o.out, 'eval', 'baseline') });
        const totalSeconds = (performance.now() - t0) / 1000;
        const presetSteps = getPreset(QUICKSTART.preset).steps;
        writeFileAtomic(join(o.out, 'report.html'), quickstartReport(o.out, { trained: trainedEval, baseline: baselineEval, demos, trainSeconds: trained.seconds, steps: trained.steps, presetSteps, model: config.model, totalSeconds }));
        const t = evaluationJson(trainedEval);
        const b = evaluationJson(baselineEval);
        const summary = {
          success_rate: t.success_rate, episodes: t.episodes, ci95: t.ci95, baseline_success_rate: b.success_rate, baseline_ci95: b.ci95,
          train_seconds: trained.seconds, train_steps: trained.steps, model: config.model, first_loss: trained.firstLoss, final_loss: trained.finalLoss,
          demos: demos.episodes, demo_frames: demos.frames, total_seconds: totalSeconds, report: join(o.out, 'report.html'),
        };
        writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
        if (o.json) return printJson(summary);
        process.stdout.write(`\n${formatEvaluation(trainedEval, 'trained policy')}\n${formatEvaluation(baselineEval, 'untrained baseline')}\n`);
        process.stdout.write(`${quickstartVerdict(trainedEval[0], baselineEval[0], { steps: trained.steps, presetSteps }).text}\nreport: ${join(o.out, 'report.html')} (total ${totalSeconds.toFixed(0)} s)\n`);
      }),
    );
}
