/**
 * `vlalab study` end to end (tagged slow, ~2 min on 2 cores): Table I at ci scale has every cell
 * in its report (and Figure 4 of its models runs through the blind service), and a study SIGKILLed in the middle of a cell's fine-tuning, then rerun with the
 * same command, ends with the same report as an uninterrupted run (which ran two jobs at a time).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDataset } from '../../src/data/index.ts';
import { studyPreset } from '../../src/study/index.ts';
import { BIN, runCliAsync } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'vlalab-study-e2e-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A two-row study (scratch vs D1, one task) small enough to run three times (`finetuneSteps`: 8). */
function tinyStudy(finetune: { steps: number; checkpointEvery: number } = { steps: 8, checkpointEvery: 2 }, name = 'tiny.json'): string {
  const t3 = studyPreset('table3') as { scales: { ci: { downstream: object; budgets: object } } };
  const file = join(root, name);
  writeFileSync(file, JSON.stringify({
    name: 'tiny', baseline: { eefMode: 'eef-rel', corpus: 'D1', freeze: false, pState: 0.2, pView: 0.2, curriculum: 'two-stage' },
    rows: [{ label: 'Scratch', corpus: 'none' }, { label: 'D1', vs: 'Scratch' }],
    downstream: { ...t3.scales.ci.downstream, columns: [{ name: 'object', tasks: ['object-green-bowl'] }], evalSeed: 0, demoSeed: 100000, episodes: 2 },
    budgets: { ...t3.scales.ci.budgets, finetuneSteps: finetune.steps, checkpointEvery: finetune.checkpointEvery },
    findings: [{ claim: 'D1 beats scratch', a: '/Scratch', b: '/D1', sign: 1 }],
  }));
  return file;
}

/** The report without the lines that name the directory or the wall time. */
const comparable = (dir: string) => readFileSync(join(dir, 'report.md'), 'utf8').split('\n').filter((l) => !l.startsWith('command:') && !l.startsWith('wall time:')).join('\n');

describe('vlalab study plan', () => {
  it('prints the cells, the shared pretraining runs and an estimate; unknown presets get a suggestion', async () => {
    const r = await runCliAsync(['study', 'plan', 'table1', '--scale', 'laptop', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.cells.length, 16);
    assert.equal(plan.pretrains.length, 4);
    assert.ok(plan.estimate_seconds.totalS > 3600 && plan.estimate_seconds.totalS < 3 * 3600, `Table I at laptop scale fits 3 hours: ${plan.estimate_seconds.totalS} s`);
    const text = await runCliAsync(['study', 'plan', 'table3', '--scale', 'ci']);
    assert.match(text.stdout, /10 cells, 4 shared pretraining runs[\s\S]*estimated wall time: /);
    const bad = await runCliAsync(['study', 'plan', 'tabel1']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown study preset "tabel1"; did you mean "table1"/);
  });
});

describe('vlalab study (slow)', () => {
  it('runs Table I at ci scale with every cell in the report', async () => {
    const out = join(root, 't1');
    const r = await runCliAsync(['study', 'run', 'table1', '--scale', 'ci', '--out', out, '--json'], { timeoutMs: 400_000 });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(res.rows.length, 16);
    assert.deepEqual(res.missing, []);
    assert.deepEqual(res.columns, ['spatial', 'object', 'goal', 'long', 'avg']);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const g of ['Frozen VLM / World-Rel', 'Frozen VLM / EEF-Delta', 'Unfrozen VLM / World-Delta', 'Unfrozen VLM / EEF-Rel']) assert.ok(md.includes(`| ${g} | Scratch |`), g);
    assert.equal(md.match(/\| +paper \| /g)?.length, 16, 'the paper\'s numbers under every row');
    assert.match(md, /unfrozen: pretraining hurts World-Rel/);
    assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<svg'), 'the HTML report has its chart');
    const mixtures = ['D4'].map((d) => JSON.parse(readFileSync(join(out, 'data', 'corpus', `mixture-${d}.json`), 'utf8')));
    assert.equal(mixtures[0].datasets.length, 7);
    for (const part of mixtures[0].datasets) {
      const d = await openDataset(join(out, 'data', 'corpus', part.path));
      assert.ok(d.tasks.length > 0 && d.tasks.every((t) => !t.startsWith('put ')), `${part.path}: no downstream instruction (${d.tasks.join('; ')})`);
    }

    // Figure 4 on the study's models, through the blind service
    const b = await runCliAsync(['study', 'blind', out, '--figure', 'figure4', '--trials', '1', '--tasks', 'water-plant', '--json'], { timeoutMs: 200_000 });
    assert.equal(b.status, 0, b.stderr);
    const bars = JSON.parse(b.stdout).bars as { model: string; task: string; trials: number; score: number; paper?: number }[];
    assert.deepEqual(bars.map((x) => `${x.model} ${x.task} ${x.trials}`), ['World-Delta', 'World-Rel', 'EEF-Delta', 'EEF-Rel'].flatMap((m) => [`${m} water-plant 1`, `${m} avg 1`]));
    assert.ok(bars.every((x) => x.score >= 0 && x.score <= 1));
    assert.equal(bars.find((x) => x.model === 'EEF-Rel' && x.task === 'water-plant')!.paper, 77);
    assert.match(readFileSync(join(out, 'blind-figure4', 'report.md'), 'utf8'), /\| EEF-Rel \| /);
  });

  it('a study killed mid-cell and rerun ends with the same report as an uninterrupted run', async () => {
    const file = tinyStudy();
    // the uninterrupted run does two runs at a time (in one process): the results must not depend on it
    const whole = join(root, 'whole');
    const r = await runCliAsync(['study', 'run', file, '--out', whole, '--jobs', '2', '--json'], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);

    const cut = join(root, 'cut');
    const child = spawn(process.execPath, [BIN, 'study', 'run', file, '--out', cut, '--json'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const midCell = join(cut, 'cells', 'd1', 'checkpoints', 'step-000002');
    let killedMidCell = false;
    while (child.exitCode === null) {
      if (existsSync(midCell)) {
        killedMidCell = !existsSync(join(cut, 'cells', 'd1', 'eval.json'));
        child.kill('SIGKILL');
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    await exited;
    assert.ok(killedMidCell, 'the study was killed while the second cell was fine-tuning');
    assert.ok(existsSync(join(cut, 'cells', 'scratch', 'eval.json')) && !existsSync(join(cut, 'report.md')));

    const again = await runCliAsync(['study', 'run', file, '--out', cut, '--json'], { timeoutMs: 300_000 });
    assert.equal(again.status, 0, again.stderr);
    const summary = JSON.parse(again.stdout);
    assert.deepEqual([summary.ran, summary.skipped], [['d1'], ['scratch']], 'the finished cell is not repeated');
    assert.deepEqual(JSON.parse(readFileSync(join(cut, 'results.json'), 'utf8')), JSON.parse(readFileSync(join(whole, 'results.json'), 'utf8')));
    assert.equal(comparable(cut), comparable(whole));
    assert.match(readFileSync(join(cut, 'report.md'), 'utf8'), /wall time: .* in 1 completed invocation \(and 1 interrupted, not counted\)/);
  });

  it('a study killed while its jobs run in their own processes (--jobs 2) leaves none of them running', async () => {
    const file = tinyStudy({ steps: 5000, checkpointEvery: 1000 }, 'long.json');
    const out = join(root, 'jobs-killed');
    const child = spawn(process.execPath, [BIN, 'study', 'run', file, '--out', out, '--jobs', '2', '--json'], { stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const metrics = join(out, 'cells', 'd1', 'metrics.jsonl');
    const lines = () => (existsSync(metrics) ? readFileSync(metrics, 'utf8').split('\n').length : 0);
    while (child.exitCode === null && lines() < 3) await new Promise((res) => setTimeout(res, 50));
    assert.equal(child.exitCode, null, 'the study was still running when its cell had started');
    child.kill('SIGKILL');
    await exited;
    await new Promise((res) => setTimeout(res, 1500)); // a job notices its study is gone within 0.5 s
    const before = lines();
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(lines(), before, 'the cell\'s training went on after its study was killed');
  });
});
