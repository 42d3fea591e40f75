import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getConfig } from '../model/index.ts';
import { resolveTrainConfig } from './presets.ts';
import { checkResume, CKPT_FILES, resolveCheckpoint, restoreTrainState, RunDir } from './run-state.ts';

describe('run state', () => {
  it('resolves a run to its latest checkpoint and a checkpoint to its trainer.json step, even copied under another name', () => {
    const root = mkdtempSync(join(tmpdir(), 'vlalab-ckpt-'));
    try {
      const copied = join(root, 'my-best');
      mkdirSync(copied);
      writeFileSync(join(copied, CKPT_FILES.weights), '');
      writeFileSync(join(copied, CKPT_FILES.trainer), JSON.stringify({ step: 12000 }));
      assert.deepEqual(resolveCheckpoint(copied), { dir: copied, step: 12000 });
      const named = join(root, 'step-000300');
      mkdirSync(named);
      writeFileSync(join(named, CKPT_FILES.weights), '');
      writeFileSync(join(named, CKPT_FILES.trainer), 'not json');
      assert.equal(resolveCheckpoint(named).step, 300, 'a damaged trainer.json falls back to the folder name');
      assert.throws(() => resolveCheckpoint(root, '--init-from'), /--init-from .* is neither a training run \(no latest\.json\) nor a checkpoint \(no model\.safetensors\)/);
      const run = new RunDir(join(root, 'run'));
      const dir = run.writeCheckpoint(40, { [CKPT_FILES.weights]: '' });
      const ref = resolveCheckpoint(run.root);
      assert.deepEqual([ref.dir, ref.step, ref.run?.root], [dir, 40, run.root]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a damaged trainer.json on restore, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-ckpt-'));
    try {
      writeFileSync(join(dir, CKPT_FILES.trainer), JSON.stringify({ step: 4, optSteps: { semantic: 4 } }));
      assert.throws(() => restoreTrainState(dir, getConfig('debug'), false), /trainer\.json: field "optSteps\.action": missing.*; the checkpoint is damaged/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists every changed field of a resumed run, and lets --extend change only what the checkpoint allows', () => {
    const train = resolveTrainConfig('debug', { steps: 12000 });
    const stored = { train, model: {} };
    assert.deepEqual(checkResume(stored, train, { out: 'R', step: 500 }), [], 'the same config is the same run');
    const asked = resolveTrainConfig('debug', { steps: 20000, lr: 1e-3 });
    assert.throws(() => checkResume(stored, asked, { out: 'R', step: 500 }), new RegExp(`steps 12000 -> 20000, lr ${train.lr} -> 0\\.001; continue it as it was`));
    assert.deepEqual(checkResume(stored, asked, { out: 'R', step: 500, extend: true, moreChanges: ['data a -> b'] }), ['steps 12000 -> 20000', `lr ${train.lr} -> 0.001`, 'data a -> b']);
    assert.throws(() => checkResume(stored, resolveTrainConfig('debug', { steps: 400 }), { out: 'R', step: 500, extend: true }), /the run is at step 500; pass --steps above it/);
    assert.throws(() => checkResume(stored, resolveTrainConfig('debug', { steps: 12000, model: 'tiny' }), { out: 'R', extend: true }), /--extend cannot change model/);
  });
});
