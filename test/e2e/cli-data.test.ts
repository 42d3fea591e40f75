import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';

describe('vlalab data', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vlalab-data-'));
    const r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '2', '--out', join(dir, 'a'), '--json']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('info and stats describe a recorded dataset', () => {
    const info = runCli(['data', 'info', join(dir, 'a'), '--json']);
    assert.equal(info.status, 0, info.stderr);
    const i = JSON.parse(info.stdout);
    assert.equal(i.embodiment, 'panda7');
    assert.equal(i.episodes, 2);
    assert.deepEqual(i.cameras, ['front', 'wrist']);
    const stats = JSON.parse(runCli(['data', 'stats', join(dir, 'a'), '--json']).stdout);
    assert.equal(stats.action.mean.length, 7);
    assert.equal(stats.action.count[0], i.frames);
  });

  it('mix prints the Table VII composition with N_eff = floor(N_raw / S)', () => {
    const mix = join(dir, 'mix.json');
    writeFileSync(mix, JSON.stringify({ name: 'D', datasets: [{ path: 'a', frame_step_size: 1, category: 'sim' }, { path: 'a', frame_step_size: 4, weight: 2, category: 'sim' }] }));
    const r = runCli(['data', 'mix', mix, '--json', '--svg', join(dir, 'mix.svg')]);
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    const [a, b] = t.rows;
    assert.equal(b.n_eff, Math.floor(a.n_raw / 4));
    assert.ok(Math.abs(a.share - a.n_eff / (a.n_eff + 2 * b.n_eff)) < 1e-12);
    assert.ok(existsSync(join(dir, 'mix.svg')));
    writeFileSync(mix, JSON.stringify({ datasets: [{ path: 'nowhere' }] }));
    const bad = runCli(['data', 'mix', mix]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /datasets.0.path: .*nowhere is not a LeRobot dataset/);
  });

  it('records a whole suite into one dataset, one task per instruction', () => {
    const r = runCli(['sim', 'record', '--robot', 'panda7', '--suite', 'goal', '--episodes', '1', '--out', join(dir, 'goal'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const i = JSON.parse(runCli(['data', 'info', join(dir, 'goal'), '--json']).stdout);
    assert.equal(i.episodes, 10);
    assert.equal(i.tasks.length, 10);
    assert.deepEqual(i.features['observation.images.front'].shape, [64, 64, 3]);
    const bad = runCli(['sim', 'record', '--robot', 'panda7', '--suite', 'nope', '--out', join(dir, 'x')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /no tasks in suite "nope"; suites: basic, spatial/);
    const two = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'goal-red-plate, goal-green-bowl', '--episodes', '1', '--out', join(dir, 'two'), '--json']);
    assert.equal(two.status, 0, two.stderr);
    assert.deepEqual(JSON.parse(runCli(['data', 'info', join(dir, 'two'), '--json']).stdout).tasks, ['put the red cube on the plate', 'put the green cube in the bowl']);
  });

  it('names the missing file of a broken dataset', () => {
    const r = runCli(['data', 'info', join(dir, 'missing')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /meta\/info.json is missing/);
  });
});

describe('vlalab data corpus', () => {
  it('records D4 (every robot, both domains) with a mixture that data mix reads; unknown names get a suggestion', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-corpus-'));
    try {
      const out = join(dir, 'd4');
      let r = runCli(['data', 'corpus', 'D4', '--episodes', '1', '--size', '16', '--out', out, '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const mixture = JSON.parse(readFileSync(join(out, 'mixture.json'), 'utf8'));
      assert.equal(mixture.datasets.length, 7);
      const robots = mixture.datasets.map((d: { path: string }) => JSON.parse(readFileSync(join(out, d.path, 'meta/info.json'), 'utf8')).robot_type);
      assert.deepEqual([...new Set(robots)].sort(), ['vlalab_bimanual6', 'vlalab_panda7', 'vlalab_so5', 'vlalab_ur6', 'vlalab_widowx6']);
      assert.ok(mixture.datasets.some((d: { category: string }) => /domain/.test(d.category)), 'D3 adds the other-looking domain');
      r = runCli(['data', 'mix', join(out, 'mixture.json'), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const rows = JSON.parse(r.stdout).rows as { share: number; frame_step_size: number }[];
      assert.equal(rows.length, 7);
      assert.ok(Math.abs(rows.reduce((s, x) => s + x.share, 0) - 1) < 1e-9);
      assert.ok(rows.every((x) => x.share > 0.08 && x.share < 0.2), `balanced shares: ${rows.map((x) => x.share.toFixed(2))}`);
      r = runCli(['data', 'corpus', 'D5', '--out', join(dir, 'd5')]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /unknown corpus "D5"; did you mean/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
