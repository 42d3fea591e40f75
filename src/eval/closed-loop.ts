/**
 * Closed-loop evaluation: a policy predicts an action chunk from the current observation, the
 * first k actions are executed in the simulator, then it re-plans, until the task succeeds or
 * the step budget runs out. Policies here speak native absolute actions (the chunk already
 * decoded from the model's parameterization), so the same loop runs a local checkpoint, a policy
 * served over the openpi protocol, or a baseline.
 */

/** What the loop needs from a simulated task. */
export type ClosedLoopEnv<Obs> = {
  /** the task's step budget (control steps) */
  readonly stepBudget: number;
  reset(seed: number): Obs;
  step(action: Float64Array): { obs: Obs; success: boolean; points: number; maxPoints: number; done?: boolean };
  /** why the episode has not succeeded, where the simulator can tell (sim Env.failureMode) */
  failureMode?(): string | undefined;
};

/** A policy that maps an observation to a chunk of native absolute actions. */
export type ChunkPolicy<Obs> = {
  /** called at the start of each episode (clears any per-episode state) */
  reset?(): void;
  predict(obs: Obs): Promise<ArrayLike<number>[]>;
};

/** The outcome of one episode. */
export type EpisodeResult = {
  seed: number;
  success: boolean;
  points: number;
  maxPoints: number;
  steps: number;
  /** number of policy queries (chunks predicted) */
  queries: number;
  /** total time inside policy.predict, ms */
  policyMs: number;
  /** why a failed episode failed, where the environment can tell (ClosedLoopEnv.failureMode) */
  failure?: string;
};

/** Options of runEpisode. */
export type EpisodeOptions<Obs> = {
  seed: number;
  /** actions of each chunk executed before re-planning (at least 1 is) */
  executeSteps: number;
  /** sees every observation: the first (step 0) and the one after each step, e.g. to record frames */
  onStep?: (obs: Obs, step: number) => void;
  /**
   * called before each executed action with the observation it acts on, the action and the step
   * index (0, 1, ...): e.g. to label that state with an expert's action (DAgger), or to disturb the
   * action in place; the action as the hook leaves it is the one executed
   */
  beforeAction?: (obs: Obs, action: Float64Array, step: number) => void;
};

/**
 * Runs one episode: predict a chunk, execute its first `executeSteps` actions (or all of it if
 * shorter), re-plan; stops at success, at `done` or at the step budget.
 */
export async function runEpisode<Obs>(env: ClosedLoopEnv<Obs>, policy: ChunkPolicy<Obs>, options: EpisodeOptions<Obs>): Promise<EpisodeResult> {
  let obs = env.reset(options.seed);
  policy.reset?.();
  options.onStep?.(obs, 0);
  let steps = 0;
  let queries = 0;
  let policyMs = 0;
  let last = { success: false, points: 0, maxPoints: 0 };
  while (steps < env.stepBudget) {
    const t0 = performance.now();
    const chunk = await policy.predict(obs);
    policyMs += performance.now() - t0;
    queries++;
    if (chunk.length === 0) throw new Error('policy returned an empty action chunk');
    for (const action of chunk.slice(0, Math.max(1, options.executeSteps))) {
      const executed = Float64Array.from(action);
      options.beforeAction?.(obs, executed, steps);
      const r = env.step(executed);
      steps++;
      obs = r.obs;
      last = r;
      options.onStep?.(obs, steps);
      if (r.success || r.done || steps >= env.stepBudget) break;
    }
    if (last.success) break;
  }
  const failure = last.success ? undefined : env.failureMode?.();
  return { seed: options.seed, success: last.success, points: last.points, maxPoints: last.maxPoints, steps, queries, policyMs, ...(failure && { failure }) };
}

/** Episode seeds for an evaluation: seed, seed + 1, ... (disjoint from training seeds by choice of `seed`). */
export function evaluationSeeds(seed: number, episodes: number): number[] {
  return Array.from({ length: episodes }, (_, i) => seed + i);
}
