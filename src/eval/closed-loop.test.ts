import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChunkPolicy, type ClosedLoopEnv, evaluationSeeds, runEpisode } from './closed-loop.ts';

/** A 1-D task: move x from the seed's start to 10; success within 0.5. */
function lineEnv(budget: number): ClosedLoopEnv<{ x: number }> & { executed: number[] } {
  let x = 0;
  const executed: number[] = [];
  return {
    stepBudget: budget,
    executed,
    reset(seed) {
      x = seed;
      executed.length = 0;
      return { x };
    },
    step(a) {
      executed.push(a[0]);
      x = a[0];
      const success = Math.abs(x - 10) < 0.5;
      return { obs: { x }, success, points: success ? 1 : 0, maxPoints: 1 };
    },
  };
}

/** Plans a chunk of 4 absolute targets, each 1 closer to 10. */
const stepper: ChunkPolicy<{ x: number }> = {
  async predict(obs) {
    return [1, 2, 3, 4].map((k) => [obs.x + Math.sign(10 - obs.x) * Math.min(k, Math.abs(10 - obs.x))]);
  },
};

describe('closed loop', () => {
  it('executes k actions of each chunk, then re-plans, and stops at success', async () => {
    const env = lineEnv(100);
    const r = await runEpisode(env, stepper, { seed: 0, executeSteps: 2 });
    assert.equal(r.success, true);
    assert.equal(r.steps, 10);
    assert.equal(r.queries, 5);
    assert.deepEqual(env.executed, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('stops at the step budget without success', async () => {
    const env = lineEnv(3);
    const frames: number[] = [];
    const r = await runEpisode(env, stepper, { seed: 0, executeSteps: 4, onStep: (o) => frames.push(o.x) });
    assert.equal(r.success, false);
    assert.equal(r.steps, 3);
    assert.deepEqual(frames, [0, 1, 2, 3]);
  });

  it("records why a failed episode failed where the environment can tell, and nothing for a success", async () => {
    const told = (budget: number) => ({ ...lineEnv(budget), failureMode: () => 'short of 10' });
    const failed = await runEpisode(told(3), stepper, { seed: 0, executeSteps: 4 });
    assert.equal(failed.failure, 'short of 10');
    const solved = await runEpisode(told(100), stepper, { seed: 0, executeSteps: 4 });
    assert.equal(solved.success, true);
    assert.equal('failure' in solved, false);
    assert.equal('failure' in (await runEpisode(lineEnv(3), stepper, { seed: 0, executeSteps: 4 })), false, 'an environment without failureMode');
  });

  it('shows beforeAction each state before its action, and executes the action as the hook leaves it', async () => {
    const env = lineEnv(100);
    const seen: [number, number, number][] = [];
    const r = await runEpisode(env, stepper, {
      seed: 0,
      executeSteps: 3,
      beforeAction: (o, a, t) => {
        seen.push([o.x, a[0], t]);
        if (t === 1) a[0] -= 1; // a disturbance: step 1 stays at x = 1
      },
    });
    assert.deepEqual(seen.slice(0, 4), [[0, 1, 0], [1, 2, 1], [1, 3, 2], [3, 4, 3]], 'the state, the planned action and the step index');
    assert.deepEqual(env.executed.slice(0, 4), [1, 1, 3, 4], 'the disturbed action is executed, the re-plan starts from where it led');
    assert.equal(seen.length, r.steps);
    assert.equal(r.success, true);
  });

  it('rejects an empty chunk and gives disjoint consecutive seeds', async () => {
    await assert.rejects(runEpisode(lineEnv(5), { predict: async () => [] }, { seed: 0, executeSteps: 1 }), /empty action chunk/);
    assert.deepEqual(evaluationSeeds(1000, 3), [1000, 1001, 1002]);
  });
});
