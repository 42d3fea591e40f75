/**
 * Parity of vlalab's model with its PyTorch twin (python/vlalab_torch): the same weights, batch, noise
 * and flow times give the same flow-matching loss and the same gradient of every parameter, within 1e-4
 * relative, in jax-js (`lossAndGrad`) and in PyTorch; the same gradients give the same AdamW steps, and
 * the same training config the same learning rate at every step. Skips, saying so, without Debian's
 * python3-torch.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  decodeSafetensors, encodeSafetensors, getConfig, initParams, lossAndGrad, namedLeaves, type Params, type SafeTensor, syntheticBatch,
  random,
} from '../../src/model/index.ts';
import { ADAMW_DEFAULTS, adamwStep, initOptimizers, resolveTrainConfig, stageAt } from '../../src/training/index.ts';
import { flowDraws, PYTHON, pythonEnv, TORCH_INSTALL, torchMissing } from '../helpers/torch.ts';

/** Every parameter of a tree as named safetensors entries (the tree is not consumed). */
async function tensorsOf(tree: Params, prefix = ''): Promise<[string, SafeTensor][]> {
  const out: [string, SafeTensor][] = [];
  for (const [name, arr] of namedLeaves(tree)) out.push([prefix + name, { dtype: 'F32', shape: arr.shape, data: (await arr.ref.data()) as Float32Array }]);
  return out;
}

/** Runs `python3 -m vlalab_torch.grad` on `tensors`; returns what it wrote. */
function runTwin(dir: string, tensors: [string, SafeTensor][], metadata: Record<string, string>): Map<string, SafeTensor> {
  writeFileSync(join(dir, 'in.safetensors'), encodeSafetensors(tensors, metadata));
  const r = spawnSync(PYTHON, ['-m', 'vlalab_torch.grad', join(dir, 'in.safetensors'), join(dir, 'out.safetensors')], { encoding: 'utf8', env: pythonEnv(), timeout: 60_000 });
  assert.equal(r.status, 0, `python3 -m vlalab_torch.grad failed:\n${r.stderr}`);
  return decodeSafetensors(readFileSync(join(dir, 'out.safetensors'))).tensors;
}

const missing = torchMissing();
if (missing) process.stdout.write(`# SKIPPED torch parity test: ${missing}; install with ${TORCH_INSTALL}\n`);

/**
 * ||a - b||_2 / ||b||_2 over one tensor (||a - b|| when b is 0). Per element, two float32 programs that
 * sum in other orders differ by more on small entries: against a float64 evaluation both sides reach
 * ~1e-4 of the largest entry on the action keys' gradients, ~4e-5 in norm.
 */
function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

test('the same weights and batch give the same loss and gradients in vlalab and PyTorch', { skip: missing && `python3-torch missing: ${missing}` }, async () => {
  const c = getConfig('debug');
  const B = 4;
  const params = initParams(c, 3);
  const batch = syntheticBatch(c, B, 5); // odd samples miss their last view; values in unused dims
  const seed = 11;
  const { loss, grads } = lossAndGrad(c, params, batch, random.key(seed));
  const { x0, tau } = await flowDraws(c, B, seed);

  const tensors = await tensorsOf(params);
  for (const [field, t] of Object.entries(batch)) tensors.push([`batch.${field}`, { dtype: t.data instanceof Int32Array ? 'I32' : 'F32', shape: t.shape, data: t.data }]);
  tensors.push(['x0', { dtype: 'F32', shape: [B, c.actionHorizon, c.actionDim], data: x0 }], ['tau', { dtype: 'F32', shape: [B], data: tau }]);
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-parity-'));
  try {
    const out = runTwin(dir, tensors, { config: JSON.stringify(c) });

    const tsLoss = (await loss.data())[0];
    const pyLoss = out.get('loss')!.data[0];
    assert.ok(tsLoss > 0.1, `loss ${tsLoss} should be that of an untrained model`);
    assert.ok(Math.abs(tsLoss - pyLoss) <= 1e-4 * Math.abs(pyLoss), `loss: vlalab ${tsLoss} vs torch ${pyLoss}`);
    let worst = { name: '', err: 0 };
    let checked = 0;
    for (const [name, g] of namedLeaves(grads)) {
      const mine = (await g.data()) as Float32Array;
      const theirs = out.get(name);
      assert.ok(theirs, `torch returned no gradient for ${name}`);
      assert.deepEqual(theirs.shape, g.shape, name);
      const err = relError(mine, theirs.data as Float32Array);
      if (err > worst.err) worst = { name, err };
      checked++;
    }
    assert.equal(checked, namedLeaves(params).length);
    assert.ok(worst.err <= 1e-4, `gradient of ${worst.name}: ||vlalab - torch|| / ||torch|| = ${worst.err}`);
    // a positive control: other noise must change the loss, so the comparison can fail
    const other = lossAndGrad(c, params, batch, random.key(seed + 1));
    assert.ok(Math.abs((await other.loss.data())[0] - pyLoss) > 1e-3 * pyLoss, 'the loss does not depend on the noise');
    process.stdout.write(`# parity: loss ${tsLoss} vs ${pyLoss}; worst gradient ${worst.name} rel ${worst.err.toExponential(2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same gradients give the same AdamW steps and the same schedule in vlalab and PyTorch', { skip: missing && `python3-torch missing: ${missing}` }, async () => {
  const c = getConfig('debug');
  const batch = syntheticBatch(c, 4, 6);
  let params = initParams(c, 4);
  const p0 = await tensorsOf(params);
  const grads = [lossAndGrad(c, params, batch, random.key(1)).grads, lossAndGrad(c, params, batch, random.key(2)).grads];
  const train = resolveTrainConfig('debug', { curriculum: 'two-stage', steps: 40, stage1Fraction: 0.25, warmupRatio: 0.1 });
  const lrs = [stageAt(train, 0).lr, stageAt(train, 25).lr];
  const opt = { ...ADAMW_DEFAULTS, weightDecay: 0.1, maxGradNorm: 1 }; // clipping active: these gradients' norms are > 1
  const inputs = [...p0, ...(await tensorsOf(grads[0], 'grad0.')), ...(await tensorsOf(grads[1], 'grad1.'))];
  let state = initOptimizers(params);
  for (let i = 0; i < 2; i++) {
    const a = adamwStep(params.action, grads[i].action, state.action, lrs[i], opt);
    const s = adamwStep(params.semantic, grads[i].semantic, state.semantic, lrs[i], opt);
    params = { semantic: s.params, action: a.params };
    state = { semantic: s.state, action: a.state };
  }
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-parity-'));
  try {
    const out = runTwin(dir, inputs, { optimizer: JSON.stringify({ weightDecay: opt.weightDecay, clipNorm: opt.maxGradNorm, lrs, train }) });
    const start = new Map(p0);
    let worst = { name: '', err: 0 };
    for (const [name, arr] of namedLeaves(params)) {
      const before = start.get(name)!.data as Float32Array;
      const mine = (await arr.ref.data()) as Float32Array;
      const theirs = out.get(name)!.data as Float32Array;
      const err = relError(mine.map((x, i) => x - before[i]), theirs.map((x, i) => x - before[i])); // of the updates
      if (err > worst.err) worst = { name, err };
    }
    assert.ok(worst.err <= 1e-4, `AdamW update of ${worst.name}: ||vlalab - torch|| / ||torch|| = ${worst.err}`);
    const lr = out.get('lr')!.data as Float32Array;
    assert.equal(lr.length, train.steps);
    for (let s = 0; s < train.steps; s++) {
      const want = stageAt(train, s).lr;
      assert.ok(Math.abs(lr[s] - want) <= 1e-6 * want, `step ${s}: lr ${lr[s]} vs vlalab ${want}`);
    }
    assert.notEqual(stageAt(train, 9).lr, stageAt(train, 10).lr, 'the schedule should change stage at step 10');
    process.stdout.write(`# AdamW parity: worst update ${worst.name} rel ${worst.err.toExponential(2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
