import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planStudy } from './protocol.ts';
import { bootstrapMeanInterval, fisherExact, summarize } from './stats.ts';
import { parseStudy } from './study.ts';

const study = (over: Record<string, unknown> = {}) => parseStudy({
  name: 's',
  models: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i}`, `ws://host:${8000 + i}`])),
  tasks: [{ name: 'stack-bowls', instruction: 'stack the bowls', rubric: [{ name: 'pick', points: 1 }, { name: 'place', points: 1 }, { name: 'stack', points: 1 }] },
    { name: 'wipe-board', instruction: 'wipe the board', rubric: [{ name: 'clean', points: 4 }] }],
  groupSize: 4, trialsPerModel: 3, seed: 7, ...over,
}, 'study.json');

describe('Algorithm 1 (grouped blind ensemble plan)', () => {
  it('splits models into non-overlapping groups of at most K and queues exactly N trials per model and task', () => {
    const plan = planStudy(study());
    assert.deepEqual(plan.groups.map((g) => g.length), [4, 3, 3]);
    assert.deepEqual(plan.groups.flat().sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    assert.equal(plan.blocks.length, 2 * 3);
    for (const task of ['stack-bowls', 'wipe-board']) {
      const counts = new Map<string, number>();
      for (const b of plan.blocks.filter((x) => x.task === task)) for (const a of b.queue) counts.set(b.aliases[a], (counts.get(b.aliases[a]) ?? 0) + 1);
      assert.deepEqual([...counts.values()], Array(10).fill(3));
    }
    assert.equal(plan.trials, 60);
    assert.deepEqual(plan.blocks.map((b) => b.restAfter), [true, true, true, true, true, false]);
  });

  it('uses fresh aliases in every block, never repeated, and is deterministic by seed', () => {
    const plan = planStudy(study());
    const aliases = plan.blocks.flatMap((b) => Object.keys(b.aliases));
    assert.equal(new Set(aliases).size, aliases.length);
    assert.ok(aliases.every((a) => /^[A-Z]{3}$/.test(a) && !Object.keys(study().models).includes(a)));
    assert.deepEqual(planStudy(study()), plan);
    assert.notDeepEqual(planStudy(study({ seed: 8 })).blocks[0].queue, plan.blocks[0].queue);
  });

  it('rejects bad definitions by field', () => {
    assert.throws(() => study({ trialsPerModel: 0 }), /study.json: field "trialsPerModel"/);
    assert.throws(() => study({ models: { a: 'http://x' } }), /study.json: field "models.a": must be a ws/);
    assert.throws(() => study({ tasks: [{ name: 't', instruction: 'i', rubric: [] }] }), /tasks.0.rubric/);
  });
});

describe('study statistics', () => {
  it('Fisher exact test matches hand-computed values', () => {
    // [[3, 1], [1, 3]]: tables with margins 4/4/4/4 have P(x) = C(4,x)C(4,4-x)/C(8,4) = 1,16,36,16,1 / 70
    assert.ok(Math.abs(fisherExact(3, 1, 1, 3) - 34 / 70) < 1e-12);
    assert.ok(Math.abs(fisherExact(4, 0, 0, 4) - 2 / 70) < 1e-12);
    assert.ok(Math.abs(fisherExact(2, 2, 2, 2) - 1) < 1e-12);
    // scipy.stats.fisher_exact([[10, 3], [2, 15]]).pvalue = 0.0005367241191434357
    assert.ok(Math.abs(fisherExact(10, 3, 2, 15) - 0.0005367241191434357) < 1e-12, `${fisherExact(10, 3, 2, 15)}`);
  });

  it('bootstrap intervals are seeded, contain the mean, and degenerate for constant scores', () => {
    const xs = [0, 1, 1, 0, 1, 1, 1, 0, 1, 1];
    const a = bootstrapMeanInterval(xs, 3);
    assert.deepEqual(bootstrapMeanInterval(xs, 3), a);
    assert.ok(a[0] < 0.7 && a[1] > 0.7 && a[0] >= 0.3 && a[1] <= 1);
    assert.deepEqual(bootstrapMeanInterval([0.5, 0.5, 0.5], 1), [0.5, 0.5]);
  });

  it('summarizes per model and task with Wilson intervals, pairwise tests and a ranking', () => {
    const outcomes = [
      ...Array.from({ length: 10 }, (_, i) => ({ model: 'a', task: 't', points: i < 8 ? 3 : 1, maxPoints: 3 })),
      ...Array.from({ length: 10 }, (_, i) => ({ model: 'b', task: 't', points: i < 2 ? 3 : 0, maxPoints: 3 })),
    ];
    const s = summarize(outcomes, 1);
    const a = s.cells.find((c) => c.model === 'a')!;
    assert.equal(a.successRate, 0.8);
    assert.ok(Math.abs(a.successCi95[0] - 0.4902) < 1e-4 && Math.abs(a.successCi95[1] - 0.9433) < 1e-4);
    assert.ok(Math.abs(a.meanScore - (8 + 2 / 3) / 10) < 1e-12);
    assert.deepEqual(s.ranking.map((r) => r.model), ['a', 'b']);
    assert.equal(s.pairwise.length, 1);
    assert.ok(Math.abs(s.pairwise[0].p - fisherExact(8, 2, 2, 8)) < 1e-15);
  });
});
