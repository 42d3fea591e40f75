/**
 * `vlalab export --onnx`: the exported policy is a standalone ONNX model. Run by onnxruntime-node in
 * a process that never loads jax-js, it gives the chunk the jax engine samples for the same noise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Observation, syntheticBatch } from '../../src/model/index.ts';
import { createSampler, policySignature, requestNoise } from '../../src/serving/index.ts';
import { loadPolicyParts } from '../../src/training/index.ts';
import { maxAbsDiff } from '../helpers/close.ts';
import { runCli } from '../helpers/cli.ts';
import { exportedInputs, policyCheckpoint } from '../helpers/policy-fixture.ts';

let dir: string;
let config: Awaited<ReturnType<typeof policyCheckpoint>>['config'];
before(async () => ({ dir, config } = await policyCheckpoint()));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The string value stored under `key` in the model's metadata_props (a StringStringEntryProto: key = 1, value = 2). */
function metadataValue(model: Buffer, key: string): string {
  const k = Buffer.from(key);
  const at = model.indexOf(Buffer.concat([Buffer.from([0x0a, k.length]), k, Buffer.from([0x12])]));
  assert.ok(at >= 0, `metadata ${key} not found`);
  let p = at + 2 + k.length + 1;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = model[p++];
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return model.subarray(p, p + len).toString();
}

test('export writes a standalone ONNX policy that onnxruntime-node runs without jax-js, matching the jax engine', async () => {
  const file = join(dir, 'policy.onnx');
  const r = runCli(['export', '--onnx', dir, '--out', file, '--steps', '4', '--json'], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(summary.inputs.map((i: { name: string; dims: number[] }) => [i.name, i.dims]), policySignature(config, 1).slice(0, 8).map((v) => [v.name, v.dims]));
  const model = readFileSync(file);
  const policy = JSON.parse(metadataValue(model, 'vlalab.policy'));
  assert.equal(policy.embodiment, 'panda7');
  assert.equal(policy.norm.action.mean.length, 60, 'normalization stats travel with the model');
  assert.equal(JSON.parse(metadataValue(model, 'vlalab.model_config')).name, 'debug');

  const seed = 21;
  const noise = await requestNoise(config, 1, seed);
  const inputs = exportedInputs(config, 4, noise);
  writeFileSync(join(dir, 'inputs.json'), JSON.stringify(inputs));
  // a process that imports onnxruntime-node only
  const script = `
    const ort = require('onnxruntime-node');
    const inputs = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
    (async () => {
      const session = await ort.InferenceSession.create(process.argv[1]);
      const feeds = {};
      for (const [k, t] of Object.entries(inputs)) feeds[k] = new ort.Tensor(t.dtype, t.dtype === 'int32' ? Int32Array.from(t.data) : Float32Array.from(t.data), t.dims);
      const out = await session.run(feeds);
      process.stdout.write(JSON.stringify({ actions: Array.from(out.actions.data), dims: out.actions.dims, jax: Object.keys(require.cache).some((m) => m.includes('jax-js')) }));
    })();`;
  const child = spawnSync(process.execPath, ['-e', script, file, join(dir, 'inputs.json')], { encoding: 'utf8', cwd: join(import.meta.dirname, '..', '..'), timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout);
  assert.equal(out.jax, false);
  assert.deepEqual(out.dims, [1, config.actionHorizon, config.actionDim]);

  const parts = loadPolicyParts(dir);
  const jax = await createSampler(config, parts.params, { engine: 'jax', steps: 4 });
  const want = await jax.sample(syntheticBatch(config, 1, 4) as Observation, seed);
  assert.ok(maxAbsDiff(out.actions, want) <= 1e-4 * Math.max(1, ...Array.from(want, Math.abs)), `max diff ${maxAbsDiff(out.actions, want)}`);
  assert.ok(want.some((x) => Math.abs(x) > 0.1), 'a non-trivial chunk');
});

test('export refuses a file name that is not .onnx and a directory that is not a run', () => {
  const bad = runCli(['export', '--onnx', dir, '--out', join(dir, 'policy.bin')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /\.onnx/);
  const none = runCli(['export', '--onnx', join(dir, 'nope'), '--out', join(dir, 'p.onnx')]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /neither a training run/);
});
