/**
 * `vlalab data corpus D1..D4`: the paper's four data quadrants (section V) with simulated robots,
 * recorded by the scripted experts (sim record's code path) into one folder per dataset, plus a
 * mixture.json that `vlalab data mix` and `vlalab train --data` read:
 *   D1  a "public" EEF corpus: panda7 on the spatial, object and goal suites
 *   D2  D1 + more EEF embodiments: ur6 and widowx6 pick-and-place
 *   D3  D2 + a visually different "sim" domain: panda7 pick-and-place in the `alt` room
 *   D4  D3 + joint-space robots: so5 and bimanual6 pick-and-place
 * Frame step sizes balance the corpus like the paper's Table VII: a 10-task suite dataset is
 * subsampled (S = 2) against the single-task sets (S = 1).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError, unknownNameMessage } from '../util/index.ts';
import { recordDemonstrations } from './record.ts';
import { action, ensureDir, intOption, printJson } from './run.ts';
import { resolveTasks } from './sim.ts';

/** One dataset of a corpus: what to record, and its mixture entry. */
type CorpusPart = { name: string; robot: string; suite?: string; task?: string; domain?: string; frameStep: number; category: string };

const D1: CorpusPart[] = ['spatial', 'object', 'goal'].map((suite) => ({ name: `panda7-${suite}`, robot: 'panda7', suite, frameStep: 2, category: 'public EEF (panda7 suites)' }));
const D2: CorpusPart[] = [...D1, ...['ur6', 'widowx6'].map((robot) => ({ name: `${robot}-pick-place`, robot, task: 'pick-place', frameStep: 1, category: 'more EEF embodiments' }))];
const D3: CorpusPart[] = [...D2, { name: 'panda7-pick-place-alt', robot: 'panda7', task: 'pick-place', domain: 'alt', frameStep: 1, category: 'visually different sim domain' }];
const D4: CorpusPart[] = [...D3, ...['so5', 'bimanual6'].map((robot) => ({ name: `${robot}-pick-place`, robot, task: 'pick-place', frameStep: 1, category: 'joint-space robots' }))];

/** The corpus presets. */
export const CORPORA: Readonly<Record<string, readonly CorpusPart[]>> = Object.freeze({ D1, D2, D3, D4 });

/**
 * Records corpus `name` into `out` (one folder per dataset) and writes out/mixture.json.
 * `episodes` is per task for suite datasets, and 5x that for the single-task ones.
 */
export async function recordCorpus(name: string, o: { out: string; episodes: number; seed: number; imageSize: number; quiet?: boolean }): Promise<{ mixture: string; datasets: { name: string; episodes: number; frames: number }[]; seconds: number }> {
  const parts = CORPORA[name];
  if (!parts) throw new UserError(unknownNameMessage('corpus', name, Object.keys(CORPORA)));
  const t0 = performance.now();
  ensureDir(o.out);
  const datasets: { name: string; episodes: number; frames: number }[] = [];
  for (const p of parts) {
    if (!o.quiet) process.stderr.write(`${name}: ${p.name}\n`);
    const r = await recordDemonstrations({
      robot: p.robot, tasks: resolveTasks(p.task, p.suite), episodes: p.suite ? o.episodes : 5 * o.episodes,
      seed: o.seed, out: join(o.out, p.name), imageSize: o.imageSize, domain: p.domain, quiet: o.quiet,
    });
    datasets.push({ name: p.name, episodes: r.episodes, frames: r.frames });
  }
  const mixture = join(o.out, 'mixture.json');
  writeFileSync(mixture, JSON.stringify({
    name, datasets: parts.map((p) => ({ path: p.name, frame_step_size: p.frameStep, category: p.category })),
  }, null, 2) + '\n');
  return { mixture, datasets, seconds: (performance.now() - t0) / 1000 };
}

export function register(program: Command): void {
  const data = program.commands.find((c) => c.name() === 'data');
  if (!data) throw new Error('register the data command before corpus');
  data
    .command('corpus')
    .description('record a corpus preset (D1: panda7 suites; D2: + ur6, widowx6; D3: + an alternative-looking domain; D4: + joint-space so5, bimanual6) with a mixture.json')
    .argument('<name>', `corpus: ${Object.keys(CORPORA).join(', ')}`)
    .requiredOption('--out <dir>', 'new folder: one dataset per part and mixture.json')
    .option('--episodes <n>', 'episodes per task of a suite (single-task datasets get 5x)', '2')
    .option('--seed <n>', 'seed of the first episode', '1000')
    .option('--size <px>', 'image side in pixels', '64')
    .option('--json', 'print a JSON summary')
    .action(
      action(async (name: string, opts: { out: string; episodes: string; seed: string; size: string; json?: boolean }) => {
        const r = await recordCorpus(name, {
          out: opts.out, episodes: intOption('--episodes', opts.episodes, 1), seed: intOption('--seed', opts.seed), imageSize: intOption('--size', opts.size, 8), quiet: opts.json,
        });
        if (opts.json) return printJson(r);
        process.stdout.write(`${name}: ${r.datasets.map((d) => `${d.name} (${d.episodes} episodes, ${d.frames} frames)`).join(', ')} in ${r.seconds.toFixed(0)} s\n` +
          `mixture: ${r.mixture} (see \`vlalab data mix ${r.mixture}\`; train with \`vlalab train --data ${r.mixture}\`)\n`);
      }),
    );
}
