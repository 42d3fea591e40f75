/** The study layer: presets, cells and shared pretraining runs, resumable runs on a fake backend, paired deltas. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type CellEvaluation, expandStudy, findingVerdict, formatPlan, pairedDelta, parseStudy, planStudy, readCellEvaluation, runStudy, scheduledSeconds, type StudyBackend, studyColumns, studyPreset, studyPresetNames, studyResults } from './index.ts';

const preset = (name: string, scale = 'ci') => parseStudy(studyPreset(name), name, scale);

/**
 * A backend that records calls; train writes a finished latest.json; evaluate succeeds on even seeds
 * of pretrained cells. With `delayMs`, each train and evaluate takes that long (its start logged as
 * "start ..." in `events`) and `peak` is the most under way at once.
 */
function fakeBackend(failOnEvaluate?: number, delayMs = 0): StudyBackend & { calls: string[]; events: string[]; peak: number } {
  const calls: string[] = [];
  const events: string[] = [];
  let evaluations = 0;
  let running = 0;
  const busy = async (what: string) => {
    events.push(`start ${what}`);
    b.peak = Math.max(b.peak, ++running);
    await new Promise((res) => setTimeout(res, delayMs));
    running--;
  };
  const b = {
    calls,
    events,
    peak: 0,
    corpusTasks: () => 7,
    async recordCorpus(name: string, dir: string) { calls.push(`corpus ${name}`); mkdirSync(dir, { recursive: true }); return join(dir, `mixture-${name}.json`); },
    async recordDemos(o: { out: string }) { calls.push('demos'); mkdirSync(o.out, { recursive: true }); },
    async train(o: Parameters<StudyBackend['train']>[0]) {
      if (delayMs) await busy(`train ${o.out}`);
      calls.push(`train ${o.out.split('/').slice(-2).join('/')}${o.initFrom ? ` from ${o.initFrom.split('/').at(-1)}` : ''}`);
      const ck = `checkpoints/step-${String(o.config.steps).padStart(6, '0')}`;
      mkdirSync(join(o.out, ck), { recursive: true });
      writeFileSync(join(o.out, 'latest.json'), JSON.stringify({ step: o.config.steps, dir: ck }));
    },
    async evaluate(o: Parameters<StudyBackend['evaluate']>[0]) {
      if (delayMs) await busy(`evaluate ${o.checkpoint}`);
      if (failOnEvaluate !== undefined && ++evaluations === failOnEvaluate) {
        events.push('failed');
        throw new Error('killed');
      }
      calls.push(`evaluate ${o.checkpoint.split('/').at(-1)}`);
      const pretrained = !o.checkpoint.endsWith('scratch');
      return o.tasks.map((task) => ({
        task, successRate: 0, ci95: [0, 1] as [number, number], meanPoints: 0, maxPoints: 1,
        episodes: Array.from({ length: o.episodes }, (_, k) => ({ seed: o.seed + k, success: pretrained && k % 2 === 0, points: 0, maxPoints: 1, steps: 1, queries: 1, policyMs: 0 })),
      }));
    },
    log() {},
  } satisfies StudyBackend & { calls: string[]; events: string[]; peak: number };
  return b;
}

describe('study presets', () => {
  it('parse at every scale with the paper\'s cells and shared pretraining runs', () => {
    assert.deepEqual(studyPresetNames(), ['table1', 'table2', 'table3', 'table4', 'table5']);
    for (const name of studyPresetNames()) for (const scale of ['ci', 'laptop']) assert.ok(expandStudy(preset(name, scale)).cells.length > 0, `${name} ${scale}`);
    const t1 = expandStudy(preset('table1'));
    assert.equal(t1.cells.length, 16);
    assert.deepEqual(t1.pretrains.map((p) => p.key), ['D4-world-rel-ps0.2-pv0.2-two-stage', 'D4-world-delta-ps0.2-pv0.2-two-stage', 'D4-eef-rel-ps0.2-pv0.2-two-stage', 'D4-eef-delta-ps0.2-pv0.2-two-stage']);
    assert.deepEqual(expandStudy(preset('table3')).pretrains.map((p) => p.recipe.corpus), ['D1', 'D2', 'D3', 'D4'], 'frozen and unfrozen rows share each mixture\'s run');
    assert.equal(expandStudy(preset('table5')).pretrains.length, 6);
    assert.deepEqual(studyColumns(preset('table2')).map((c) => c.name), ['pick_place', 'doors_drawers', 'other']);
  });

  it('names the bad field of a study file and an unknown scale', () => {
    const bad = { ...studyPreset('table1'), baseline: { ...(studyPreset('table1').baseline as object), corpus: 'D9' } };
    assert.throws(() => parseStudy(bad, 'my.json'), /my\.json.*baseline\.corpus/s);
    assert.throws(() => parseStudy(studyPreset('table1'), 'table1', 'huge'), /no scale "huge"; scales: ci, laptop/);
  });

  it('plans an estimate that grows with the budgets', () => {
    const ci = planStudy(preset('table1', 'ci'), () => 7).estimate.totalS;
    const laptop = planStudy(preset('table1', 'laptop'), () => 54).estimate.totalS;
    assert.ok(ci > 0 && laptop > 50 * ci, `${ci} vs ${laptop}`);
  });

  it('estimates a run with several jobs by scheduling them as the runner does', () => {
    // two pretraining runs of 100 s, each with two cells of 30 s training + 10 s evaluation, and a scratch cell
    const cells = [{ after: 0, trainS: 30, evalS: 10 }, { after: 0, trainS: 30, evalS: 10 }, { after: 1, trainS: 30, evalS: 10 }, { after: 1, trainS: 30, evalS: 10 }, { trainS: 30, evalS: 10 }];
    assert.equal(scheduledSeconds([100, 100], cells, 1), 400, 'one job: the sum');
    const two = scheduledSeconds([100, 100], cells, 2);
    assert.ok(two < 400 && two > 200, `two jobs: faster than one, each slower than alone (${two})`);
    // a cell cannot start before its pretraining run ends: one long pretraining run bounds the wall time
    assert.ok(scheduledSeconds([1000, 10], cells, 8) > 1000);
    const plan = (jobs: number) => planStudy(preset('table1', 'laptop'), () => 54, jobs).estimate;
    const one = plan(1);
    assert.ok(Math.abs(one.totalS - one.recordS - (one.pretrainS + one.finetuneS + one.evalS)) < 1e-6, 'one job: the stages add up');
    assert.ok(plan(2).totalS < plan(1).totalS && plan(2).jobs === 2);
  });
});

describe('study runner', () => {
  it('shares pretraining runs, resumes after a crash without repeating finished cells', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-study-'));
    try {
      const s = preset('table3');
      const first = fakeBackend(4);
      await assert.rejects(runStudy(s, dir, first), /killed/);
      assert.equal(first.calls.filter((c) => c.startsWith('train pretrain/')).length, 4, 'one pretraining run per mixture');
      assert.equal(first.calls.filter((c) => c.startsWith('evaluate')).length, 3);
      const second = fakeBackend();
      const r = await runStudy(s, dir, second);
      assert.deepEqual(r.skipped, ['frozen-vlm-scratch', 'frozen-vlm-d1', 'frozen-vlm-d2']);
      assert.ok(!second.calls.some((c) => c.startsWith('train pretrain/')), 'finished pretraining runs are not repeated');
      assert.ok(!second.calls.some((c) => c === 'train cells/frozen-vlm-d3'), 'the interrupted cell\'s finished fine-tuning is kept');
      assert.equal(second.calls.filter((c) => c.startsWith('evaluate')).length, 7);
      assert.ok(second.calls.includes('train cells/unfrozen-vlm-d2 from D2-eef-rel-ps0.2-pv0.2-two-stage'));
      const third = fakeBackend();
      assert.deepEqual((await runStudy(s, dir, third)).ran, []);
      assert.deepEqual(third.calls.filter((c) => !c.startsWith('corpus')), [], 'a finished study runs nothing');
      await assert.rejects(runStudy(preset('table1'), dir, third), /holds another study/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reuses another study\'s finished runs that are its own (Table III shares Table I\'s EEF-Rel rows), and nothing of a study with other budgets', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vlalab-study-'));
    try {
      const t1 = join(root, 't1');
      await runStudy(preset('table1'), t1, fakeBackend());
      const t3 = fakeBackend();
      const r = await runStudy(preset('table3'), join(root, 't3'), t3, { reuse: [t1] });
      assert.deepEqual(r.reused.sort(), ['cells/frozen-vlm-d4', 'cells/frozen-vlm-scratch', 'cells/unfrozen-vlm-d4', 'cells/unfrozen-vlm-scratch', 'pretrain/D4-eef-rel-ps0.2-pv0.2-two-stage']);
      assert.ok(!t3.calls.some((c) => c.includes('D4-eef-rel') || /cells\/(un)?frozen-vlm-(scratch|d4)$/.test(c)), `not run again: ${t3.calls.join('; ')}`);
      assert.ok(t3.calls.includes('train pretrain/D1-eef-rel-ps0.2-pv0.2-two-stage'), 'the others run');
      const plain = planStudy(preset('table3'), () => 7).estimate;
      const reusing = planStudy(preset('table3'), () => 7, 1, [t1]);
      assert.deepEqual([...reusing.reused.pretrains.keys()], ['D4-eef-rel-ps0.2-pv0.2-two-stage'], 'the plan names what it would reuse');
      assert.ok(reusing.estimate.totalS < plain.totalS && reusing.estimate.pretrainS === (plain.pretrainS * 3) / 4, 'and leaves it out of the estimate');
      assert.match(formatPlan(reusing), /D4-eef-rel-ps0\.2-pv0\.2-two-stage  \(reused: /);
      for (const [mine, theirs] of [['frozen-vlm-scratch', 'frozen-vlm-eef-rel-scratch'], ['unfrozen-vlm-d4', 'unfrozen-vlm-eef-rel-pretrain']]) {
        const a = readCellEvaluation(join(root, 't3'), mine)!;
        assert.equal(a.cell, mine);
        assert.deepEqual(a.episodes, readCellEvaluation(t1, theirs)!.episodes, `${mine} carries ${theirs}'s evaluation`);
      }
      // other budgets: nothing is the same run
      const other = { ...preset('table3'), budgets: { ...preset('table3').budgets, finetuneSteps: 5 } };
      assert.deepEqual((await runStudy(other, join(root, 'other'), fakeBackend(), { reuse: [t1] })).reused, []);
      // the same runs under another evaluation protocol: the training is reused, the evaluation is not
      const more = { ...preset('table3'), downstream: { ...preset('table3').downstream, episodes: 2 } };
      const t3b = fakeBackend();
      const rb = await runStudy(more, join(root, 'more'), t3b, { reuse: [t1] });
      assert.equal(rb.reused.length, 5);
      assert.ok(t3b.calls.includes('evaluate frozen-vlm-scratch') && !t3b.calls.includes('train cells/frozen-vlm-scratch'));
      await assert.rejects(runStudy(preset('table3'), join(root, 'x'), fakeBackend(), { reuse: [join(root, 'nope')] }), /no study\.json there/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('runs `jobs` runs at a time, each cell after its pretraining run, with the same results as one at a time', async () => {
    const s = preset('table3');
    const evals = async (jobs: number, backend: ReturnType<typeof fakeBackend>) => {
      const dir = mkdtempSync(join(tmpdir(), 'vlalab-study-'));
      try {
        const r = await runStudy(s, dir, backend, { jobs });
        return { ran: r.ran, evals: expandStudy(s).cells.map((c) => ({ ...readCellEvaluation(dir, c.id)!, seconds: 0 })) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const one = fakeBackend(undefined, 5);
    const two = fakeBackend(undefined, 5);
    const [a, b] = [await evals(1, one), await evals(2, two)];
    assert.equal(one.peak, 1);
    assert.equal(two.peak, 2, 'two runs at a time');
    assert.deepEqual(b, a, 'the same cells evaluated, with the same outcomes, reported in plan order');
    for (const c of expandStudy(s).cells.filter((x) => x.pretrain)) {
      const pre = two.calls.indexOf(`train pretrain/${c.pretrain}`);
      const cell = two.calls.findIndex((x) => x.startsWith(`train cells/${c.id} `));
      assert.ok(pre >= 0 && cell > pre, `${c.id} fine-tunes after ${c.pretrain} is trained`);
    }
    assert.deepEqual(two.calls.filter((x) => x.startsWith('train')).slice(0, 4).map((x) => x.split('/')[0]), Array(4).fill('train pretrain'), 'pretraining runs first');

    // a failure: the job beside it finishes, nothing else starts, and the failure is what is reported
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-study-'));
    try {
      const failing = fakeBackend(2, 5);
      await assert.rejects(runStudy(s, dir, failing, { jobs: 2 }), /killed/);
      // the cell beside the failed one may go on to its evaluation; no other run starts
      const after = failing.events.slice(failing.events.indexOf('failed') + 1);
      assert.ok(failing.events.includes('failed') && after.every((e) => e.startsWith('start evaluate')), `no run starts after the failure: ${after.join('; ')}`);
      assert.equal(expandStudy(s).cells.filter((c) => readCellEvaluation(dir, c.id)).length, failing.calls.filter((x) => x.startsWith('evaluate')).length, 'every evaluation that finished is recorded');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports deltas paired by task and seed, and whether each finding holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-study-'));
    try {
      const s = { ...preset('table3'), downstream: { ...preset('table3').downstream, episodes: 4 } };
      await runStudy(s, dir, fakeBackend());
      const { cells } = expandStudy(s);
      const evals = new Map(cells.map((c) => [c.id, readCellEvaluation(dir, c.id) as CellEvaluation]));
      const res = studyResults(s, cells, studyColumns(s), evals);
      const d1 = res.rows.find((r) => r.cell === 'frozen-vlm-d1')!;
      assert.equal(d1.rates.at(-1)!.value, 0.5);
      assert.equal(d1.deltas!.at(-1)!.value, 0.5, 'D1 vs scratch');
      assert.equal(d1.paperDeltas!.at(-1)!.toFixed(1), '10.4');
      const byClaim = new Map(res.findings.map((f) => [f.claim, f]));
      assert.equal(byClaim.get('frozen: D1 beats scratch')!.holds, true);
      assert.equal(byClaim.get('frozen: D1 beats scratch')!.significant, true);
      assert.equal(byClaim.get('frozen: adding EEF embodiments (D2) hurts')!.holds, false, 'equal rates do not confirm a drop');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pairs episodes by task and seed and ignores unpaired ones', () => {
    const ep = (task: string, seed: number, success: boolean) => ({ task, seed, success, points: Number(success), maxPoints: 1 });
    const a = [ep('t', 0, true), ep('t', 1, false), ep('t', 2, false), ep('u', 0, false)];
    const b = [ep('t', 2, true), ep('t', 1, false), ep('t', 0, true), ep('u', 0, true), ep('u', 9, true)];
    const d = pairedDelta(a, b);
    assert.equal(d.n, 4);
    assert.equal(d.value, 0.5);
    assert.ok(d.lo >= 0 && d.lo <= 0.5 && d.hi >= 0.5 && d.hi <= 1, `${d.lo} ${d.hi}`);
  });

  it('says which findings hold, which are contradicted, and which this run cannot tell', () => {
    const f = (value: number, lo: number, hi: number, floor = false) => {
      const sign = 1 as const;
      return { claim: 'x', a: 'A', b: 'B', sign, ours: { value, lo, hi, n: 80 }, holds: Math.sign(value) === sign, significant: lo > 0, floor };
    };
    assert.equal(findingVerdict(f(0.1, 0.02, 0.2)), 'holds (interval excludes 0)');
    assert.equal(findingVerdict(f(0.1, -0.02, 0.2)), 'same sign, interval includes 0');
    assert.equal(findingVerdict(f(-0.1, -0.2, -0.02)), 'does not hold (opposite sign, interval excludes 0)');
    assert.equal(findingVerdict(f(-0.01, -0.04, 0)), 'not resolved (opposite sign, interval includes 0)');
    assert.equal(findingVerdict(f(0, 0, 0, true)), 'not resolved: no success in either row', 'two rows at 0% cannot contradict anything');
    assert.equal(findingVerdict(f(0, 0, 0)), 'no difference measured');
  });
});
