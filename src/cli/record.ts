/** `vlalab sim record`: scripted-expert demonstrations written as a LeRobot v3.0 dataset. */
import type { Command } from 'commander';
import { createDatasetWriter, type EpisodeFrame } from '../data/index.ts';
import { createEnv } from '../sim/index.ts';
import { ProgressBar } from '../util/index.ts';
import { printJson, action } from './run.ts';
import { ensureDir, intOption } from './sim.ts';

/** Options of a recording. */
export type RecordOptions = { robot: string; task: string; episodes: number; seed: number; out: string; imageSize: number; quiet?: boolean };

/**
 * Records `episodes` expert episodes (seeds seed, seed + 1, ...) into a new dataset at `out`.
 * Only successful episodes are kept (failures are counted); every frame stores the observation and
 * the action taken from it.
 */
export async function recordDemonstrations(o: RecordOptions): Promise<{ episodes: number; frames: number; failed: number; seconds: number }> {
  const t0 = performance.now();
  ensureDir(o.out);
  const env = await createEnv({ robot: o.robot, task: o.task, imageSize: o.imageSize });
  const writer = createDatasetWriter(o.out, { embodiment: env.embodiment.name, imageSize: o.imageSize });
  const bar = new ProgressBar('record', o.episodes, { quiet: o.quiet });
  let failed = 0;
  try {
    for (let k = 0; k < o.episodes; k++) {
      let obs = env.reset(o.seed + k);
      const frames: EpisodeFrame[] = [];
      for (;;) {
        const a = env.expertAction();
        frames.push({ images: obs.images, state: obs.state, action: a });
        const r = env.step(a);
        obs = r.obs;
        if (r.done) {
          if (r.success) writer.addEpisode({ task: env.instruction, frames });
          else failed++;
          break;
        }
      }
      bar.update(k + 1, failed ? `${failed} failed` : '');
    }
  } finally {
    env.close();
  }
  bar.done();
  const r = await writer.finalize();
  return { ...r, failed, seconds: (performance.now() - t0) / 1000 };
}

export function register(program: Command): void {
  const sim = program.commands.find((c) => c.name() === 'sim');
  if (!sim) throw new Error('register the sim command before record');
  sim
    .command('record')
    .description('record scripted-expert demonstrations as a LeRobot v3.0 dataset')
    .requiredOption('--robot <name>', 'robot (see `vlalab sim tasks`)')
    .requiredOption('--task <name>', 'task name')
    .option('--episodes <n>', 'episodes to record', '50')
    .option('--seed <n>', 'seed of the first episode (episode k uses seed + k)', '1000')
    .requiredOption('--out <dir>', 'new dataset directory')
    .option('--size <px>', 'image side in pixels', '64')
    .option('--json', 'print a JSON summary')
    .action(
      action(async (opts: { robot: string; task: string; episodes: string; seed: string; out: string; size: string; json?: boolean }) => {
        const r = await recordDemonstrations({
          robot: opts.robot, task: opts.task, out: opts.out, episodes: intOption('--episodes', opts.episodes, 1),
          seed: intOption('--seed', opts.seed), imageSize: intOption('--size', opts.size, 8), quiet: opts.json,
        });
        if (opts.json) return printJson(r);
        process.stdout.write(`wrote ${r.episodes} episodes (${r.frames} frames) to ${opts.out} in ${r.seconds.toFixed(1)} s${r.failed ? `; ${r.failed} expert failures skipped` : ''}\n`);
      }),
    );
}
