/**
 * A whole blind study against the simulator, with no hardware: stand-in models (sim-models.ts)
 * behind policy servers, the study API and the dispatcher, the MuJoCo benchmark as the robot
 * (an openpi client of the dispatcher's port), and a scripted operator and judge that use only the
 * HTTP API. The operator records the points the simulator reports; the judge scores from the same
 * outcome, handed over by this harness (never through the API).
 *
 * `driveStudy` is the robot + operator + judge side alone, against any API and robot URL; it
 * outlives the server: refused connections and dropped sockets are retried until the server is
 * back, a trial interrupted mid-run is run again from its reset (episodes are deterministic in the
 * trial), so a study driven through crashes ends with the same outcomes as one without.
 *
 * The operator's choices are a hook (`OperatorPolicy`): after each run of a trial it sees what the
 * operator can see (the task, the points on the table, the attempt, and the model only when the
 * harness unblinds the run) and records points or runs the trial again. The default records the
 * simulator's points, once; bias.ts scripts an operator who favours one model.
 */
import { join } from 'node:path';
import { makeObservation, PolicyClient, squareFrames } from '../../serving/index.ts';
import { createEnv, type Env } from '../../sim/index.ts';
import { UserError } from '../../util/index.ts';
import { startBlindApi } from './api.ts';
import { startDispatcher } from './dispatcher.ts';
import { SimOracle, SIM_TASKS, simStudyDefinition, startSimModels } from './sim-models.ts';
import type { summarize, TrialOutcome } from './stats.ts';
import { BlindStore, type Role } from './store.ts';

/** The simulated robot. */
export const SIM_ROBOT = 'panda7';

/** An answer of the API other than 200 (the server was up and said no). */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls the API as `token`; retries while the server is unreachable, up to `patienceMs`. */
async function call(api: string, path: string, token: string, patienceMs: number, body?: unknown): Promise<unknown> {
  const deadline = performance.now() + patienceMs;
  for (;;) {
    let r: Response;
    try {
      r = await fetch(api + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (r.status !== 200) throw new ApiError(r.status, `${path}: ${r.status} ${text}`);
      return r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (performance.now() > deadline) throw new UserError(`the study API at ${api} has been unreachable for ${patienceMs / 1000} s (${(err as Error).message})`);
      await sleep(100);
    }
  }
}

/** Told each trial's simulator outcome: its id, points, and (as the operator sees them) its task, the study's trial count and the rubric's points. */
export type TrialCallback = (trial: number, points: number, seen: { task: string; of: number; maxPoints: number }) => void | Promise<void>;

/**
 * What the scripted operator sees after a run of a trial: the trial, its task, the study's trial
 * count, the rubric's points, the points the run reached and which run of the trial it was (0 the
 * first). `model` is set only in an unblinded run (DriveOptions.reveal); the API never tells it.
 */
export type OperatorSight = { trial: number; task: string; of: number; maxPoints: number; points: number; attempt: number; model?: string };

/** The operator's choice: record `points` (recorded only under operator scoring), or run the trial again from its reset. */
export type OperatorChoice = { points: number } | { retry: true };

/** The scripted operator's choice for each run of a trial, from what it sees. */
export type OperatorPolicy = (seen: OperatorSight) => OperatorChoice;

/** Runs of one trial an operator policy may ask for before the drive stops (a policy that never records). */
export const MAX_ATTEMPTS = 10;

/** The episode seed of run `attempt` of `trial`: 1000 seed + trial for the first, a fresh seed for each retry. */
export function episodeSeed(seed: number, trial: number, attempt: number): number {
  return (1000 * seed + trial + 0x9e3779b1 * attempt) % 2 ** 32;
}

/** Options of driveStudy. */
export type DriveOptions = {
  /** http://host:port of the study API */
  api: string;
  /** ws://host:port of the dispatcher */
  robot: string;
  tokens: Pick<Record<Role, string>, 'operator' | 'judge'>;
  oracle: SimOracle;
  /** episodes are seeded by 1000 seed + trial (a function of the trial only, so a rerun scores the same) */
  seed?: number;
  imageSize?: number;
  /** how long to wait for a server that went away, ms (default 60 s) */
  patienceMs?: number;
  /** called (and awaited) after each trial's simulator outcome, before the operator scores or ends it */
  onTrial?: TrialCallback;
  /** what the operator records for each run of a trial (default: the simulator's points, no retry) */
  operator?: OperatorPolicy;
  /** unblinds the run: the model behind trial `id`, shown to the operator policy (the harness knows it; the API never says) */
  reveal?: (trial: number) => string;
};

type OperatorCurrent = { done?: true; trial: number; of: number; task: string; rubric: { points: number }[]; status: 'queued' | 'active'; scoring: 'operator' | 'judge'; paused: boolean };
type JudgeNext = { done?: boolean; waiting?: true; trial: number; frames: number };

/** Runs trial `seed` of `env` with the dispatcher as its policy; resolves with the simulator's points. */
async function runEpisode(robot: string, env: Env, oracle: SimOracle, seed: number, patienceMs: number): Promise<number> {
  const client = await PolicyClient.connect(robot, { waitMs: patienceMs });
  try {
    const cameras = env.embodiment.spec.cameras.map((c) => c.name);
    let obs = env.reset(seed);
    oracle.begin(env, seed);
    for (;;) {
      const wire = makeObservation({ images: squareFrames(cameras, obs.images, env.imageSize), state: obs.state, prompt: obs.instruction });
      for (const action of await client.predictChunk(wire)) {
        const r = env.step(action);
        if (r.done) return r.points;
        obs = r.obs;
      }
    }
  } finally {
    await client.close();
  }
}

/**
 * Runs every remaining trial of the study behind `api` as robot, operator and (judge scoring)
 * judge. Returns the simulator's points per trial, of the run that counted (the judge's side channel).
 */
export async function driveStudy(o: DriveOptions): Promise<Map<number, number>> {
  const patience = o.patienceMs ?? 60_000;
  const envs = new Map<string, Env>();
  const outcomes = new Map<number, number>();
  const recorded = new Map<number, number>(); // what the operator records, after its policy
  const operator = (path: string, body?: unknown) => call(o.api, path, o.tokens.operator, patience, body);
  const judge = (path: string, body?: unknown) => call(o.api, path, o.tokens.judge, patience, body);
  let failures = 0;
  const retry = async (err: unknown) => {
    // the server refused (it moved on, or restarted mid-call) or the robot's link dropped: look
    // again; a UserError (gone for longer than the patience, a bad task) ends the drive, and so do
    // 200 failures in a row (a server killed often, on a slow machine, fails many calls in all)
    if (err instanceof UserError || ++failures > 200) throw err;
    await sleep(50);
  };
  try {
    for (;;) {
      const v = (await operator('/api/operator/current')) as OperatorCurrent;
      if (v.done) break;
      if (v.paused && v.status === 'queued') { await sleep(200); continue; }
      try {
        if (v.status === 'queued') await operator('/api/operator/start', { trial: v.trial });
        let points = recorded.get(v.trial);
        if (points === undefined) {
          let env = envs.get(v.task);
          if (!env) envs.set(v.task, (env = await createEnv({ robot: SIM_ROBOT, task: v.task, imageSize: o.imageSize ?? 32 })));
          const seen = { task: v.task, of: v.of, maxPoints: v.rubric.reduce((a, x) => a + x.points, 0) };
          // a run interrupted here (or a retry) starts again from attempt 0: every attempt is seeded by the trial
          for (let attempt = 0; ; attempt++) {
            if (attempt >= MAX_ATTEMPTS) throw new UserError(`the operator policy asked for more than ${MAX_ATTEMPTS} runs of trial ${v.trial}; it must record points`);
            const reached = await runEpisode(o.robot, env, o.oracle, episodeSeed(o.seed ?? 0, v.trial, attempt), patience);
            const choice = o.operator?.({ trial: v.trial, ...seen, points: reached, attempt, model: o.reveal?.(v.trial) }) ?? { points: reached };
            if ('retry' in choice) continue;
            outcomes.set(v.trial, reached);
            recorded.set(v.trial, (points = choice.points));
            await o.onTrial?.(v.trial, reached, seen);
            break;
          }
        }
        if (v.scoring === 'operator') await operator('/api/operator/record', { trial: v.trial, points });
        else await operator('/api/operator/end', { trial: v.trial });
        failures = 0;
      } catch (err) {
        await retry(err);
      }
    }
    for (;;) {
      const j = (await judge('/api/judge/next')) as JudgeNext;
      if (j.done) break;
      if (j.waiting) { await sleep(100); continue; }
      try {
        if (j.frames > 0) await judge(`/api/judge/frame?trial=${j.trial}&k=${j.frames - 1}`); // look at the record
        const points = outcomes.get(j.trial);
        if (points === undefined) throw new UserError(`trial ${j.trial} awaits judgement but this harness never ran it; drive the study from its start`);
        await judge('/api/judge/score', { trial: j.trial, points });
        failures = 0;
      } catch (err) {
        await retry(err);
      }
    }
  } finally {
    for (const env of envs.values()) env.close();
  }
  return outcomes;
}

/** Options of simulateStudy. */
export type SimulateOptions = {
  /** folder for the study database and trial records */
  out: string;
  models: number;
  trials: number;
  tasks?: readonly string[];
  scoring: 'operator' | 'judge';
  seed: number;
  latencyFloorMs?: number;
  imageSize?: number;
  onTrial?: TrialCallback;
  /** the scripted operator's choices (default: record the simulator's points) */
  operator?: OperatorPolicy;
  /** unblind the operator: its policy is told which model runs each trial */
  unblinded?: boolean;
};

/** What simulateStudy found: where the study lies, its final progress and the de-anonymized results. */
export type SimulateResult = { db: string; progress: { done: number; ended: number; total: number; state: string }; results: ReturnType<typeof summarize>; outcomes: TrialOutcome[] };

/** Runs a whole simulated study in-process. */
export async function simulateStudy(o: SimulateOptions): Promise<SimulateResult> {
  const oracle = new SimOracle();
  const models = await startSimModels(o.models, oracle);
  const db = join(o.out, 'study.db');
  const store = new BlindStore(db);
  const servers: { close(): Promise<void> }[] = [models];
  try {
    const tokens = store.create(simStudyDefinition({ urls: models.urls, tasks: o.tasks ?? SIM_TASKS, trials: o.trials, scoring: o.scoring, seed: o.seed }));
    const api = await startBlindApi(store);
    servers.push(api);
    const dispatcher = await startDispatcher(store, { latencyFloorMs: o.latencyFloorMs });
    servers.push(dispatcher);
    const admin = (path: string, body?: unknown) => call(api.url, path, tokens.admin, 10_000, body);
    await admin('/api/admin/start', {});
    const reveal = o.unblinded ? (trial: number) => store.trial(trial)!.model : undefined;
    await driveStudy({ api: api.url, robot: dispatcher.url, tokens, oracle, seed: o.seed, imageSize: o.imageSize, onTrial: o.onTrial, operator: o.operator, reveal });
    return { db, progress: (await admin('/api/admin/progress')) as SimulateResult['progress'], results: (await admin('/api/admin/results')) as SimulateResult['results'], outcomes: store.outcomes() };
  } finally {
    for (const s of servers.reverse()) await s.close();
    store.close();
  }
}
