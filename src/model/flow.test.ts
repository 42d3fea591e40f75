import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aimPoints, getConfig, initParams, lossAndGrad, namedLeaves, sampleActions, syntheticBatch } from './index.ts';
import { random, tree } from './backend.ts';
import { assertClose, maxAbsDiff } from '../../test/helpers/close.ts';
import type { Batch, Params } from './index.ts';
import { buildParams } from './params.ts';

const c = getConfig('debug');

/** Host copies of every parameter, by name. */
async function hostParams(p: Params): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, a] of namedLeaves(p)) out.set(n, (await a.ref.data()) as Float32Array);
  return out;
}

async function lossOf(p: Params, batch: Batch, seed: number): Promise<number> {
  const { loss, grads } = lossAndGrad(c, p, batch, random.key(seed));
  tree.dispose(grads);
  return (await loss.data())[0];
}

describe('flow-matching MoT (debug config)', () => {
  const params = initParams(c, 0);
  const batch = syntheticBatch(c, 3, 1);

  it('samples the same chunk with and without the prefix cache (1e-5)', async () => {
    const cached = await sampleActions(c, params, batch, random.key(7));
    const full = await sampleActions(c, params, batch, random.key(7), { useCache: false });
    assert.equal(cached.length, 3 * c.actionHorizon * 60);
    assert.ok(maxAbsDiff(cached, full) <= 1e-5, `max diff ${maxAbsDiff(cached, full)}`);
    // masked dims of the sampled chunk are exactly 0; used dims are not
    const mask = batch.actionMask.data;
    assert.ok(cached.every((x, i) => mask[i % 60] === 1 || x === 0));
    assert.ok(cached.some((x, i) => mask[i % 60] === 1 && x !== 0));
  });

  it('gives exactly zero semantic grads when frozen, and the same action grads as the joint pass', async () => {
    const full = lossAndGrad(c, params, batch, random.key(3));
    const frozen = lossAndGrad(c, params, batch, random.key(3), { freezeSemantic: true });
    assertClose((await frozen.loss.data())[0], (await full.loss.data())[0], 1e-5, 'loss');
    for (const [name, g] of namedLeaves(frozen.grads)) {
      const data = await g.ref.data();
      if (name.startsWith('semantic.')) assert.ok(data.every((x) => x === 0), `${name} is not zero`);
    }
    const fullGrads = await hostParams(full.grads);
    let checked = 0;
    for (const [name, g] of namedLeaves(frozen.grads)) {
      if (!name.startsWith('action.')) continue;
      const want = fullGrads.get(name)!;
      const scale = Math.max(...want.map(Math.abs));
      assert.ok(maxAbsDiff(await g.ref.data(), want) <= 1e-4 * Math.max(1, scale), name);
      checked++;
    }
    assert.ok(checked > 10);
    // the joint pass does train the semantic expert
    assert.ok([...fullGrads].some(([n, g]) => n.startsWith('semantic.layers.0') && g.some((x) => x !== 0)));
    tree.dispose([full.grads, frozen.grads]);
  });

  it('ignores the values in masked action and state dims', async () => {
    const scrambled = structuredClone(batch);
    const am = batch.actionMask.data;
    const sm = batch.stateMask.data;
    scrambled.actions.data = batch.actions.data.map((x, i) => (am[i % 60] ? x : 100 * Math.sin(i)));
    scrambled.state.data = batch.state.data.map((x, i) => (sm[i % 60] ? x : -50 + i));
    assert.equal(await lossOf(params, scrambled, 5), await lossOf(params, batch, 5));
    // ... while a used dim does matter
    const changed = structuredClone(batch);
    changed.actions.data[am.indexOf(1)] += 1;
    assert.notEqual(await lossOf(params, changed, 5), await lossOf(params, batch, 5));
  });

  it('matches central finite differences of the loss', async () => {
    const base = await hostParams(params);
    const { grads } = lossAndGrad(c, params, batch, random.key(11));
    const g = await hostParams(grads);
    tree.dispose(grads);
    const probes: [string, number][] = [
      ['semantic.patchEmbed.w', 5], ['semantic.tokenEmbed', batch.tokens.data[0] * c.semanticWidth + 3],
      ['semantic.layers.0.attn.wk', 17], ['semantic.layers.0.mlp.wUp', 40], ['semantic.viewEmbed', 1],
      ['action.stateIn.w', 2 * c.actionWidth + 1], ['action.timeMlpIn.w', 33], ['action.layers.1.attn.wq', 9],
      ['action.layers.0.mlp.wDown', 12], ['action.actionOut.b', 0], ['action.finalNorm', 4],
    ];
    const h = 1e-2;
    for (const [name, idx] of probes) {
      const at = (delta: number) => {
        const p = buildParams(c, (n) => {
          const d = Float32Array.from(base.get(n)!);
          if (n === name) d[idx] += delta;
          return d;
        });
        return lossOf(p, batch, 11).finally(() => tree.dispose(p));
      };
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      const an = g.get(name)![idx];
      assert.ok(Math.abs(fd - an) <= 2e-3 + 0.03 * Math.abs(an), `${name}[${idx}]: analytic ${an} vs finite difference ${fd}`);
    }
  });

  it('draws Beta(1.5, 1)-skewed flow times when asked', async () => {
    const { sampleTau } = await import('./flow.ts');
    const u = await sampleTau(random.key(1), 4000, 'uniform').data();
    const b = await sampleTau(random.key(1), 4000, 'beta').data();
    const mean = (x: ArrayLike<number>) => Array.from(x).reduce((s, v) => s + v, 0) / x.length;
    assertClose(mean(u), 0.5, 0.03, 'uniform mean');
    assertClose(mean(b), 1 - 1.5 / 2.5, 0.03, 'beta mean (1 - E[Beta(1.5, 1)] = 0.4)');
    assert.ok(b.every((x) => x >= 0 && x <= 1));
  });
});

describe('the aim head (debug-conv-aim)', () => {
  const ca = getConfig('debug-conv-aim');
  const plain = getConfig('debug-conv');

  it('adds aimWeight x the aim error of the samples that have a target to the flow loss; its own parameters alone are new', async () => {
    const params = initParams(ca, 0);
    const host = await hostParams(params);
    const reference = await hostParams(initParams(plain, 0));
    assert.deepEqual([...host.keys()].filter((n) => !reference.has(n)), ['semantic.aim.query', 'semantic.aim.out.w', 'semantic.aim.out.b']);
    for (const [n, x] of reference) assert.deepEqual(host.get(n), x, `${n}: initialized as without the head`);
    const batch = syntheticBatch(ca, 6, 2);
    const { aim: head, ...semantic } = tree.ref(params.semantic);
    const withoutHead = { semantic, action: tree.ref(params.action) };
    const flowOnly = lossAndGrad(plain, withoutHead, { ...batch, aim: undefined, aimMask: undefined }, random.key(4));
    const flow = (await flowOnly.loss.data())[0];
    // the aim error by hand, from what aimPoints (the probe) reads off the prefix: the loss's own prediction
    tree.dispose(head!);
    const pred = await aimPoints(ca, params, batch);
    assert.equal(pred.length, 6 * 3);
    let err = 0;
    let n = 0;
    for (let k = 0; k < 6; k++) {
      if (!batch.aimMask!.data[k]) continue;
      for (let j = 0; j < 3; j++) err += (pred[3 * k + j] - batch.aim!.data[3 * k + j]) ** 2;
      n++;
    }
    const withAim = lossAndGrad(ca, params, batch, random.key(4));
    assertClose((await withAim.loss.data())[0], flow + ca.aimWeight! * err / (3 * n), 1e-5, 'loss = flow + weight x aim error');
    assertClose((await withAim.aimLoss!.data())[0], err / (3 * n), 1e-5, 'the aim error alone, as logged');
    assert.equal(flowOnly.aimLoss, undefined, 'no head: no aim error');
    // no target in the batch: the flow loss alone, and the head gets no gradient
    const untargeted = lossAndGrad(ca, params, { ...batch, aimMask: { data: new Float32Array(6), shape: [6] } }, random.key(4));
    assertClose((await untargeted.loss.data())[0], flow, 1e-5, 'loss without targets');
    assert.equal((await untargeted.aimLoss!.data())[0], 0);
    const grads = await hostParams(untargeted.grads);
    assert.ok(grads.get('semantic.aim.out.w')!.every((g) => g === 0));
    assert.ok((await hostParams(withAim.grads)).get('semantic.aim.out.w')!.some((g) => g !== 0), 'with targets the head trains');
    tree.dispose([flowOnly.grads, withAim.grads, untargeted.grads, params]);
  });

  it('aimPoints refuses a model without the head, saying why', async () => {
    const params = initParams(plain, 0);
    await assert.rejects(aimPoints(plain, params, syntheticBatch(plain, 1, 0)), /has no aim head/);
    tree.dispose(params);
  });

  it('does not change sampling: the head is not run (same chunk as the model without it)', async () => {
    const params = initParams(ca, 0);
    const { aim, ...semantic } = tree.ref(params.semantic);
    tree.dispose(aim!);
    const batch = syntheticBatch(ca, 2, 3);
    const a = await sampleActions(ca, params, batch, random.key(5));
    const b = await sampleActions(plain, { semantic, action: tree.ref(params.action) }, batch, random.key(5));
    assert.deepEqual(a, b);
  });
});
