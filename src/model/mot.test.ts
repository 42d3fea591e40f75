import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_NAMES, getConfig, initParams, prefixLength, SEQ_ALIGN, suffixPadding, syntheticBatch } from './index.ts';
import { random, tree } from './backend.ts';
import { maxAbsDiff } from '../../test/helpers/close.ts';
import { observationToDevice } from './batch.ts';
import { velocityJoint } from './mot.ts';

describe('MoT sequence padding', () => {
  it('keeps every registry config\'s prefix and padded sequence multiples of SEQ_ALIGN', () => {
    for (const name of CONFIG_NAMES) {
      const c = getConfig(name);
      assert.equal(prefixLength(c) % SEQ_ALIGN, 0, `${name} prefix ${prefixLength(c)}`);
      assert.equal((prefixLength(c) + 1 + c.actionHorizon + suffixPadding(c)) % SEQ_ALIGN, 0, name);
      assert.ok(suffixPadding(c) < SEQ_ALIGN);
    }
  });

  it('gives the same velocity with 0, the aligned, and 5 extra dummy suffix tokens (1e-5)', async () => {
    const c = getConfig('tiny');
    assert.equal((160 + 1 + 16 + suffixPadding(c)) % 4, 0);
    const params = initParams(c, 2);
    const batch = syntheticBatch(c, 2, 4);
    const xt = random.normal(random.key(1), [2, c.actionHorizon, c.actionDim]);
    const tau = random.uniform(random.key(2), [2]);
    const velocity = async (pad: number) => {
      const d = observationToDevice(batch);
      tree.dispose(d.actionMask);
      return velocityJoint(c, tree.ref(params), d.prefix, d.state, xt.ref, tau.ref, pad).data();
    };
    const unpadded = await velocity(0);
    assert.equal(unpadded.length, 2 * c.actionHorizon * c.actionDim);
    for (const pad of [suffixPadding(c), 5]) {
      const padded = await velocity(pad);
      assert.ok(maxAbsDiff(padded, unpadded) <= 1e-5, `pad ${pad}: max diff ${maxAbsDiff(padded, unpadded)}`);
    }
    tree.dispose([params, xt, tau]);
  });
});
