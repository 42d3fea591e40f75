import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  });

  it('names the missing file of a broken dataset', () => {
    const r = runCli(['data', 'info', join(dir, 'missing')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /meta\/info.json is missing/);
  });
});
