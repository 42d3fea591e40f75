/**
 * Interoperability with openpi's Python client: test/e2e/serving_interop.py encodes observations
 * exactly as openpi_client.msgpack_numpy does (bytes keys, numpy arrays and scalars) with Debian's
 * python3-msgpack, python3-websockets and python3-numpy, and checks the actions it decodes.
 * Skips, saying so, where /usr/bin/python3 lacks those modules (.ci/run installs them).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { makeTestPolicy, startServer } from '../../src/serving/index.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./serving_interop.py', import.meta.url));

function missingModules(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import msgpack, websockets, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found`;
  if (r.status !== 0) return r.stderr.trim().split('\n').at(-1);
}

const missing = missingModules();
if (missing) {
  process.stdout.write(`# SKIPPED serving interop test: ${missing}; install with apt-get install -y python3-msgpack python3-websockets python3-numpy\n`);
}

test('openpi-style Python client gets correct actions, timings, and a 1011 on a str-keyed array', { skip: missing && `python modules missing: ${missing}` }, async () => {
  const server = await startServer(makeTestPolicy('echo', { stateDim: 8, actionHorizon: 10, actionDim: 7 }), { port: 0 });
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [SCRIPT, server.url], { timeout: 30_000 }, (err, out, errText) => (err ? reject(new Error(`${err.message}\n${errText}`)) : resolve(out))),
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
    assert.deepEqual(r.healthz, [200, 'OK\n']);
    assert.equal(r.metadata.action_horizon, 10);
    assert.equal(r.metadata.action_dim, 7);
    assert.equal(r.dtype, '<f4');
    assert.deepEqual(r.shape, [10, 7]);
    assert.ok(r.max_abs_error < 1e-5, `max |actions - expected| = ${r.max_abs_error}`);
    assert.deepEqual(r.timing_keys, ['infer_ms', 'prev_total_ms']);
    assert.equal(r.error_is_text, true);
    assert.match(r.error_text, /"__ndarray__" is a str key; numpy maps need bin/);
    assert.equal(r.close_code, 1011);
    assert.equal(server.served(), 5);
  } finally {
    await server.close();
  }
});
