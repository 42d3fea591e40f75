/**
 * Closed-loop evaluation of a policy in the simulated benchmark: per task, N seeded episodes,
 * success rate with a 95% Wilson interval, mean stage points, and optional recordings (PNG frames
 * and a contact sheet per recorded episode).
 *
 * The policy is anything speaking the serving layer's Policy interface (a local checkpoint through
 * the same adapter the server uses, or a remote server through PolicyClient), so local and served
 * evaluations run identical code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeObservation, type Policy, squareFrames } from '../serving/index.ts';
import { createEnv, type SimObservation } from '../sim/index.ts';
import { encodePng, ProgressBar, tileRgb, upscaleRgb } from '../util/index.ts';
import { type ChunkPolicy, type EpisodeResult, evaluationSeeds, runEpisode } from './closed-loop.ts';
import { wilsonInterval } from './intervals.ts';

/** A Policy as a ChunkPolicy over simulator observations (wire-format observations, native action rows). */
export function simChunkPolicy(policy: Policy, cameras: readonly string[], imageSize: number): ChunkPolicy<SimObservation> {
  return {
    async predict(obs) {
      const out = await policy.infer(makeObservation({ images: squareFrames(cameras, obs.images, imageSize), state: obs.state, prompt: obs.instruction }));
      const [h, d] = out.shape;
      return Array.from({ length: h }, (_, t) => out.actions.subarray(t * d, (t + 1) * d));
    },
  };
}

/** Results of one task. */
export type TaskEvaluation = {
  task: string;
  episodes: EpisodeResult[];
  successRate: number;
  ci95: [number, number];
  meanPoints: number;
  maxPoints: number;
};

/** Options of evaluateInSim. */
export type SimEvalOptions = {
  robot: string;
  tasks: readonly string[];
  episodes: number;
  seed: number;
  executeSteps: number;
  imageSize?: number;
  /** write frames and a contact sheet of the first `recordEpisodes` episodes per task here */
  recordDir?: string;
  recordEpisodes?: number;
  label?: string;
  quiet?: boolean;
  /** end each episode after at most this many control steps (default: the task's step budget) */
  maxSteps?: number;
};

/** Evaluates `policy` on each task (episode seeds seed, seed + 1, ...). */
export async function evaluateInSim(makePolicy: (cameras: string[], imageSize: number) => ChunkPolicy<SimObservation>, o: SimEvalOptions): Promise<TaskEvaluation[]> {
  const out: TaskEvaluation[] = [];
  const size = o.imageSize ?? 64;
  const bar = new ProgressBar(o.label ?? 'eval', o.tasks.length * o.episodes, { quiet: o.quiet });
  let done = 0;
  for (const task of o.tasks) {
    const env = await createEnv({ robot: o.robot, task, imageSize: size });
    const cameras = env.embodiment.spec.cameras.map((c) => c.name);
    const policy = makePolicy(cameras, size);
    const episodes: EpisodeResult[] = [];
    try {
      for (const [k, seed] of evaluationSeeds(o.seed, o.episodes).entries()) {
        const record = o.recordDir !== undefined && k < (o.recordEpisodes ?? 3);
        const frames: Uint8Array[][] = cameras.map(() => []);
        const loopEnv = o.maxSteps ? { ...env, stepBudget: Math.min(env.stepBudget, o.maxSteps) } : env; // env's methods are closures: the copy acts on it
        const r = await runEpisode(loopEnv, policy, {
          seed,
          executeSteps: o.executeSteps,
          onStep: record ? (obs) => cameras.forEach((c, i) => frames[i].push(obs.images[c])) : undefined,
        });
        episodes.push(r);
        if (record) writeRecording(join(o.recordDir!, task, `seed-${seed}`), cameras, frames, size, r.success);
        bar.update(++done, `${task} ${episodes.filter((e) => e.success).length}/${episodes.length}`);
      }
    } finally {
      env.close();
    }
    const k = episodes.filter((e) => e.success).length;
    out.push({
      task,
      episodes,
      successRate: k / episodes.length,
      ci95: wilsonInterval(k, episodes.length),
      meanPoints: episodes.reduce((s, e) => s + e.points, 0) / episodes.length,
      maxPoints: episodes[0]?.maxPoints ?? 1,
    });
  }
  bar.done();
  return out;
}

/**
 * Frames of one episode: frames/<camera>_NNNN.png per camera and step, sheet.png (one row per
 * camera, up to 12 frames evenly spaced, 2x upscaled) and result.json.
 */
export function writeRecording(dir: string, cameras: readonly string[], frames: Uint8Array[][], size: number, success: boolean): void {
  mkdirSync(join(dir, 'frames'), { recursive: true });
  cameras.forEach((c, i) => frames[i].forEach((f, t) => writeFileSync(join(dir, 'frames', `${c}_${String(t).padStart(4, '0')}.png`), encodePng(f, size, size))));
  const n = frames[0].length;
  const k = Math.min(12, n);
  const picked = cameras.flatMap((_, i) => Array.from({ length: k }, (_, j) => upscaleRgb(frames[i][Math.round((j * (n - 1)) / Math.max(1, k - 1))], size, size, 2)));
  const sheet = tileRgb(picked, 2 * size, 2 * size, k);
  writeFileSync(join(dir, 'sheet.png'), encodePng(sheet.rgb, sheet.width, sheet.height));
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ success, steps: n - 1 }) + '\n');
}
