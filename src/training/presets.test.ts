import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getPreset, PRESETS, resolveTrainConfig } from './presets.ts';
import { RunDir } from './run-state.ts';

describe('training presets', () => {
  it('has the named presets, frozen, and suggests on typos', () => {
    assert.deepEqual(Object.keys(PRESETS), ['debug', 'quickstart', 'laptop', 'paper']);
    assert.ok(Object.isFrozen(PRESETS.debug));
    assert.throws(() => getPreset('quikstart'), /unknown preset "quikstart"; did you mean "quickstart"/);
    assert.equal(PRESETS.paper.curriculum, 'two-stage');
    assert.equal(PRESETS.paper.pState, 0.2);
  });

  it('resolves the config of a run made before the augmentation and per-step fields existed, with both off', () => {
    const { augShift, augColor, normPerStep: _, ...older } = getPreset('laptop');
    assert.ok(augShift > 0 && augColor > 0, 'the laptop preset augments');
    const c = resolveTrainConfig(older as never);
    assert.equal(c.augShift, 0);
    assert.equal(c.normPerStep, false, 'and with the chunk normalized as one (pooled stats)');
    assert.equal(c.augColor, 0);
    assert.throws(() => resolveTrainConfig('laptop', { augShift: 1.5 }), /augShift/);
  });

  it('applies overrides in order and validates them by field', () => {
    const c = resolveTrainConfig('debug', { steps: 99, lr: 1e-3 }, { lr: 5e-4, seed: undefined });
    assert.equal(c.steps, 99);
    assert.equal(c.lr, 5e-4);
    assert.equal(c.seed, PRESETS.debug.seed);
    assert.throws(() => resolveTrainConfig('debug', { steps: -1 }), /field "steps"/);
    assert.throws(() => resolveTrainConfig('debug', { eefMode: 'eef-rell' }), /field "eefMode"/);
    assert.throws(() => resolveTrainConfig('debug', { stpes: 3 }), /stpes/);
  });
});

describe('run directory', () => {
  it('writes checkpoints with latest.json last and prunes old ones', () => {
    const run = new RunDir(mkdtempSync(join(tmpdir(), 'vlalab-run-')));
    assert.equal(run.latest(), undefined);
    run.writeCheckpoint(10, { 'a.json': '{}' });
    run.writeCheckpoint(20, { 'a.json': '{}' });
    run.writeCheckpoint(30, { 'a.json': '{}', 'b.bin': new Uint8Array([1, 2]) });
    assert.equal(run.latest()?.step, 30);
    assert.deepEqual(readdirSync(run.path('checkpoints')), ['step-000020', 'step-000030']);
    assert.deepEqual(readdirSync(run.latest()!.dir).sort(), ['a.json', 'b.bin']);
  });

  it('reads metrics past a torn last line and truncates on resume', () => {
    const run = new RunDir(mkdtempSync(join(tmpdir(), 'vlalab-run-')));
    for (let step = 1; step <= 5; step++) run.appendMetrics({ step, loss: 1 / step, lr: 1e-3, gradNorm: 1, samplesPerSec: 10, stage: 2, time: step });
    writeFileSync(run.path('metrics.jsonl'), '{"step": 6, "lo', { flag: 'a' });
    assert.equal(run.readMetrics().length, 5);
    run.truncateMetrics(3);
    assert.deepEqual(run.readMetrics().map((m) => m.step), [1, 2, 3]);
  });

  it('refuses a damaged latest.json with a clear message', () => {
    const run = new RunDir(mkdtempSync(join(tmpdir(), 'vlalab-run-')));
    writeFileSync(run.path('latest.json'), '{"step": "x"}');
    assert.throws(() => run.latest(), /latest\.json is damaged/);
    writeFileSync(run.path('latest.json'), '{"step": 5, "dir": "checkpoints/step-000005"}');
    assert.throws(() => run.latest(), /does not exist/);
  });
});
