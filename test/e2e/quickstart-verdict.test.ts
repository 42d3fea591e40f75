import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quickstartVerdict } from '../../src/cli/quickstart.ts';
import { type TaskEvaluation, wilsonInterval } from '../../src/eval/index.ts';

function ev(k: number, n: number): TaskEvaluation {
  const episodes = Array.from({ length: n }, (_, i) => ({ seed: i, success: i < k, points: i < k ? 1 : 0, maxPoints: 1, steps: 10, queries: 3, policyMs: 1 }));
  return { task: 'pick-place', episodes, successRate: k / n, ci95: wilsonInterval(k, n), meanPoints: k / n, maxPoints: 1 };
}

describe('quickstart verdict', () => {
  it('says a run too short to learn was too short, and a clear win is one', () => {
    const short = quickstartVerdict(ev(0, 50), ev(0, 50), { steps: 200, presetSteps: 12000 });
    assert.equal(short.level, 'bad');
    assert.match(short.text, /^Neither policy succeeded in 50 episodes: 200 training steps are too few .*trains 12000/);
    assert.match(quickstartVerdict(ev(0, 50), ev(0, 50), { steps: 12000, presetSteps: 12000 }).text, /did not learn the task/);
    const win = quickstartVerdict(ev(42, 50), ev(0, 50), { steps: 12000, presetSteps: 12000 });
    assert.equal(win.level, 'good');
    assert.match(win.text, /learnt the task: 84% \[71%, 92%\] of 50 held-out episodes vs 0% untrained/);
    const close = quickstartVerdict(ev(2, 10), ev(1, 10), { steps: 12000, presetSteps: 12000 });
    assert.equal(close.level, 'warn');
    assert.match(close.text, /intervals overlap: evaluate more episodes/);
    assert.equal(quickstartVerdict(ev(1, 10), ev(2, 10), { steps: 12000, presetSteps: 12000 }).level, 'bad');
  });
});
