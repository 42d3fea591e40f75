import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BlindStore, frameCount, recordsDirOf, startDispatcher } from '../../src/eval/index.ts';
import { metadataFor, type Policy, startServer, testObservationSpec } from '../../src/serving/index.ts';
import { BIN, runCli, runCliAsync } from '../helpers/cli.ts';

/** A model that holds panda7 still: chunks of 4 zero actions (7 native dims). */
const still: Policy = {
  metadata: metadataFor(testObservationSpec(8), { embodiment: 'panda7', actionHorizon: 4, actionDim: 7, parameterization: 'absolute' }),
  async infer() {
    return { actions: new Float32Array(4 * 7), shape: [4, 7] };
  },
};

describe('vlalab robot', () => {
  it('is the robot on a blind study\'s robot port: refused with no active trial, waits for one with --wait, runs it and leaves its record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-robot-'));
    const model = await startServer(still, { port: 0 });
    const store = new BlindStore(join(dir, 'study.db'));
    store.create({ name: 'by-hand', models: { 'model-still': model.url }, trialsPerModel: 2, tasks: [{ name: 'pick-place', instruction: 'put the red cube on the plate', rubric: [{ name: 'on the plate', points: 1 }] }] });
    const dispatcher = await startDispatcher(store, { recordEvery: 5 });
    const args = ['robot', '--server', dispatcher.url, '--robot', 'panda7', '--task', 'pick-place'];
    try {
      let r = await runCliAsync(args, { timeoutMs: 120_000 });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^vlalab: error: ws:\/\/127\.0\.0\.1:\d+: bad request: no trial is active; the operator must start the next trial/m);

      const first = store.current()!;
      store.start(first.id);
      r = await runCliAsync([...args, '--json'], { timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.episodes, 1);
      assert.equal(out.tasks[0].seeds[0].success, false, 'a robot held still does not place the cube');
      assert.equal(out.tasks[0].seeds[0].steps, 100, 'the whole step budget ran through the dispatcher');
      assert.ok(frameCount(recordsDirOf(store.file), first.id) > 0, 'the dispatcher kept the trial record');
      store.record(first.id, 0);

      // the robot waits for the operator to start the next trial
      const child = spawn(process.execPath, [BIN, ...args, '--wait', '60'], { env: { ...process.env, FORCE_COLOR: '0' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const second = store.current()!;
      const waitingSaid = new Promise<void>((resolve) => child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (/waiting for the operator to start a trial \(no trial is active/.test(stderr)) resolve();
      }));
      await Promise.race([waitingSaid, exited]);
      store.start(second.id);
      assert.equal(await exited, 0, stderr);
      r = { status: 0, stdout, stderr };
      assert.match(r.stdout, /pick-place\s+1\s+0%/);
      assert.ok(frameCount(recordsDirOf(store.file), second.id) > 0);

      const bad = runCli(['robot', '--server', dispatcher.url, '--robot', 'pnda7', '--task', 'pick-place']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /unknown robot "pnda7"; did you mean "panda7"/);
    } finally {
      await dispatcher.close();
      await model.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
