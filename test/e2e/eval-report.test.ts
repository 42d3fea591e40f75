import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aimSummary } from '../../src/cli/aim-probe.ts';
import { evaluationJson, failureSummary, formatEvaluation, pickedSummary } from '../../src/cli/eval.ts';
import { type TaskEvaluation, wilsonInterval } from '../../src/eval/index.ts';

/** A task row with `k` successes in `n` episodes. */
function row(task: string, k: number, n: number): TaskEvaluation {
  const episodes = Array.from({ length: n }, (_, i) => ({ seed: i, success: i < k, points: i < k ? 1 : 0, maxPoints: 1, steps: 10, queries: 3, policyMs: 1 }));
  return { task, episodes, successRate: k / n, ci95: wilsonInterval(k, n), meanPoints: k / n, maxPoints: 1 };
}

describe('vlalab eval report', () => {
  it('pools the tasks of a suite: 18 of 200 is 9% with its Wilson interval, in the table and the JSON', () => {
    const rows = Array.from({ length: 10 }, (_, t) => row(`task-${t}`, t < 8 ? 2 : 1, 20));
    const json = evaluationJson(rows);
    assert.equal(json.episodes, 200);
    assert.equal(json.success_rate, 18 / 200);
    assert.deepEqual(json.ci95, wilsonInterval(18, 200));
    assert.ok(json.ci95[0] > 0.05 && json.ci95[0] < 0.06 && json.ci95[1] > 0.13 && json.ci95[1] < 0.14, String(json.ci95));
    const last = formatEvaluation(rows).trim().split('\n').at(-1)!;
    assert.match(last, /^all 10 tasks\s+200\s+9%\s+\[6%, 14%\]/);
    assert.doesNotMatch(formatEvaluation([row('one', 1, 2)]), /all 1 tasks/, 'one task needs no pooled row');
  });

  it('counts the failed episodes by why they failed, in the table and the JSON', () => {
    const rows = [row('a', 1, 4), row('b', 2, 4)];
    const why = ['wrong-object', 'no-grasp', 'wrong-object', undefined, 'not-placed'];
    rows.flatMap((r) => r.episodes.filter((e) => !e.success)).forEach((e, i) => why[i] && (e.failure = why[i]));
    assert.equal(failureSummary(rows), 'failed: 5 (wrong-object 2, no-grasp 1, not diagnosed 1, not-placed 1)');
    assert.match(formatEvaluation(rows), /\nfailed: 5 \(wrong-object 2/);
    assert.equal(evaluationJson(rows).tasks[0].seeds[1].failure, 'wrong-object');
    assert.equal(failureSummary([row('c', 3, 4)]), undefined, 'a failure nobody diagnosed (a real robot): no line');
    assert.equal(failureSummary([row('d', 4, 4)]), undefined);
  });

  it('says how often the arm went for the target, of the episodes that went for an object', () => {
    const rows = [row('a', 1, 4), row('b', 2, 4)];
    const why = ['wrong-object', 'no-grasp', 'missed-other', 'not-placed', 'missed-target'];
    rows.flatMap((r) => r.episodes.filter((e) => !e.success)).forEach((e, i) => (e.failure = why[i]));
    // 3 successes + not-placed + missed-target went for the target; wrong-object and missed-other for another; no-grasp for none
    assert.equal(pickedSummary(rows), `picked the target: 5 of 7 episodes that went for an object (71%, 95% CI ${Math.round(100 * wilsonInterval(5, 7)[0])}-${Math.round(100 * wilsonInterval(5, 7)[1])}%)`);
    assert.match(formatEvaluation(rows), /\nfailed: 5 .*\npicked the target: 5 of 7/);
    assert.equal(pickedSummary([row('c', 3, 4)]), undefined, 'failures nobody diagnosed: no line');
    const lost = row('d', 0, 2);
    for (const e of lost.episodes) e.failure = 'no-grasp';
    assert.equal(pickedSummary([lost]), undefined, 'no episode went for an object');
  });

  it("pairs the aim probe with where the arm went: followed when the head pointed at the target, and when it did not", () => {
    const rows = [row('a', 2, 4)]; // seeds 0, 1 succeed
    rows[0].episodes[2].failure = 'wrong-object';
    rows[0].episodes[3].failure = 'no-grasp';
    const probe = (seed: number, target: boolean, errorM: number) => ({ task: 'a', seed, object: target ? 'red' : 'green', target, errorM });
    const text = aimSummary(rows, [probe(0, true, 0.02), probe(1, false, 0.2), probe(2, true, 0.04), probe(3, false, 0.3)]);
    const [lo, hi] = wilsonInterval(2, 4).map((x) => Math.round(100 * x));
    assert.equal(text.split('\n')[0], `aim probe: the head pointed at the target in 2 of 4 episodes (50%, 95% CI ${lo}%-${hi}%), median 20.0 cm from it`);
    // pointed at it: seed 0 took the target, seed 2 another; pointed away: seed 1 took the target, seed 3 went for nothing
    assert.match(text.split('\n')[1], /went for the target in 1 of 2 \(50%\) episodes where the head pointed at it, 1 of 1 \(100%\) where it pointed at another/);
    assert.equal(aimSummary(rows, []), 'aim probe: no task names an object to carry');
  });
});

