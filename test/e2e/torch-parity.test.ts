/**
 * Parity of vlalab's model with its PyTorch twin (python/vlalab_torch): the same weights, batch, noise
 * and flow times give the same flow-matching loss and the same gradient of every parameter, within 1e-4
 * relative, in jax-js (`lossAndGrad`) and in PyTorch. Skips, saying so, without Debian's python3-torch.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { random } from '@jax-js/jax';
import {
  decodeSafetensors, encodeSafetensors, getConfig, initParams, lossAndGrad, namedLeaves, type SafeTensor, syntheticBatch,
} from '../../src/model/index.ts';
import { flowDraws, PYTHON, pythonEnv, TORCH_INSTALL, torchMissing } from '../helpers/torch.ts';

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

  const tensors: [string, SafeTensor][] = [];
  for (const [name, arr] of namedLeaves(params)) tensors.push([name, { dtype: 'F32', shape: arr.shape, data: (await arr.ref.data()) as Float32Array }]);
  for (const [field, t] of Object.entries(batch)) tensors.push([`batch.${field}`, { dtype: t.data instanceof Int32Array ? 'I32' : 'F32', shape: t.shape, data: t.data }]);
  tensors.push(['x0', { dtype: 'F32', shape: [B, c.actionHorizon, c.actionDim], data: x0 }], ['tau', { dtype: 'F32', shape: [B], data: tau }]);
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-parity-'));
  try {
    writeFileSync(join(dir, 'in.safetensors'), encodeSafetensors(tensors, { config: JSON.stringify(c) }));
    const r = spawnSync(PYTHON, ['-m', 'vlalab_torch.grad', join(dir, 'in.safetensors'), join(dir, 'out.safetensors')], { encoding: 'utf8', env: pythonEnv(), timeout: 60_000 });
    assert.equal(r.status, 0, `python3 -m vlalab_torch.grad failed:\n${r.stderr}`);
    const out = decodeSafetensors(readFileSync(join(dir, 'out.safetensors'))).tensors;

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
