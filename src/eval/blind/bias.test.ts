import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { biasTable, favouringOperator, runBiasExperiment } from './bias.ts';
import { bootstrapDifferenceInterval } from './stats.ts';

const sight = (over: Partial<Parameters<ReturnType<typeof favouringOperator>>[0]> = {}) => ({ trial: 1, task: 't', of: 10, maxPoints: 3, points: 1, attempt: 0, ...over });

describe('favouring operator', () => {
  it('unblinded, retries and credits only the favoured model', () => {
    const count = { retries: 0, credited: 0 };
    const op = favouringOperator({ favour: 'a', blind: 'half', seed: 0, count });
    assert.deepEqual(op(sight({ model: 'a' })), { retry: true });
    assert.deepEqual(op(sight({ model: 'a', attempt: 1 })), { points: 2 }); // a partial retry is credited a stage
    assert.deepEqual(op(sight({ model: 'a', attempt: 1, points: 0 })), { points: 0 });
    assert.deepEqual(op(sight({ model: 'a', points: 3 })), { points: 3 });
    assert.deepEqual(op(sight({ model: 'b' })), { points: 1 });
    assert.deepEqual(count, { retries: 1, credited: 1 });
  });

  it('blinded, chooses by the trial alone: the same records whichever model it favours', () => {
    const a = favouringOperator({ favour: 'a', blind: 'half', seed: 3 });
    const b = favouringOperator({ favour: 'b', blind: 'half', seed: 3 });
    const choices = Array.from({ length: 200 }, (_, trial) => a(sight({ trial })));
    assert.deepEqual(Array.from({ length: 200 }, (_, trial) => b(sight({ trial }))), choices);
    const retried = choices.filter((c) => 'retry' in c).length;
    assert.ok(retried > 70 && retried < 130, `a random half of the trials, got ${retried} of 200`);
    const every = favouringOperator({ favour: 'a', blind: 'every', seed: 3 });
    assert.ok(Array.from({ length: 20 }, (_, trial) => every(sight({ trial }))).every((c) => 'retry' in c));
  });
});

describe('two-sample bootstrap interval', () => {
  it('brackets the difference of means, is seeded, and is a point for constant samples', () => {
    const a = [1, 1, 0.5, 1, 0, 1, 1, 0.5], b = [0, 0.5, 0, 0, 1, 0, 0.5, 0];
    const d = 6 / 8 - 2 / 8;
    const ci = bootstrapDifferenceInterval(a, b, 1);
    assert.ok(ci[0] < d && d < ci[1] && ci[0] > -0.5 && ci[1] <= 1, `${ci}`);
    assert.deepEqual(bootstrapDifferenceInterval(a, b, 1), ci);
    assert.deepEqual(bootstrapDifferenceInterval([1, 1], [0.25, 0.25], 0), [0.75, 0.75]);
  });
});

describe('bias experiment (simulated studies)', () => {
  it('a favouring operator inflates the unblinded difference; blinded, it does not', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vlalab-bias-'));
    try {
      const favour = 'sim-lapse-0.01', other = 'sim-lapse-0.04';
      const r = await runBiasExperiment({ out, models: 3, trials: 6, tasks: ['water-plant'], seed: 1, favour });
      const [truth, unblinded, blinded] = r.conditions;
      assert.deepEqual(r.conditions.map((c) => c.condition), ['unbiased', 'unblinded', 'blinded']);
      assert.ok(r.conditions.every((c) => c.trials === 18));
      assert.deepEqual(truth.leniency, { retries: 0, credited: 0 });
      assert.ok(unblinded.leniency.retries > 0);
      // unblinded, the bias follows the model: only the favoured model's score moves, upwards
      for (const m of r.models.filter((x) => x !== favour)) assert.deepEqual(unblinded.scores[m], truth.scores[m]);
      assert.ok(unblinded.scores[favour].value > truth.scores[favour].value);
      assert.ok(unblinded.differences[other].value > truth.differences[other].value, biasTable(r));
      // blinded, its leniency lands on trials, not on the model: the difference is not inflated
      assert.ok(blinded.leniency.retries > 0);
      assert.ok(blinded.differences[other].value <= truth.differences[other].value, biasTable(r));
      assert.match(biasTable(r), /\| unblinded \| .* \(bias \+/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
