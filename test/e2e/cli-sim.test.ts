import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodePng } from '../../src/util/index.ts';
import { runCli } from '../helpers/cli.ts';
import { policyCheckpoint } from '../helpers/policy-fixture.ts';

describe('vlalab sim', () => {
  it('lists tasks as JSON', () => {
    const r = runCli(['sim', 'tasks', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(out.robots.includes('panda7'));
    assert.ok(out.tasks.some((t: { name: string; instruction: string }) => t.name === 'pick-place' && t.instruction.includes('red cube')));
  });

  it('lists tasks in aligned columns however long the names, and suggests a misspelled suite', () => {
    const r = runCli(['sim', 'tasks']);
    assert.equal(r.status, 0, r.stderr);
    const columns = new Set(r.stdout.split('\n').filter((l) => / pt /.test(l)).map((l) => l.indexOf(' pt ')));
    assert.equal(columns.size, 1, `the points column moves: ${[...columns]}`);
    const bad = runCli(['sim', 'record', '--robot', 'panda7', '--suite', 'spatal', '--out', join(tmpdir(), 'never')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /no tasks in suite "spatal"; did you mean "spatial"\?; suites: basic, spatial/);
  });

  it('records recovery demonstrations with --perturb: every episode disturbed, recovered, and longer than the clean one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-perturb-'));
    try {
      const rec = (name: string, perturb: string) => {
        const r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '4', '--size', '16', '--perturb', perturb, '--out', join(dir, name), '--json']);
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout) as { episodes: number; frames: number; failed: number };
      };
      const clean = rec('clean', '0');
      const disturbed = rec('disturbed', '1');
      assert.equal(disturbed.episodes, 4, `the expert recovered ${disturbed.episodes} of 4 disturbed episodes`);
      assert.ok(disturbed.frames >= clean.frames + 4 * 10, `disturbed episodes (${disturbed.frames} frames) should each take >= 10 steps more than the clean ones (${clean.frames})`);
      const bad = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--perturb', '2', '--out', join(dir, 'never')]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /--perturb is a fraction of episodes in \[0, 1\], got "2"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('relabels a trained policy\'s rollouts with --relabel RUN', async () => {
    const { dir: run } = await policyCheckpoint();
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-relabel-'));
    try {
      const r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '1', '--relabel', run, '--execute-steps', '4', '--out', join(dir, 'ds'), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.episodes, 1, 'the rollout is kept whether or not the policy succeeded');
      assert.ok(out.frames >= 1 && out.frames <= 100, `${out.frames} frames within pick-place's budget`);
      const bad = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--execute-steps', '2', '--out', join(dir, 'never')]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /--execute-steps and --engine choose how the --relabel policy acts; pass --relabel RUN/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(run, { recursive: true, force: true });
    }
  });

  it('demo runs the expert, writes frames and a contact sheet, and reports success', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-demo-'));
    try {
      const r = runCli(['sim', 'demo', '--robot', 'panda7', '--task', 'pick-place', '--seed', '2', '--out', dir, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(res), ['success', 'points', 'max_points', 'steps']);
      assert.equal(res.success, true);
      const frames = readdirSync(join(dir, 'frames'));
      assert.equal(frames.filter((f) => f.startsWith('front_')).length, res.steps + 1);
      const first = decodePng(readFileSync(join(dir, 'frames', 'front_0000.png')));
      assert.equal(first.width, 64);
      assert.ok(existsSync(join(dir, 'sheet.png')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad input gives one clear line', () => {
    for (const [args, pattern] of [
      [['--robot', 'panda', '--task', 'pick-place'], /unknown robot "panda"; did you mean "panda7"/],
      [['--robot', 'panda7', '--task', 'pick'], /unknown task "pick"/],
      [['--robot', 'panda7', '--task', 'pick-place', '--seed', 'x'], /--seed must be an integer/],
      [['--robot', 'panda7', '--task', 'pick-place', '--out', '/proc/vlalab/x'], /cannot write to/],
    ] as const) {
      const out = (args as readonly string[]).includes('--out') ? [] : ['--out', join(tmpdir(), 'vlalab-never')];
      const r = runCli(['sim', 'demo', ...args, ...out]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
