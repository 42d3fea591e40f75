/**
 * Training under torchrun: two CPU processes (gloo) train the debug preset from `vlalab data shards
 * --ranks 2` with python/vlalab_torch; the loss falls, the ranks trained on disjoint halves of every
 * global batch, and the run directory is one vlalab reads unchanged: `loadPolicyParts` (what `vlalab
 * eval` and `vlalab serve` call) loads it and the serving adapter answers with an action chunk.
 * Skips, saying so, without Debian's python3-torch.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { imageKeysFor, makeModelPolicy, testObservation } from '../../src/serving/index.ts';
import { loadPolicyParts, RunDir } from '../../src/training/index.ts';
import { runCli, runCliAsync } from '../helpers/cli.ts';
import { PYTHON, pythonEnv, TORCH_INSTALL, torchMissing } from '../helpers/torch.ts';

const missing = torchMissing();
if (missing) process.stdout.write(`# SKIPPED torchrun test: ${missing}; install with ${TORCH_INSTALL}\n`);

const STEPS = 40;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vlalab-torchrun-'));
  if (missing) return;
  const rec = await runCliAsync(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '2', '--out', join(dir, 'data'), '--json']);
  assert.equal(rec.status, 0, rec.stderr);
  const sh = runCli(['data', 'shards', join(dir, 'data'), '--preset', 'debug', '--steps', String(STEPS), '--ranks', '2', '--out', join(dir, 'shards'), '--json']);
  assert.equal(sh.status, 0, sh.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a command to its end without blocking the event loop. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('two torchrun processes train from the shards and vlalab serves the checkpoint', { skip: missing && `python3-torch missing: ${missing}` }, async () => {
  const out = join(dir, 'run');
  const r = await run(PYTHON, ['-m', 'vlalab_torch.launch', '--standalone', '--nproc_per_node', '2', '-m', 'vlalab_torch.train',
    '--shards', join(dir, 'shards'), '--out', out, '--log-samples', '--quiet'], pythonEnv(), 120_000);
  assert.equal(r.code, 0, `torchrun failed:\n${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(summary.world, 2);
  assert.equal(summary.steps, STEPS);

  // the loss falls
  const metrics = new RunDir(out).readMetrics();
  assert.equal(metrics.at(-1)!.step, STEPS);
  const tail = metrics.slice(-3).reduce((s, m) => s + m.loss, 0) / 3;
  assert.ok(tail < 0.8 * metrics[0].loss, `loss ${metrics[0].loss} -> ${tail} should fall`);

  // each rank trained on its own half of every global batch of 8
  const seen = [0, 1].map((rank) => JSON.parse(readFileSync(join(out, `samples-rank-0000${rank}.json`), 'utf8')).samples as number[]);
  assert.deepEqual(seen.map((s) => s.length), [STEPS * 4, STEPS * 4]);
  const mine = new Set(seen[0]);
  assert.ok(seen[1].every((id) => !mine.has(id)), 'the ranks saw a common sample');
  assert.deepEqual([...seen[0], ...seen[1]].sort((a, b) => a - b), Array.from({ length: STEPS * 8 }, (_, i) => i));

  // vlalab loads the run as its own and acts with it
  const parts = loadPolicyParts(out);
  assert.equal(parts.step, STEPS);
  assert.equal(parts.config.name, 'debug');
  assert.equal(parts.embodiment.name, 'panda7');
  assert.ok(existsSync(join(parts.dir, 'adam-m.safetensors')) && existsSync(join(parts.dir, 'trainer.json')), 'resumable by vlalab train');
  const policy = makeModelPolicy({ ...parts, imageKeys: imageKeysFor(parts.meta.cameras), seed: 0 });
  const reply = await policy.infer(testObservation(new Array(parts.embodiment.stateNames.length).fill(0.1), { side: 64 }));
  const actions = Array.from(reply.actions as ArrayLike<number>);
  assert.deepEqual(reply.shape, [parts.config.actionHorizon, parts.embodiment.actionNames.length]);
  assert.ok(actions.length > 0 && actions.every(Number.isFinite), 'the chunk should be finite numbers');
});
