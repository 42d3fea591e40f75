/**
 * Where onnxruntime-node cannot load, commands fall back to the jax engine with one line saying so
 * (simulated with a module hook that makes the package fail to resolve).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN } from '../helpers/cli.ts';
import { policyCheckpoint } from '../helpers/policy-fixture.ts';

let dir: string;
before(async () => ({ dir } = await policyCheckpoint()));
after(() => rmSync(dir, { recursive: true, force: true }));

const HOOK = join(import.meta.dirname, '..', 'helpers', 'without-ort.mjs');
const evalOnce = (env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, 'eval', '--checkpoint', dir, '--task', 'pick-place', '--episodes', '1', '--json'], {
  encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0', ...env },
});

test('without onnxruntime-node, eval says so in one line and runs on the jax engine', () => {
  const r = evalOnce({ NODE_OPTIONS: `--import=${HOOK}` });
  assert.equal(r.status, 0, r.stderr);
  const notes = r.stderr.split('\n').filter((l) => l.includes('onnxruntime-node cannot load'));
  assert.equal(notes.length, 1, r.stderr);
  assert.match(notes[0], /simulated: no onnxruntime-node binary.*running on the jax engine/);
  assert.equal(JSON.parse(r.stdout).episodes, 1);
});

test('with onnxruntime-node, nothing is said about engines', () => {
  const r = evalOnce();
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /cannot load/);
});

test('an unknown --engine is one line that names the choices', () => {
  const r = spawnSync(process.execPath, [BIN, 'eval', '--checkpoint', dir, '--task', 'pick-place', '--engine', 'cuda'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--engine must be ort or jax, got "cuda"/);
});
