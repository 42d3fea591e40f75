/**
 * `vlalab serve --checkpoint`: a checkpoint directory as `vlalab train` writes it (debug model,
 * policy.json with panda7, world-rel actions, z-score stats, two cameras) served by a real process;
 * its chunks must equal the in-process adapter's for the same seed, in native absolute panda7 actions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UNIFIED_DIM } from '../../src/actions/index.ts';
import { getConfig, initParams, saveCheckpoint } from '../../src/model/index.ts';
import { imageKeysFor, makeModelPolicy, ndarray, PolicyClient, testObservation } from '../../src/serving/index.ts';
import { loadPolicyParts, POLICY_FILE, policyMeta } from '../../src/training/index.ts';
import { Rng } from '../../src/util/index.ts';
import { assertClose } from '../helpers/close.ts';
import { runCli } from '../helpers/cli.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'vlalab.js');
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vlalab-serve-'));
  const rng = new Rng(5);
  const vec = (f: () => number) => Array.from({ length: UNIFIED_DIM }, f);
  const stats = () => ({ mean: vec(() => rng.normal() * 0.1), std: vec(() => 0.2 + rng.uniform()) });
  const config = getConfig('debug');
  await saveCheckpoint(dir, config, initParams(config, 3));
  const meta = policyMeta({ embodiment: 'panda7', parameterization: 'world-rel', normMode: 'zscore', cameras: ['front', 'wrist'], executeSteps: 4, norm: { state: stats(), action: stats() }, instruction: 'pick up the cube' });
  writeFileSync(join(dir, POLICY_FILE), JSON.stringify(meta));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function serve(args: string[]): Promise<{ url: string; stop: () => Promise<{ code: number | null; stdout: string; stderr: string }> }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /on (ws:\/\/\S+)/.exec(stdout);
      if (m) resolve({ url: m[1], stop: async () => (child.kill('SIGINT'), { code: await exited, stdout, stderr }) });
    });
    child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
}

test('vlalab serve --checkpoint answers with native panda7 chunks equal to the in-process adapter', async () => {
  const server = await serve(['--checkpoint', dir, '--steps', '2', '--seed', '11']);
  try {
    const client = await PolicyClient.connect(server.url);
    const m = client.metadata;
    assert.equal(m.embodiment, 'panda7');
    assert.equal(m.action_horizon, 8);
    assert.equal(m.action_dim, 7);
    assert.equal(m.state_dim, 14);
    assert.equal(m.execute_steps, 4);
    assert.deepEqual(m.observation_keys, ['observation/image', 'observation/wrist_image', 'observation/state', 'prompt']);
    const state = Array.from({ length: 14 }, (_, i) => 0.05 * Math.cos(i));
    const obs = { ...testObservation(state, { side: 64, pixel: 140, prompt: 'pick up the cube' }) };
    const { prompt: _, ...noPrompt } = obs;
    const served = [await client.infer(obs), await client.infer(noPrompt)];
    await client.close();

    const parts = loadPolicyParts(dir);
    const local = makeModelPolicy({ ...parts, imageKeys: imageKeysFor(parts.meta.cameras), seed: 11, steps: 2, defaultPrompt: parts.meta.instruction });
    // request i uses noise key seed + i, and a missing prompt means the run's instruction
    for (const [i, o] of [obs, obs].entries()) {
      const want = await local.infer(o);
      assert.deepEqual(served[i].actions.shape, [8, 7]);
      assertClose(served[i].actions.data as Float32Array, want.actions, 1e-4, `request ${i}`);
    }
    // different noise keys give different chunks: the comparison above is not vacuous
    assert.ok(Math.abs((served[0].actions.data as Float32Array)[0] - (served[1].actions.data as Float32Array)[0]) > 1e-6);
  } finally {
    const { code, stdout, stderr } = await server.stop();
    assert.equal(code, 0, stderr);
    assert.match(stdout, /stopped after 2 requests/);
  }
});

test('vlalab serve --checkpoint rejects bad input in one line', () => {
  for (const [args, pattern] of [
    [['serve', '--checkpoint', join(dir, 'nope')], /is neither a training run \(no latest.json\) nor a checkpoint/],
    [['serve', '--checkpoint', dir, '--policy', 'echo'], /--checkpoint RUN .* or --policy .*not both/],
    [['serve', '--checkpoint', dir, '--steps', '0'], /--steps must be an integer in \[1, 1000\]/],
  ] as [string[], RegExp][]) {
    const r = runCli(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a wrong state size is a bad request (text frame, 1011), not a crash', async () => {
  const server = await serve(['--checkpoint', dir, '--steps', '1']);
  try {
    const client = await PolicyClient.connect(server.url);
    const obs = testObservation(new Array(14).fill(0), { side: 32 });
    obs['observation/state'] = ndarray('<f4', [7], new Float32Array(7));
    await assert.rejects(client.infer(obs), /"observation\/state" must have shape \[14\], got \[7\]/);
    await client.close();
  } finally {
    await server.stop();
  }
});
