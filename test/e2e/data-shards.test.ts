/**
 * `vlalab data shards`: the rows read back from the shards (by vlalab's reader and by
 * python/vlalab_torch's) are byte for byte the batches of the training loader for the same (seed, step),
 * each step's batch split disjointly over the ranks. A two-robot mixture with sensory dropout, so that
 * masks, absent views and both embodiments' rows are all compared.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLoader, type SampleBatch } from '../../src/data/index.ts';
import { decodeSafetensors, getConfig } from '../../src/model/index.ts';
import { resolveTrainConfig } from '../../src/training/index.ts';
import { readShardBatch, readShardIndex } from '../../src/cli/shards.ts';
import { openTrainingData } from '../../src/cli/train.ts';
import { runCli, runCliAsync } from '../helpers/cli.ts';
import { PYTHON, pythonEnv, TORCH_INSTALL, torchMissing } from '../helpers/torch.ts';

const FIELDS = ['images', 'imageMask', 'tokens', 'tokenMask', 'state', 'stateMask', 'actionMask', 'actions'] as const;
const bytes = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('vlalab data shards', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlalab-shards-'));
    const rec = await Promise.all([['panda7', 'a'], ['so5', 'b']].map(([robot, out]) =>
      runCliAsync(['sim', 'record', '--robot', robot, '--task', 'pick-place', '--episodes', '1', '--out', join(dir, out), '--json'])));
    for (const r of rec) assert.equal(r.status, 0, r.stderr);
    writeFileSync(join(dir, 'mix.json'), JSON.stringify({ name: 'two', datasets: [{ path: 'a', frame_step_size: 1, category: 'sim' }, { path: 'b', frame_step_size: 2, weight: 2, category: 'sim' }] }));
    writeFileSync(join(dir, 'drop.json'), JSON.stringify({ pState: 0.3, pView: 0.4 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives each rank its share of the loader\'s exact batches, readable from TypeScript and Python', async () => {
    const out = join(dir, 'shards');
    const r = runCli(['data', 'shards', join(dir, 'mix.json'), '--preset', 'debug', '--config', join(dir, 'drop.json'), '--ranks', '2', '--steps', '12', '--seed', '3', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.samples, 12 * 8);
    const ix = readShardIndex(out);
    assert.equal(ix.imageEncoding, 'u8');
    assert.deepEqual([ix.ranks, ix.rankBatch, ix.steps], [2, 4, 12]);

    // the loader `vlalab train` builds for this preset and data (cli/train.ts trainOnDatasets)
    const config = resolveTrainConfig('debug', { pState: 0.3, pView: 0.4, steps: 12, seed: 3 });
    const model = getConfig(config.model);
    const data = await openTrainingData(join(dir, 'mix.json'));
    const loader = createLoader(data.datasets, {
      frameStep: data.frameStep, weights: data.weights, horizon: model.actionHorizon, mode: config.eefMode, normMode: config.normMode,
      batchSize: config.batchSize, seed: config.seed, maxViews: model.maxViews, imageSize: model.imageSize, maxTokens: model.maxTokens,
      pState: config.pState, pView: config.pView,
    });
    const steps = [0, 5, 11];
    const expected: SampleBatch[] = [];
    let absentViews = 0;
    const embodiments = new Set<string>();
    for (const step of steps) {
      const want = await loader.batchAt(step);
      expected.push(want);
      const parts = [0, 1].map((rank) => readShardBatch(out, step, rank));
      for (const f of FIELDS) {
        const got = Buffer.concat(parts.map((p) => bytes(p.batch[f].data)));
        assert.ok(got.equals(bytes(want[f].data)), `step ${step}: field ${f} differs from the loader's batch`);
      }
      assert.deepEqual(parts.flatMap((p) => p.samples.map(Number)), Array.from({ length: 8 }, (_, k) => step * 8 + k));
      absentViews += want.imageMask.data.filter((m) => m === 0).length;
      for (let k = 0; k < 8; k++) embodiments.add(want.actionMask.data.subarray(k * 60, (k + 1) * 60).join(''));
    }
    assert.ok(absentViews > 0, 'view dropout should have removed some views');
    assert.equal(embodiments.size, 2, 'both robots should appear');
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'policy.json'), 'utf8')).norm, loader.norm[0]);

    const missing = torchMissing();
    if (missing) {
      process.stdout.write(`# SKIPPED the Python shard reader check: ${missing}; install with ${TORCH_INSTALL}\n`);
      return;
    }
    const dump = join(dir, 'py.safetensors');
    const script = [
      'import sys; from vlalab_torch.shards import Shards; from vlalab_torch import safetensors',
      'out = []',
      'for rank in (0, 1):',
      '    s = Shards(sys.argv[1], rank)',
      `    for step in ${JSON.stringify(steps)}:`,
      '        b, ids = s.batch(step)',
      '        out += [(f"{step}.{rank}.{k}", v) for k, v in b.items()]',
      'safetensors.save(sys.argv[2], out)',
    ].join('\n');
    const py = spawnSync(PYTHON, ['-c', script, out, dump], { encoding: 'utf8', env: pythonEnv(), timeout: 60_000 });
    assert.equal(py.status, 0, py.stderr);
    const t = decodeSafetensors(readFileSync(dump)).tensors;
    steps.forEach((step, i) => {
      for (const f of FIELDS) {
        const got = Buffer.concat([0, 1].map((rank) => bytes(t.get(`${step}.${rank}.${f}`)!.data)));
        assert.ok(got.equals(bytes(expected[i][f].data)), `python reader, step ${step}: field ${f} differs from the loader's batch`);
      }
    });
  });

  it('refuses a rank count that does not divide the batch, and a directory that holds shards', () => {
    const bad = runCli(['data', 'shards', join(dir, 'a'), '--preset', 'debug', '--ranks', '3', '--steps', '2', '--out', join(dir, 'x')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--ranks 3 does not divide the batch size 8/);
    assert.equal(runCli(['data', 'shards', join(dir, 'a'), '--preset', 'debug', '--steps', '2', '--out', join(dir, 'y')]).status, 0);
    const again = runCli(['data', 'shards', join(dir, 'a'), '--preset', 'debug', '--steps', '2', '--out', join(dir, 'y')]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /is not empty; choose another --out/);
  });
});
