/** `vlalab eval`: closed-loop success rates of a trained policy in the simulator. */
import type { Command } from 'commander';
import { type ChunkPolicy, ensembled, evaluateInSim, simChunkPolicy, type TaskEvaluation, wilsonInterval } from '../eval/index.ts';
import { initBackend } from '../model/index.ts';
import { chooseEngine, type EngineName, parseEngine } from '../engine/index.ts';
import { createSampler, imageKeysFor, makeModelPolicy, PolicyClient, remotePolicy } from '../serving/index.ts';
import { type FailureMode, pickedObject, type SimObservation } from '../sim/index.ts';
import { loadPolicyParts, type PolicyParts } from '../training/index.ts';
import { API_KEY_ENV, count, UserError } from '../util/index.ts';
import { aimSummary, probeAim } from './aim-probe.ts';
import { action, apiKeyOption, ensureDir, intOption, printJson } from './run.ts';
import { resolveTasks } from './sim.ts';

/**
 * A simulator policy from loaded policy parts, through the serving adapter (as `vlalab serve` runs
 * it); every task's policy shares one sampler on `engine` (default ort) with `steps` Euler steps per
 * chunk (default: the model config's) from noise scaled by `noiseScale` (default 1).
 */
export function localPolicy(parts: PolicyParts, o: { seed?: number; engine?: EngineName; steps?: number; noiseScale?: number } = {}): (cameras: string[], imageSize: number) => ChunkPolicy<SimObservation> {
  let sampler: ReturnType<typeof createSampler> | undefined;
  const seed = o.seed ?? 0;
  return (cameras, imageSize) => {
    sampler ??= createSampler(parts.config, parts.params, { engine: o.engine, steps: o.steps, noiseScale: o.noiseScale });
    const policy = makeModelPolicy({ ...parts, imageKeys: imageKeysFor(cameras), seed, sampler });
    return simChunkPolicy(policy, cameras, imageSize);
  };
}

/** Episodes and successes over every task, with the Wilson 95% interval of the pooled rate. */
function pooled(rows: TaskEvaluation[]): { episodes: number; successes: number; rate: number; ci95: [number, number] } {
  const episodes = rows.reduce((s, r) => s + r.episodes.length, 0);
  const successes = rows.reduce((s, r) => s + r.episodes.filter((e) => e.success).length, 0);
  return { episodes, successes, rate: episodes ? successes / episodes : 0, ci95: wilsonInterval(successes, episodes) };
}

/** The evaluation as a text table (with a pooled row when there are several tasks). */
export function formatEvaluation(rows: TaskEvaluation[], label = 'policy'): string {
  const line = (name: string, n: number, rate: number, ci95: [number, number], points: string) =>
    `${name.padEnd(28)} ${String(n).padStart(8)} ${`${(100 * rate).toFixed(0)}%`.padStart(8)}   ${`[${(100 * ci95[0]).toFixed(0)}%, ${(100 * ci95[1]).toFixed(0)}%]`.padEnd(15)} ${points}`;
  const lines = [`${'task'.padEnd(28)} ${'episodes'.padStart(8)} ${'success'.padStart(8)}   95% CI          points`];
  for (const r of rows) lines.push(line(r.task, r.episodes.length, r.successRate, r.ci95, `${r.meanPoints.toFixed(2)}/${r.maxPoints}`));
  if (rows.length > 1) {
    const all = pooled(rows);
    lines.push(line(`all ${rows.length} tasks`, all.episodes, all.rate, all.ci95, ''));
  }
  const notes = [failureSummary(rows), pickedSummary(rows)].filter((n) => n !== undefined);
  return `${label}\n${[...lines, ...notes].join('\n')}\n`;
}

/**
 * The failed episodes by why they failed (sim Env.failureMode), most common first: "failed: 57
 * (not-placed 30, wrong-object 20, no-grasp 7)"; undefined when none was diagnosed (no failures, or
 * an environment that cannot tell, such as a real robot's trials).
 */
export function failureSummary(rows: TaskEvaluation[]): string | undefined {
  const failed = rows.flatMap((r) => r.episodes.filter((e) => !e.success));
  if (!failed.some((e) => e.failure)) return undefined;
  const counts = new Map<string, number>();
  for (const e of failed) {
    const why = e.failure ?? 'not diagnosed';
    counts.set(why, (counts.get(why) ?? 0) + 1);
  }
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([why, n]) => `${why} ${n}`);
  return `failed: ${failed.length} (${parts.join(', ')})`;
}

/**
 * How often the arm went for the object the task needed next, of the episodes where it lifted or
 * closed on some object (sim pickedObject), with the Wilson 95% interval: "picked the target: 44 of
 * 156 episodes that went for an object (28%, 95% CI 22-36%)"; where an instruction names one of three
 * objects, blind picking gives a third. Undefined where failures were not diagnosed (as failureSummary)
 * or no episode went for an object.
 */
export function pickedSummary(rows: TaskEvaluation[]): string | undefined {
  const episodes = rows.flatMap((r) => r.episodes);
  if (!episodes.some((e) => !e.success && e.failure)) return undefined;
  const went = episodes.map((e) => pickedObject(e.success, e.failure as FailureMode | undefined)).filter((p) => p !== undefined);
  if (!went.length) return undefined; // failureSummary's no-grasp count says it all
  const k = went.filter((p) => p === 'target').length;
  const [lo, hi] = wilsonInterval(k, went.length);
  const pct = (x: number) => (100 * x).toFixed(0);
  return `picked the target: ${k} of ${count(went.length, 'episode')} that went for an object (${pct(k / went.length)}%, 95% CI ${pct(lo)}-${pct(hi)}%)`;
}

/** The evaluation as JSON. */
export function evaluationJson(rows: TaskEvaluation[]) {
  const all = pooled(rows);
  return {
    success_rate: all.rate,
    ci95: all.ci95,
    episodes: all.episodes,
    tasks: rows.map((r) => ({ task: r.task, episodes: r.episodes.length, success_rate: r.successRate, ci95: r.ci95, mean_points: r.meanPoints, max_points: r.maxPoints, seeds: r.episodes.map((e) => ({ seed: e.seed, success: e.success, points: e.points, steps: e.steps, failure: e.failure })) })),
  };
}

type EvalFlags = { apiKey?: string; engine?: string; checkpoint?: string; server?: string; robot?: string; task?: string; suite?: string; episodes: string; seed: string; executeSteps?: string; ensemble?: string; sampleSteps?: string; noiseScale?: string; record?: string; aimProbe?: boolean; json?: boolean };

export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a trained policy closed-loop in the simulator (success rate with 95% Wilson intervals)')
    .option('--checkpoint <dir>', 'a training run (its latest checkpoint) or a checkpoint directory')
    .option('--server <url>', 'instead of --checkpoint: a policy served over the openpi protocol (ws://host:port)')
    .option('--api-key <key>', `with --server: its API key (default: $${API_KEY_ENV})`)
    .option('--robot <name>', 'the robot: with --checkpoint one the run was trained on (default: its first); with --server the one it serves (default: the embodiment it reports)')
    .option('--task <names>', 'a task, or several separated by commas (see `vlalab sim tasks`)')
    .option('--suite <names>', 'every task of a suite, or of several separated by commas')
    .option('--episodes <n>', 'episodes per task', '50')
    .option('--seed <n>', 'seed of the first episode (episode k uses seed + k)', '0')
    .option('--execute-steps <k>', 'actions of each chunk executed before re-planning (default: the run\'s)')
    .option('--ensemble <m>', 'temporal ensembling (ACT): query every step and execute the exp(-m i)-weighted mean of the chunks covering it (ACT: 0.01); replaces --execute-steps')
    .option('--sample-steps <n>', "with --checkpoint: Euler steps per chunk (default: the model config's, 10)")
    .option('--noise-scale <s>', 'with --checkpoint: scale of the noise each chunk is sampled from (default 1; below 1 samples nearer the likeliest chunk)')
    .option('--record <dir>', 'save frames and a contact sheet of the first 3 episodes per task')
    .option('--aim-probe', "with --checkpoint of a model with an aim head: where the head points before each episode (the carried object nearest its point), paired with where the arm went: does the prefix localize the named object?")
    .option('--engine <name>', 'with --checkpoint: ort (ONNX Runtime, default) or jax (jax-js wasm)')
    .option('--json', 'print JSON')
    .action(
      action(async (o: EvalFlags) => {
        const tasks = resolveTasks(o.task, o.suite);
        const episodes = intOption('--episodes', o.episodes, 1);
        const seed = intOption('--seed', o.seed);
        if (o.record) ensureDir(o.record);
        if (!o.checkpoint === !o.server) throw new UserError('pass exactly one of --checkpoint or --server');
        const m = o.ensemble === undefined ? undefined : Number(o.ensemble);
        if (m !== undefined && !(m >= 0 && Number.isFinite(m))) throw new UserError(`--ensemble is the weight m >= 0 of temporal ensembling (ACT uses 0.01), got "${o.ensemble}"`);
        if (m !== undefined && o.executeSteps) throw new UserError('--ensemble executes one ensembled action per query; leave out --execute-steps');
        if (o.server && o.sampleSteps) throw new UserError('--sample-steps is for --checkpoint; a server samples with its own Euler steps (`vlalab serve --steps N`)');
        if (o.server && o.noiseScale) throw new UserError('--noise-scale is for --checkpoint; a server samples from its own noise');
        if (o.server && o.aimProbe) throw new UserError('--aim-probe reads the aim head of a checkpoint; pass --checkpoint');
        const noiseScale = o.noiseScale === undefined ? undefined : Number(o.noiseScale);
        if (noiseScale !== undefined && !(noiseScale >= 0 && noiseScale <= 4)) throw new UserError(`--noise-scale is a factor in [0, 4] on the sampling noise (1: as trained), got "${o.noiseScale}"`);
        const chunked = <T>(make: (cameras: string[], size: number) => ChunkPolicy<T>) => (m === undefined ? make : (cameras: string[], size: number) => ensembled(make(cameras, size), m));
        const how = (plain: string) => (m === undefined ? plain : `temporal ensembling m=${m}`);
        if (o.server) {
          const client = await PolicyClient.connect(o.server, { apiKey: apiKeyOption(o.apiKey) });
          try {
            const served = typeof client.metadata.embodiment === 'string' ? client.metadata.embodiment : undefined;
            const robot = o.robot ?? served ?? '';
            if (!robot) throw new UserError(`${o.server} does not report an embodiment; pass --robot, or run trials with \`vlalab robot --server ${o.server} --robot R\``);
            if (served && robot !== served) throw new UserError(`${o.server} acts as ${served}, not ${robot}; serve the run with \`vlalab serve --checkpoint RUN --robot ${robot}\``);
            const executeSteps = o.executeSteps ? intOption('--execute-steps', o.executeSteps, 1) : Math.max(1, Math.floor(Number(client.metadata.action_horizon ?? 2) / 2));
            const policy = remotePolicy(client);
            const rows = await evaluateInSim(chunked((cameras, size) => simChunkPolicy(policy, cameras, size)), { robot, tasks, episodes, seed, executeSteps: m === undefined ? executeSteps : 1, recordDir: o.record, quiet: o.json });
            if (o.json) return printJson({ server: o.server, ...evaluationJson(rows) });
            process.stdout.write(formatEvaluation(rows, `${o.server} (${robot}), ${count(episodes, 'episode')} per task, ${how(`execute ${executeSteps}`)}`));
          } finally {
            client.close();
          }
          return;
        }
        await initBackend();
        const { engine, note } = await chooseEngine(parseEngine(o.engine));
        if (note) process.stderr.write(`${note}\n`);
        const parts = loadPolicyParts(o.checkpoint!, { embodiment: o.robot });
        if (parts.meta.embodimentSpec) throw new UserError(`${parts.dir} acts for ${parts.embodiment.name}, an embodiment from a spec file, which the simulator has no robot for; run it on the robot with \`vlalab serve --checkpoint ${o.checkpoint}\``);
        const executeSteps = o.executeSteps ? intOption('--execute-steps', o.executeSteps, 1) : parts.meta.executeSteps;
        const sampleSteps = o.sampleSteps === undefined ? undefined : intOption('--sample-steps', o.sampleSteps, 1);
        if (o.aimProbe && !parts.config.aimWeight) throw new UserError(`--aim-probe: ${parts.dir}'s model "${parts.config.name}" has no aim head (train a config with one, such as debug-conv-aim)`);
        const probes = o.aimProbe ? await probeAim(parts, { tasks, episodes, seed, quiet: o.json }) : undefined;
        // the cameras render at the model's image size, as `sim record --size` does for its training data
        const rows = await evaluateInSim(chunked(localPolicy(parts, { seed, engine, steps: sampleSteps, noiseScale })), {
          robot: parts.embodiment.name, tasks, episodes, seed, executeSteps: m === undefined ? executeSteps : 1, imageSize: parts.config.imageSize, recordDir: o.record, quiet: o.json,
        });
        const aimJson = probes ? { aim_probe: probes.map((p) => ({ task: p.task, seed: p.seed, object: p.object, target: p.target, error_m: p.errorM })) } : {};
        if (o.json) return printJson({ checkpoint: parts.dir, step: parts.step, robot: parts.embodiment.name, sample_steps: sampleSteps ?? parts.config.sampleSteps, noise_scale: noiseScale ?? 1, ...evaluationJson(rows), ...aimJson });
        const sampling = `${sampleSteps ? `, ${sampleSteps} Euler steps` : ''}${noiseScale !== undefined ? `, noise x${noiseScale}` : ''}`;
        process.stdout.write(formatEvaluation(rows, `${parts.dir} (step ${parts.step}, ${parts.embodiment.name}), ${count(episodes, 'episode')} per task, ${how(`execute ${executeSteps} of ${parts.config.actionHorizon}`)}${sampling}`));
        if (probes) process.stdout.write(`${aimSummary(rows, probes)}\n`);
        if (o.record) process.stdout.write(`recordings in ${o.record}\n`);
      }),
    );
}
