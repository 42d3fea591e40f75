import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';

describe('vlalab data: readable tables and pointers', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vlalab-data-report-'));
    const r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'goal-red-plate,goal-green-bowl', '--episodes', '1', '--out', join(dir, 'two'), '--json']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('info counts the episodes of each task', () => {
    const i = JSON.parse(runCli(['data', 'info', join(dir, 'two'), '--json']).stdout);
    assert.deepEqual(i.episodes_per_task, { 'put the red cube on the plate': 1, 'put the green cube in the bowl': 1 });
    const text = runCli(['data', 'info', join(dir, 'two')]).stdout;
    assert.match(text, /tasks \(2, episodes each: 1\):\n +1 {2}"put the red cube on the plate"\n +1 {2}"put the green cube in the bowl"/);
  });

  it('info on a corpus folder points to its mixture.json', () => {
    const corpus = join(dir, 'corpus');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'mixture.json'), JSON.stringify({ name: 'c', datasets: [{ path: '../two' }] }));
    const r = runCli(['data', 'info', corpus]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is a corpus .*mixture\.json.*: see it with `vlalab data mix .*corpus\/mixture\.json`/);
  });

  it('mix shortens long paths at folder boundaries and slants long chart labels', () => {
    const deep = join(dir, 'a-rather-long-folder-name', 'another-long-folder-name');
    mkdirSync(deep, { recursive: true });
    symlinkSync(join(dir, 'two'), join(deep, 'panda7-goal-red-plate-and-green-bowl'));
    const mix = join(dir, 'mix.json');
    writeFileSync(mix, JSON.stringify({ name: 'M', datasets: [{ path: join(deep, 'panda7-goal-red-plate-and-green-bowl') }, { path: 'two', frame_step_size: 2 }] }));
    const r = runCli(['data', 'mix', mix, '--svg', join(dir, 'mix.svg')]);
    assert.equal(r.status, 0, r.stderr);
    const cells = r.stdout.split('\n').slice(2, 4).map((l) => l.split(/ +/)[1]);
    assert.match(cells[0], /^\.\.\.\/(another-long-folder-name\/)?panda7-goal-red-plate-and-green-bowl$/, 'cut at a folder boundary, not mid-word');
    assert.ok(cells[1].endsWith('/two'));
    const svg = readFileSync(join(dir, 'mix.svg'), 'utf8');
    assert.match(svg, /class="x-label" transform="translate\([\d.]+ [\d.]+\) rotate\(-45\)"/);
  });
});
