/** `vlalab sim record`: scripted-expert demonstrations written as a LeRobot v3.0 dataset. */
import type { Command } from 'commander';
import { createDatasetWriter, type EpisodeFrame } from '../data/index.ts';
import { type ChunkPolicy, runEpisode } from '../eval/index.ts';
import { createEnv, DOMAINS, PERTURBATIONS, perturber, type SimObservation } from '../sim/index.ts';
import { count, ProgressBar, Rng, UserError } from '../util/index.ts';
import { chooseEngine, parseEngine } from '../engine/index.ts';
import { initBackend } from '../model/index.ts';
import { loadPolicyParts } from '../training/index.ts';
import { localPolicy } from './eval.ts';
import { action, ensureDir, intOption, printJson } from './run.ts';
import { resolveTasks } from './sim.ts';

/** Options of a recording. */
export type RecordOptions = {
  robot: string;
  /** one task, or several (a suite): `episodes` each, into one dataset */
  tasks: readonly string[];
  episodes: number; seed: number; out: string; imageSize: number; quiet?: boolean;
  /** std (m) of an offset added to the executed EEF targets, redrawn every NOISE_HOLD steps; labels stay clean */
  noise?: number;
  /** the room's appearance (sim DOMAINS; default 'default') */
  domain?: string;
  /** record only these cameras (default: all of the robot's) */
  cameras?: readonly string[];
  /** fraction of episodes disturbed by a drop or a missed grasp (alternating; sim/perturb.ts), recovered by the expert */
  perturb?: number;
  /**
   * DAgger relabelling: this policy drives the robot (executing `executeSteps` actions of each
   * chunk) and every frame is labelled with the expert's action from the state it reached; every
   * episode is kept, failed ones too (their states are the ones the policy needs labels for)
   */
  relabel?: { policy: (cameras: string[], imageSize: number) => ChunkPolicy<SimObservation>; executeSteps: number };
};

/** Steps an execution-noise offset is held (correlated noise pushes the arm measurably off the path). */
const NOISE_HOLD = 4;

/** The action indices of the EEF target position (x, y, z), or undefined for a joint-controlled robot. */
export function eefTargetIndices(actionNames: readonly string[]): number[] | undefined {
  const xyz = ['target_x', 'target_y', 'target_z'].map((n) => actionNames.indexOf(n));
  return xyz.every((i) => i >= 0) ? xyz : undefined;
}

/**
 * DART-style execution noise of episode `seed`: adds to the executed EEF target (action indices
 * `xyz`) at control step t an offset of std `noise` (m) per axis, drawn anew every NOISE_HOLD steps.
 */
export function executionNoise(noise: number, seed: number, xyz: readonly number[]): (t: number, executed: Float64Array) => void {
  const rng = new Rng(seed ^ 0x5eed);
  let offset = [0, 0, 0];
  return (t, executed) => {
    if (t % NOISE_HOLD === 0) offset = xyz.map(() => noise * rng.normal());
    xyz.forEach((i, j) => { executed[i] += offset[j]; });
  };
}

/**
 * Records `episodes` expert episodes of each task (seeds seed, seed + 1, ...) into a new dataset at `out`.
 * Only successful episodes are kept (failures are counted); every frame stores the observation and
 * the expert's action for it. With `noise` (DART-style), the executed EEF targets carry a random
 * offset held for NOISE_HOLD steps while the recorded labels stay the expert's clean commands, so
 * the data shows how to get back on the path from states the clean expert never visits. With
 * `perturb`, that fraction of episodes (drawn per episode) is disturbed by a dropped cube or a
 * missed grasp, alternately; the expert re-plans and the episode shows the recovery, its labels
 * again the expert's own commands. With `relabel`, a trained policy acts instead and the expert
 * only labels (DAgger). Either driver runs eval's episode loop (runEpisode); its beforeAction hook
 * records each state with its label and disturbs the executed action (perturb, noise).
 */
export async function recordDemonstrations(o: RecordOptions): Promise<{ episodes: number; frames: number; failed: number; seconds: number }> {
  const t0 = performance.now();
  ensureDir(o.out);
  const bar = new ProgressBar('record', o.episodes * o.tasks.length, { quiet: o.quiet });
  let writer: ReturnType<typeof createDatasetWriter> | undefined;
  let failed = 0;
  let done = 0;
  for (const task of o.tasks) {
    const env = await createEnv({ robot: o.robot, task, imageSize: o.imageSize, domain: o.domain });
    writer ??= createDatasetWriter(o.out, { embodiment: env.embodiment.name, imageSize: o.imageSize, cameras: o.cameras });
    const xyz = eefTargetIndices(env.embodiment.actionNames);
    const policy = o.relabel?.policy([...(o.cameras ?? env.embodiment.spec.cameras.map((c) => c.name))], o.imageSize);
    // the scripted expert as a policy of one-action chunks, so that both drivers run the same episode loop
    const expert: ChunkPolicy<SimObservation> = { predict: async () => [env.expertAction()] };
    try {
      if (o.noise && !xyz) throw new UserError(`--noise perturbs EEF targets; ${o.robot} is joint-controlled`);
      if (o.perturb && !xyz) throw new UserError(`--perturb disturbs EEF targets and the gripper; ${o.robot} is joint-controlled`);
      for (let k = 0; k < o.episodes; k++) {
        const frames: EpisodeFrame[] = [];
        const noise = o.noise && xyz ? executionNoise(o.noise, o.seed + k, xyz) : undefined;
        const disturb = o.perturb && new Rng((o.seed + k) ^ 0xd157).uniform() < o.perturb ? perturber(env, PERTURBATIONS[k % PERTURBATIONS.length]) : undefined;
        const r = await runEpisode(env, policy ?? expert, {
          seed: o.seed + k,
          executeSteps: policy ? o.relabel!.executeSteps : 1,
          beforeAction: (obs, executed, t) => {
            // the label: the expert's move from this state (DAgger), or its own command still undisturbed
            frames.push({ images: obs.images, state: obs.state, action: policy ? env.expertAction(true) : Float64Array.from(executed) });
            disturb?.apply(t, executed);
            noise?.(t, executed);
          },
        });
        if (r.success || policy) writer.addEpisode({ task: env.instruction, frames });
        if (!r.success) failed++;
        bar.update(++done, failed ? `${failed} failed` : task);
      }
    } finally {
      env.close();
    }
  }
  bar.done();
  const r = await writer!.finalize();
  return { ...r, failed, seconds: (performance.now() - t0) / 1000 };
}

export function register(program: Command): void {
  const sim = program.commands.find((c) => c.name() === 'sim');
  if (!sim) throw new Error('register the sim command before record');
  sim
    .command('record')
    .description('record scripted-expert demonstrations (or a policy\'s rollouts labelled by the expert: --relabel) as a LeRobot v3.0 dataset')
    .requiredOption('--robot <name>', 'robot (see `vlalab sim tasks`)')
    .option('--task <names>', 'a task, or several separated by commas (one dataset)')
    .option('--suite <names>', 'every task of a suite, or of several separated by commas (`vlalab sim tasks`)')
    .option('--episodes <n>', 'episodes to record (per task)', '50')
    .option('--seed <n>', 'seed of the first episode (episode k uses seed + k)', '1000')
    .requiredOption('--out <dir>', 'new dataset directory')
    .option('--size <px>', 'image side in pixels', '64')
    .option('--noise <m>', 'std of a random offset (m) on the executed EEF targets, labels stay clean (DART-style)', '0')
    .option('--perturb <fraction>', 'fraction of episodes disturbed by a dropped cube or a missed grasp, which the expert recovers from (labels stay its own)', '0')
    .option('--domain <name>', `the room's appearance: ${Object.keys(DOMAINS).join(', ')}`, 'default')
    .option('--relabel <run>', 'DAgger: a trained run (or checkpoint) drives the robot and the expert labels every state it reaches; failed episodes are kept')
    .option('--execute-steps <k>', 'with --relabel: actions of each chunk executed before re-planning (default: the run\'s)')
    .option('--engine <name>', 'with --relabel: ort (ONNX Runtime, default) or jax')
    .option('--json', 'print a JSON summary')
    .action(
      action(async (opts: {
        robot: string; task?: string; suite?: string; episodes: string; seed: string; out: string; size: string; noise: string; perturb: string; domain: string; json?: boolean;
        relabel?: string; executeSteps?: string; engine?: string;
      }) => {
        const noise = Number(opts.noise);
        if (!(noise >= 0 && noise < 0.1)) throw new UserError(`--noise must be a number of meters in [0, 0.1), got "${opts.noise}"`);
        const perturb = Number(opts.perturb);
        if (!(perturb >= 0 && perturb <= 1)) throw new UserError(`--perturb is a fraction of episodes in [0, 1], got "${opts.perturb}"`);
        const tasks = resolveTasks(opts.task, opts.suite);
        if (!opts.relabel && (opts.executeSteps || opts.engine)) throw new UserError('--execute-steps and --engine choose how the --relabel policy acts; pass --relabel RUN');
        const seed = intOption('--seed', opts.seed);
        let relabel: RecordOptions['relabel'];
        if (opts.relabel) {
          await initBackend();
          const { engine, note } = await chooseEngine(parseEngine(opts.engine));
          if (note) process.stderr.write(`${note}\n`);
          const parts = loadPolicyParts(opts.relabel, { embodiment: opts.robot });
          relabel = { policy: localPolicy(parts, { seed, engine }), executeSteps: opts.executeSteps ? intOption('--execute-steps', opts.executeSteps, 1) : parts.meta.executeSteps };
        }
        const r = await recordDemonstrations({
          robot: opts.robot, tasks, out: opts.out, episodes: intOption('--episodes', opts.episodes, 1),
          seed, imageSize: intOption('--size', opts.size, 8), quiet: opts.json, noise, perturb, domain: opts.domain, relabel,
        });
        if (opts.json) return printJson(r);
        const failures = relabel ? `; the policy failed ${count(r.failed, 'episode')} (kept, labelled by the expert)` : `; ${count(r.failed, 'expert failure')} skipped`;
        process.stdout.write(`wrote ${count(r.episodes, 'episode')} (${count(r.frames, 'frame')}) to ${opts.out} in ${r.seconds.toFixed(1)} s${r.failed ? failures : ''}\n`);
      }),
    );
}
