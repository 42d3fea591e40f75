/**
 * `vlalab data corpus D1..D4`: the paper's four data quadrants (section V) with simulated robots,
 * recorded by the scripted experts (sim record's code path) into one folder per dataset, plus a
 * mixture.json that `vlalab data mix` and `vlalab train --data` read. Every dataset is drawn from
 * the pretraining task family (sim suite "pretrain"), which shares no task, instruction or object
 * with the downstream benchmark (the panda7 suites and the multi-stage tasks stay held out):
 *   D1  a "public" EEF corpus over several EEF robots: panda7 (12 tasks) and ur6 (6 tasks)
 *   D2  D1 + more EEF embodiments: widowx6 (6 tasks) and more ur6 (6 other tasks)
 *   D3  D2 + a visually different "sim" domain: panda7 in the `alt` room (12 tasks)
 *   D4  D3 + joint-space robots: so5 and bimanual6 (6 tasks each)
 * Frame step sizes balance the corpus like the paper's Table VII: the 12-task sets are
 * subsampled (S = 2) against the 6-task sets (S = 1).
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { allTasks, PRETRAIN_SUITE } from '../sim/index.ts';
import { UserError, unknownNameMessage } from '../util/index.ts';
import { recordDemonstrations } from './record.ts';
import { action, ensureDir, intOption, printJson } from './run.ts';

/** One dataset of a corpus: which robot records which tasks of the family, and its mixture entry. */
export type CorpusPart = { name: string; robot: string; tasks: readonly string[]; domain?: string; cameras?: readonly string[]; frameStep: number; category: string };

/** Tasks `from` .. `to - 1` of the pretraining family. */
function family(from: number, to: number): string[] {
  const tasks = allTasks().filter((t) => t.suite === PRETRAIN_SUITE).map((t) => t.name);
  if (to > tasks.length) throw new Error(`corpus: the pretraining family has ${tasks.length} tasks, a part asks for task ${to - 1}`);
  return tasks.slice(from, to);
}

const D1: CorpusPart[] = [
  { name: 'panda7-public', robot: 'panda7', tasks: family(0, 12), frameStep: 2, category: 'public EEF' },
  { name: 'ur6-public', robot: 'ur6', tasks: family(12, 18), frameStep: 1, category: 'public EEF' },
];
const D2: CorpusPart[] = [...D1,
  { name: 'widowx6-eef', robot: 'widowx6', tasks: family(18, 24), frameStep: 1, category: 'more EEF embodiments' },
  { name: 'ur6-eef', robot: 'ur6', tasks: family(24, 30), frameStep: 1, category: 'more EEF embodiments' },
];
const D3: CorpusPart[] = [...D2,
  { name: 'panda7-alt-room', robot: 'panda7', tasks: [...family(30, 36), ...family(0, 6)], domain: 'alt', frameStep: 2, category: 'visually different sim domain' },
];
const D4: CorpusPart[] = [...D3,
  { name: 'so5-joint', robot: 'so5', tasks: family(6, 12), frameStep: 1, category: 'joint-space robots' },
  // two of its three cameras: the models have two view slots
  { name: 'bimanual6-joint', robot: 'bimanual6', tasks: family(12, 18), cameras: ['top', 'wrist_right'], frameStep: 1, category: 'joint-space robots' },
];

/** The corpus presets. */
export const CORPORA: Readonly<Record<string, readonly CorpusPart[]>> = Object.freeze({ D1, D2, D3, D4 });

/** The parts of corpus `name`; unknown names get a "did you mean". */
export function corpusParts(name: string): readonly CorpusPart[] {
  const parts = CORPORA[name];
  if (!parts) throw new UserError(unknownNameMessage('corpus', name, Object.keys(CORPORA)));
  return parts;
}

/** Writes `dir`/mixture-`name`.json (or `file`) naming corpus `name`'s part folders in `dir`. */
export function writeCorpusMixture(name: string, dir: string, file = join(dir, `mixture-${name}.json`)): string {
  writeFileSync(file, JSON.stringify({
    name, datasets: corpusParts(name).map((p) => ({ path: p.name, frame_step_size: p.frameStep, category: p.category })),
  }, null, 2) + '\n');
  return file;
}

/**
 * Records corpus `name` into `out` (one folder per dataset, `episodes` per task) and writes
 * out/mixture.json (`tasksPerPart` keeps only the first tasks of each part). Each part is recorded into PART.partial and renamed when whole; with
 * `reuse`, parts already in `out` are kept, so a killed recording continues where it stopped and
 * corpora that share parts (D1 is in D4) record them once.
 */
export async function recordCorpus(name: string, o: { out: string; episodes: number; seed: number; imageSize: number; quiet?: boolean; reuse?: boolean; tasksPerPart?: number }): Promise<{ mixture: string; datasets: { name: string; episodes: number; frames: number }[]; seconds: number }> {
  const parts = corpusParts(name);
  const t0 = performance.now();
  ensureDir(o.out);
  const datasets: { name: string; episodes: number; frames: number }[] = [];
  for (const p of parts) {
    const dir = join(o.out, p.name);
    if (o.reuse && existsSync(dir)) continue;
    if (!o.quiet) process.stderr.write(`${name}: ${p.name}\n`);
    rmSync(`${dir}.partial`, { recursive: true, force: true });
    const r = await recordDemonstrations({
      robot: p.robot, tasks: p.tasks.slice(0, o.tasksPerPart ?? p.tasks.length), episodes: o.episodes, seed: o.seed, out: `${dir}.partial`, imageSize: o.imageSize, domain: p.domain, cameras: p.cameras, quiet: o.quiet,
    });
    renameSync(`${dir}.partial`, dir);
    datasets.push({ name: p.name, episodes: r.episodes, frames: r.frames });
  }
  const mixture = writeCorpusMixture(name, o.out, join(o.out, 'mixture.json'));
  return { mixture, datasets, seconds: (performance.now() - t0) / 1000 };
}

export function register(program: Command): void {
  const data = program.commands.find((c) => c.name() === 'data');
  if (!data) throw new Error('register the data command before corpus');
  data
    .command('corpus')
    .description('record a corpus preset from the pretraining task family (D1: panda7 and ur6; D2: + widowx6, more ur6; D3: + panda7 in an alternative-looking room; D4: + joint-space so5, bimanual6) with a mixture.json')
    .argument('<name>', `corpus: ${Object.keys(CORPORA).join(', ')}`)
    .requiredOption('--out <dir>', 'new folder: one dataset per part and mixture.json')
    .option('--episodes <n>', 'episodes per task', '2')
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
