/**
 * `vlalab quickstart`: the whole loop on embedded defaults. Records scripted demonstrations of
 * panda7 pick-and-place as a LeRobot dataset, trains the `quickstart` preset on them, evaluates the
 * trained policy and an untrained baseline (same architecture and transforms, fresh weights) on
 * the same held-out seeds, prints a table and writes a self-contained HTML report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openDataset } from '../data/index.ts';
import { evaluateInSim, type TaskEvaluation } from '../eval/index.ts';
import { getConfig, initBackend, initParams } from '../model/index.ts';
import { loadPolicyParts, resolveTrainConfig, RunDir } from '../training/index.ts';
import { barChartSvg, htmlPage, htmlTable, pngDataUri, UserError, writeFileAtomic } from '../util/index.ts';
import { evaluationJson, formatEvaluation, localPolicy } from './eval.ts';
import { recordDemonstrations } from './record.ts';
import { action, ensureDir, intOption, printJson } from './run.ts';

import { trainOnDatasets } from './train.ts';

/** The embedded defaults. */
export const QUICKSTART = Object.freeze({ robot: 'panda7', task: 'pick-place', demos: 200, demoNoise: 0.008, demoSeed: 1000, evalEpisodes: 50, evalSeed: 0, preset: 'quickstart' });

type Flags = { out: string; json?: boolean; steps?: string; demos: string; episodes: string };

function report(out: string, o: { trained: TaskEvaluation[]; baseline: TaskEvaluation[]; demos: { episodes: number; frames: number }; trainSeconds: number; steps: number; model: string; totalSeconds: number }): string {
  const row = (label: string, r: TaskEvaluation) => [label, r.task, r.episodes.length, `${(100 * r.successRate).toFixed(0)}%`, `${(100 * r.ci95[0]).toFixed(0)}% – ${(100 * r.ci95[1]).toFixed(0)}%`];
  const bars = barChartSvg([
    { label: 'trained', value: o.trained[0].successRate, lo: o.trained[0].ci95[0], hi: o.trained[0].ci95[1], color: '#2b7bb9' },
    { label: 'untrained', value: o.baseline[0].successRate, lo: o.baseline[0].ci95[0], hi: o.baseline[0].ci95[1], color: '#999' },
  ], { title: 'success rate (95% Wilson interval)', percent: true });
  const sheets = (dir: string, r: TaskEvaluation) => r.episodes.slice(0, 3).map((e) => {
    const png = readFileSync(join(dir, r.task, `seed-${e.seed}`, 'sheet.png'));
    return `<figure><img src="${pngDataUri(png)}" alt="seed ${e.seed}"><figcaption>seed ${e.seed}: ${e.success ? 'success' : 'failure'} in ${e.steps} steps</figcaption></figure>`;
  }).join('\n');
  const loss = readFileSync(join(out, 'run', 'loss.svg'), 'utf8');
  return htmlPage('vlalab quickstart', [
    `<h1>vlalab quickstart</h1><p>${o.demos.episodes} scripted demonstrations (${o.demos.frames} frames) of <b>${QUICKSTART.task}</b> on <b>${QUICKSTART.robot}</b>; model <b>${o.model}</b> trained for ${o.steps} steps in ${o.trainSeconds.toFixed(0)} s; total ${o.totalSeconds.toFixed(0)} s.</p>`,
    `<h2>Success</h2>${htmlTable(['policy', 'task', 'episodes', 'success', '95% CI'], [row('trained', o.trained[0]), row('untrained baseline', o.baseline[0])])}${bars}`,
    `<h2>Training loss</h2>${loss}`,
    `<h2>Rollouts of the trained policy</h2>${sheets(join(out, 'eval', 'trained'), o.trained[0])}`,
    `<h2>Rollouts of the untrained baseline</h2>${sheets(join(out, 'eval', 'baseline'), o.baseline[0])}`,
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
        log(`1/4 recording ${o.demos} demonstrations of ${QUICKSTART.task} on ${QUICKSTART.robot} (execution noise ${QUICKSTART.demoNoise * 100} cm, clean labels)`);
        const demos = await recordDemonstrations({ robot: QUICKSTART.robot, tasks: [QUICKSTART.task], episodes: intOption('--demos', o.demos, 1), seed: QUICKSTART.demoSeed, noise: QUICKSTART.demoNoise, out: join(o.out, 'data'), imageSize: getConfig(config.model).imageSize, quiet: o.json });
        log(`2/4 training ${config.model} for ${config.steps} steps [${backend}]`);
        const trained = await trainOnDatasets(config, { datasets: [await openDataset(join(o.out, 'data'))], frameStep: [1], weights: [1] }, join(o.out, 'run'), { quiet: o.json });
        const episodes = intOption('--episodes', o.episodes, 1);
        const evalOpts = { robot: QUICKSTART.robot, tasks: [QUICKSTART.task], episodes, seed: QUICKSTART.evalSeed, executeSteps: config.executeSteps, quiet: o.json };
        log(`3/4 evaluating the trained policy on ${episodes} held-out seeds`);
        const parts = loadPolicyParts(join(o.out, 'run'));
        const trainedEval = await evaluateInSim(localPolicy(parts), { ...evalOpts, label: 'trained', recordDir: join(o.out, 'eval', 'trained') });
        log('4/4 evaluating the untrained baseline (same model and transforms, fresh weights)');
        const baseline = { ...parts, params: initParams(parts.config, config.seed + 1) };
        const baselineEval = await evaluateInSim(localPolicy(baseline), { ...evalOpts, label: 'baseline', recordDir: join(o.out, 'eval', 'baseline') });
        const totalSeconds = (performance.now() - t0) / 1000;
        writeFileAtomic(join(o.out, 'report.html'), report(o.out, { trained: trainedEval, baseline: baselineEval, demos, trainSeconds: trained.seconds, steps: trained.steps, model: config.model, totalSeconds }));
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
        process.stdout.write(`report: ${join(o.out, 'report.html')} (total ${totalSeconds.toFixed(0)} s)\n`);
      }),
    );
}
