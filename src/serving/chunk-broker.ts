/**
 * The action-chunk broker (openpi `ActionChunkBroker`): asks the policy for a chunk of H actions,
 * hands them out one control step at a time, and asks again after `executeSteps` (k <= H) steps,
 * so the robot re-plans every k steps while calling `step(obs)` every step.
 */
import { UserError } from '../util/index.ts';

/** Anything that maps an observation to an [H, D] chunk (a PolicyClient wrapped, a local policy). */
export type ChunkSource<Obs> = (obs: Obs) => Promise<{ actions: ArrayLike<number>; shape: readonly number[] }>;

/** Hands out one action per control step from chunks of a ChunkSource, re-planning every k steps. */
export class ActionChunkBroker<Obs> {
  readonly #source: ChunkSource<Obs>;
  readonly #executeSteps: number;
  #chunk: { actions: ArrayLike<number>; h: number; d: number } | undefined;
  #step = 0;
  /** chunks requested so far */
  queries = 0;

  /** `executeSteps`: k, actions executed from each chunk before re-planning (>= 1). */
  constructor(source: ChunkSource<Obs>, executeSteps: number) {
    if (!Number.isInteger(executeSteps) || executeSteps < 1) throw new UserError(`executeSteps must be an integer >= 1, got ${executeSteps}`);
    this.#source = source;
    this.#executeSteps = executeSteps;
  }

  /** The action [D] for this control step; queries the source when a new chunk is due. */
  async step(obs: Obs): Promise<Float32Array> {
    if (this.#chunk === undefined) {
      const { actions, shape } = await this.#source(obs);
      const [h, d] = shape;
      if (shape.length !== 2 || h < 1 || actions.length !== h * d) throw new UserError(`the policy returned a chunk of shape [${shape}]; expected [H, D] with H >= 1`);
      this.#chunk = { actions, h, d };
      this.#step = 0;
      this.queries++;
    }
    const { actions, h, d } = this.#chunk;
    const out = Float32Array.from({ length: d }, (_, j) => actions[this.#step * d + j]); // [D]
    this.#step++;
    if (this.#step >= Math.min(this.#executeSteps, h)) this.#chunk = undefined;
    return out;
  }

  /** Drops the current chunk (call at the start of an episode). */
  reset(): void {
    this.#chunk = undefined;
    this.#step = 0;
  }
}
