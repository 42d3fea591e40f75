import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BlindStore } from '../../src/eval/index.ts';
import { BIN, runCli } from '../helpers/cli.ts';

describe('vlalab blind', () => {
  it('creates a study, refuses to overwrite it, and reports recorded outcomes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-cli-'));
    try {
      const study = join(dir, 'study.json');
      writeFileSync(study, JSON.stringify({
        name: 'cli', models: { a: 'ws://h:1', b: 'ws://h:2' }, trialsPerModel: 2, groupSize: 2,
        tasks: [{ name: 'wipe-board', instruction: 'wipe the board', rubric: [{ name: 'clean', points: 4 }] }],
      }));
      const db = join(dir, 'study.db');
      const r = runCli(['blind', 'create', '--study', study, '--db', db, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.trials, 4);
      assert.match(out.tokens.operator, /^[0-9a-f]{32}$/);
      assert.equal(runCli(['blind', 'create', '--study', study, '--db', db]).status, 1);
      const store = new BlindStore(db);
      for (let t = store.current(); t; t = store.current()) {
        store.start(t.id);
        store.record(t.id, t.model === 'a' ? 4 : 1);
      }
      store.close();
      const rep = JSON.parse(runCli(['blind', 'report', '--db', db, '--json']).stdout);
      assert.deepEqual(rep.progress, { done: 4, ended: 0, total: 4 });
      assert.deepEqual(rep.ranking.map((x: { model: string }) => x.model), ['a', 'b']);
      const bad = runCli(['blind', 'report', '--db', join(dir, 'missing.db')]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /does not exist; create the study first/);
      writeFileSync(study, JSON.stringify({ name: 'x', models: {}, trialsPerModel: 1, tasks: [] }));
      const invalid = runCli(['blind', 'create', '--study', study, '--db', join(dir, 'other.db')]);
      assert.equal(invalid.status, 1);
      assert.match(invalid.stderr, /study.json: 2 problems:\n  field "models": needs at least one model\n  field "tasks": /);
      assert.equal(existsSync(join(dir, 'other.db')), false, 'a failed create left a database behind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('template prints a commented study file that create accepts as is; every problem is reported at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-cli-'));
    try {
      const t = runCli(['blind', 'template']);
      assert.equal(t.status, 0, t.stderr);
      assert.match(t.stdout, /^\/\/ /m, 'the template explains itself in comments');
      for (const field of ['name', 'models', 'tasks', 'groupSize', 'trialsPerModel', 'scoring', 'restSeconds', 'seed']) assert.match(t.stdout, new RegExp(`"${field}":`));
      const study = join(dir, 'study.json');
      writeFileSync(study, t.stdout);
      const r = runCli(['blind', 'create', '--study', study, '--db', join(dir, 'a.db'), '--json']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).trials, 20);
      writeFileSync(study, t.stdout.replace('"groupSize"', '"groupsize"').replace('"rubric"', '"rubrik"').replace('"trialsPerModel": 10', '"trialsPerModel": 0'));
      const bad = runCli(['blind', 'create', '--study', study, '--db', join(dir, 'b.db')]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /study\.json: 4 problems:\n/);
      assert.match(bad.stderr, /field "tasks\.0\.rubrik": unknown; did you mean "rubric"\?/);
      assert.match(bad.stderr, /field "tasks\.0\.rubric": missing/);
      assert.match(bad.stderr, /field "groupsize": unknown; did you mean "groupSize"\?/);
      assert.match(bad.stderr, /field "trialsPerModel": /);
      assert.match(bad.stderr, /`vlalab blind template` prints a commented example/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('simulate without --out labels each trial and leaves no temporary folder behind', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'vlalab-blind-tmp-'));
    try {
      const r = spawnSync(process.execPath, [BIN, 'blind', 'simulate', '--models', '2', '--trials', '1', '--tasks', 'water-plant'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TMPDIR: tmp } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^trial 1 of 2 \(water-plant\): \d of 3 points$/m);
      assert.match(r.stderr, /^trial 2 of 2 \(water-plant\): \d of 3 points$/m);
      assert.match(r.stdout, /pass --out DIR to keep/);
      assert.deepEqual(readdirSync(tmp), [], 'the temporary study folder was removed');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('simulate runs a whole judge-scored study against the simulator and prints the de-anonymized results last', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-cli-'));
    try {
      const args = ['blind', 'simulate', '--out', dir, '--models', '3', '--trials', '1', '--tasks', 'water-plant', '--scoring', 'judge', '--seed', '3', '--json'];
      const r = runCli(args, { timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      assert.deepEqual(out.progress, { done: 3, ended: 0, total: 3, state: 'done' });
      assert.deepEqual(out.cells.map((c: { model: string }) => c.model), ['sim-lapse-0.00', 'sim-lapse-0.01', 'sim-lapse-0.04']);
      for (const c of out.cells) {
        assert.equal(c.trials, 1);
        assert.ok(c.meanScorePct >= 0 && c.meanScorePct <= 100);
        assert.ok(c.successCi95[0] <= c.successRate && c.successRate <= c.successCi95[1]);
      }
      assert.equal(out.cells[0].meanScorePct, 100, 'the expert stand-in solves the task');
      assert.ok(existsSync(join(dir, 'study-records', '1', '0.png')), 'the dispatcher kept the trial record for the judge');
      const again = runCli(args);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /study.db already exists; choose another --out/);
      const bad = runCli(['blind', 'simulate', '--scoring', 'both']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /--scoring must be "operator" or "judge"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('simulate --bias runs the unbiased, unblinded and blinded studies and prints one table row each; bad names and modes are refused', () => {
    const r = runCli(['blind', 'simulate', '--models', '2', '--trials', '1', '--tasks', 'water-plant', '--bias', 'sim-lapse-0.01'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| operator \| sim-lapse-0\.00 \| sim-lapse-0\.01 \(favoured\) \| favoured - sim-lapse-0\.00 \| retries \| credited \|/);
    assert.deepEqual(r.stdout.split('\n').filter((l) => /^\| (unbiased|unblinded|blinded \(half\)) \|/.test(l)).length, 3);
    assert.match(r.stderr, /^unblinded: trial 1 of 2 \(water-plant\)/m);
    const unknown = runCli(['blind', 'simulate', '--bias', 'sim-lapse-0.1']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /unknown stand-in model "sim-lapse-0.1"; did you mean "sim-lapse-0.01"/);
    const judged = runCli(['blind', 'simulate', '--bias', 'sim-lapse-0.01', '--scoring', 'judge']);
    assert.equal(judged.status, 1);
    assert.match(judged.stderr, /--bias runs operator-scored studies/);
    const aim = runCli(['blind', 'simulate', '--bias', 'sim-lapse-0.01', '--blind-leniency', 'some']);
    assert.equal(aim.status, 1);
    assert.match(aim.stderr, /--blind-leniency must be "half" or "every"/);
  });
});
