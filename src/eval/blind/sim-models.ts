/**
 * Stand-in models for simulated blind studies: the scripted expert of the task the simulated robot
 * is running, degraded by a per-model lapse hazard h: at each step the policy may lapse (with
 * probability h) and from then on hold its last action for the rest of the episode, so a lapse
 * after k stages scores k points. h = 0 is the expert; larger h means fewer stages reached. The
 * lapse step is seeded by (model, episode seed), so every run of a trial scores the same.
 *
 * The policies read the expert through a side channel (`SimOracle`, the env the robot runs) and are
 * served by src/serving's server, so the dispatcher forwards to them like to any openpi server.
 */
import { LIBERO_KEYS, metadataFor, observationParser, type Policy, type RunningServer, startServer } from '../../serving/index.ts';
import { type Env, getTask } from '../../sim/index.ts';
import { Rng, UserError } from '../../util/index.ts';
import type { StudyDefinition, TaskDefinition } from './study.ts';

/** The simulated robot's current episode, shared with the stand-in models (the side channel). */
export class SimOracle {
  env: Env | undefined;
  seed = 0;
  /** incremented per episode, so policies reset their per-episode state */
  episode = 0;

  /** Called by the robot after env.reset(seed). */
  begin(env: Env, seed: number): void {
    this.env = env;
    this.seed = seed;
    this.episode++;
  }
}

/** The lapse hazard of the i-th simulated model: 0 (the expert), 0.01, 0.04, 0.16, ... */
export function lapseHazard(i: number): number {
  return i === 0 ? 0 : 0.01 * 4 ** (i - 1);
}

/** Name of the i-th simulated model (says its hazard, for reading the de-anonymized results). */
export function simModelName(i: number): string {
  return `sim-lapse-${lapseHazard(i).toFixed(2)}`;
}

function hashString(s: string): number {
  let h = 2166136261;
  for (const ch of s) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/** The stand-in policy `name` with lapse hazard `hazard` (chunks of one action, panda7 state/actions). */
export function lapsePolicy(oracle: SimOracle, name: string, hazard: number, stateDim: number, actionDim: number): Policy {
  const spec = { imageKeys: [LIBERO_KEYS.image, LIBERO_KEYS.wristImage], optionalImageKeys: [LIBERO_KEYS.wristImage], stateKey: LIBERO_KEYS.state, stateDim, promptRequired: false };
  const parse = observationParser(spec);
  // extra.model makes the metadata model-specific on purpose: the dispatcher must not pass it on
  const metadata = metadataFor(spec, { embodiment: 'panda7', actionHorizon: 1, actionDim, parameterization: 'absolute', extra: { model: name } });
  let episode = -1;
  let lapseAt = Infinity;
  let step = 0;
  let held: Float64Array | undefined;
  return {
    metadata,
    async infer(raw) {
      parse(raw); // validate like a real policy
      const env = oracle.env;
      if (!env) throw new UserError('the simulated model has no episode to act in; the robot must call oracle.begin after env.reset');
      if (oracle.episode !== episode) {
        episode = oracle.episode;
        const u = new Rng(hashString(name) * 65536 + oracle.seed).uniform();
        lapseAt = hazard > 0 ? Math.floor(Math.log(1 - u) / Math.log(1 - hazard)) : Infinity; // geometric: first lapse step
        step = 0;
        held = undefined;
      }
      const expert = env.expertAction(); // every step, so the expert's plan advances as in a clean run
      if (!(step++ >= lapseAt && held)) held = expert;
      return { actions: Float32Array.from(held), shape: [1, actionDim] };
    },
  };
}

/** Running stand-in models: name -> ws:// URL. */
export type SimModels = { urls: Record<string, string>; close(): Promise<void> };

/** Serves `count` stand-in models (hazards lapseHazard(0..count-1)) on free ports, for panda7 (state 14, actions 7). */
export async function startSimModels(count: number, oracle: SimOracle, dims = { state: 14, action: 7 }): Promise<SimModels> {
  const servers: RunningServer[] = [];
  for (let i = 0; i < count; i++) servers.push(await startServer(lapsePolicy(oracle, simModelName(i), lapseHazard(i), dims.state, dims.action), { port: 0 }));
  return {
    urls: Object.fromEntries(servers.map((s, i) => [simModelName(i), s.url])),
    close: async () => { await Promise.all(servers.map((s) => s.close())); },
  };
}

/** Stage names of the multi-stage tasks (a point each), for the operator's rubric. */
const STAGES: Record<string, string[]> = {
  'stack-bowls': ['lift the orange bowl', 'orange bowl in the blue bowl', 'yellow bowl in the orange bowl'],
  'pick-to-drawer': ['open the drawer', 'lift the cube', 'cube into the drawer', 'let go of the cube', 'close the drawer'],
  'wipe-board': ['first patch off', 'second patch off', 'third patch off', 'fourth patch off'],
  'water-plant': ['lift the watering can', 'spout over the plant', 'pour'],
};

/** The study task of simulator task `name`: its instruction and one rubric stage per point. */
export function simTaskDefinition(name: string): TaskDefinition {
  const t = getTask(name);
  const stages = STAGES[name] ?? Array.from({ length: t.maxPoints }, (_, k) => `stage ${k + 1}`);
  return { name, instruction: t.instruction, rubric: stages.slice(0, t.maxPoints).map((s) => ({ name: s, points: 1 })) };
}

/** Default tasks of a simulated study: the cheapest multi-stage tasks. */
export const SIM_TASKS = ['water-plant', 'pick-to-drawer'] as const;

/** A study definition over stand-in models (`urls`) and simulator tasks. */
export function simStudyDefinition(o: { urls: Record<string, string>; tasks: readonly string[]; trials: number; scoring: 'operator' | 'judge'; seed: number; groupSize?: number }): StudyDefinition {
  return {
    name: 'simulated', models: o.urls, tasks: o.tasks.map(simTaskDefinition), groupSize: o.groupSize ?? Math.min(4, Object.keys(o.urls).length),
    trialsPerModel: o.trials, scoring: o.scoring, restSeconds: 0, seed: o.seed,
  };
}
