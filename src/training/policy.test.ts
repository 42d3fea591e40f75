import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkpointDir, POLICY_FILE } from './policy.ts';

describe('checkpointDir', () => {
  it('reads the step of a checkpoint from its trainer.json, even copied under another name', () => {
    const root = mkdtempSync(join(tmpdir(), 'vlalab-ckpt-'));
    try {
      const copied = join(root, 'my-best');
      mkdirSync(copied);
      writeFileSync(join(copied, POLICY_FILE), '{}');
      writeFileSync(join(copied, 'trainer.json'), JSON.stringify({ step: 12000 }));
      assert.deepEqual(checkpointDir(copied), { dir: copied, step: 12000 });
      const named = join(root, 'step-000300');
      mkdirSync(named);
      writeFileSync(join(named, POLICY_FILE), '{}');
      writeFileSync(join(named, 'trainer.json'), 'not json');
      assert.equal(checkpointDir(named).step, 300, 'a damaged trainer.json falls back to the folder name');
      assert.throws(() => checkpointDir(root), /neither a training run/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
