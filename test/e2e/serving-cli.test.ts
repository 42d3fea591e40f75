/** `vlalab serve`: a real process serving a test policy, a client talking to it, a clean Ctrl-C. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertClose } from '../helpers/close.ts';
import { runCli } from '../helpers/cli.ts';
import { echoChunk, observationParser, PolicyClient, testObservation, testObservationSpec } from '../../src/serving/index.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'vlalab.js');

test('vlalab serve --policy echo answers a client and stops on SIGINT', async () => {
  const child = spawn(process.execPath, [BIN, 'serve', '--policy', 'echo', '--port', '0', '--state-dim', '7', '--horizon', '4', '--action-dim', '7', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = /on (ws:\/\/\S+)/.exec(stdout);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
    });
    const client = await PolicyClient.connect(url);
    assert.equal(client.metadata.action_horizon, 4);
    const obs = testObservation([1, 2, 3, 4, 5, 6, 7], { side: 16, pixel: 9 });
    const r = await client.infer(obs);
    assertClose(r.actions.data as Float32Array, echoChunk(observationParser(testObservationSpec(7))(obs), 4, 7), 1e-6);
    await client.close();
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /stopped after 1 requests/);
});

test('vlalab serve rejects bad input in one line', () => {
  for (const [args, pattern] of [
    [['serve'], /say what to serve: --checkpoint RUN .* or --policy echo\|zero/],
    [['serve', '--policy', 'ecko'], /did you mean "echo"/],
    [['serve', '--policy', 'echo', '--port', 'abc'], /--port must be an integer in \[0, 65535\]/],
    [['serve', '--policy', 'echo', '--horizon', '0'], /--horizon must be an integer in \[1, 1000\]/],
  ] as [string[], RegExp][]) {
    const r = runCli(args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
