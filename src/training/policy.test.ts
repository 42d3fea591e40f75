import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { UNIFIED_DIM } from '../actions/index.ts';
import { tree } from '../model/index.ts';
import { policyCheckpoint } from '../../test/helpers/policy-fixture.ts';
import { loadPolicyParts, readPolicyMeta } from './index.ts';

describe('a policy acts with the normalization it was trained with', () => {
  it('per chunk step when policy.json has per-step action stats, pooled otherwise', async () => {
    for (const perStep of [false, true]) {
      const { dir, config } = await policyCheckpoint('debug', 3, { perStep });
      try {
        const p = loadPolicyParts(dir);
        assert.equal(p.actionNormalizers.length, config.actionHorizon);
        const steps = readPolicyMeta(dir).norm.actionSteps;
        const d = p.embodiment.actionIndex[0];
        p.actionNormalizers.forEach((n, h) => {
          const stats = steps ? steps[h] : p.meta.norm.action;
          const y = new Float64Array(UNIFIED_DIM);
          y[d] = 1; // one std above the mean of the stats this step uses
          assert.ok(Math.abs(n.unnormalize(y)[d] - (stats.mean[d] + stats.std[d])) < 1e-9, `${perStep ? 'per-step' : 'pooled'} step ${h}`);
        });
        assert.equal(new Set(p.actionNormalizers).size, perStep ? config.actionHorizon : 1);
        tree.dispose(p.params);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
