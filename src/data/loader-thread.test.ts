import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getEmbodiment } from '../actions/index.ts';
import { Rng, UserError } from '../util/index.ts';
import { buildWordTokenizer, createDatasetWriter, createLoader, createThreadLoader, type EpisodeFrame, openDataset, type SampleBatch, type ThreadLoaderOptions } from './index.ts';

const e = getEmbodiment('panda7');
const S = 16;

/** A panda7 episode with random images and a drifting pose. */
function episode(rng: Rng, length: number): EpisodeFrame[] {
  return Array.from({ length }, (_, t) => {
    const state = new Float64Array(e.stateNames.length);
    state.set([rng.range(-0.1, 0.1) + 0.01 * t, 0.02 * t, 0.2, 0, 0, 0.1 * t], 0);
    state[13] = t % 2;
    const action = Float64Array.from([0.01 * (t + 1), 0.02 * (t + 1), 0.2, 0, 0, 0.1 * (t + 1), t % 2]);
    const images = Object.fromEntries(['front', 'wrist'].map((c) => [c, Uint8Array.from({ length: S * S * 3 }, () => rng.int(256))]));
    return { images, state, action };
  });
}

describe('the loader thread', () => {
  let dir: string;
  let second: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlalab-lt-'));
    second = join(dir, 'b');
    const rng = new Rng(3);
    for (const [out, tasks] of [[join(dir, 'a'), ['put the red cube on the plate', 'stack the cubes']], [second, ['open the drawer']]] as const) {
      const w = createDatasetWriter(out, { embodiment: 'panda7', imageSize: S });
      tasks.forEach((task, i) => w.addEpisode({ task, frames: episode(rng, 6 + 3 * i) }));
      await w.finalize();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const options = (tokenizer: ReturnType<typeof buildWordTokenizer>): ThreadLoaderOptions => ({
    horizon: 4, mode: 'eef-rel', normMode: 'quantile', batchSize: 5, seed: 7, maxViews: 2, imageSize: 8, maxTokens: 8,
    tokenizer: tokenizer.json, pState: 0.3, pView: 0.4, frameStep: [1, 2], weights: [1, 3], augment: { shift: 1, color: 0.2 }, aim: true,
  });

  it('builds the in-process loader\'s batches, byte for byte, and its normalization stats', async () => {
    const datasets = await Promise.all([join(dir, 'a'), second].map((d) => openDataset(d)));
    const tokenizer = buildWordTokenizer(datasets.flatMap((d) => d.tasks));
    const o = options(tokenizer);
    const local = createLoader(datasets, { ...o, tokenizer });
    const thread = await createThreadLoader([{ dir: join(dir, 'a') }, { dir: second }], o);
    try {
      assert.deepEqual(thread.norm, local.norm);
      // in order with prefetch, then a jump back and a repeat of a handed-out step
      for (const step of [0, 1, 2, 3, 9, 4, 4]) {
        const [a, b] = [await local.batchAt(step), await thread.batchAt(step)];
        assert.ok(b.aim && b.aimMask, 'the aim targets cross the thread');
        for (const k of Object.keys(a) as (keyof SampleBatch)[]) {
          assert.deepEqual(b[k]!.shape, a[k]!.shape, `${k} at step ${step}`);
          assert.deepEqual(b[k]!.data, a[k]!.data, `${k} at step ${step}`);
        }
      }
      assert.deepEqual(thread.prefetched(), [5, 6]);
    } finally {
      await thread.close();
    }
  });

  it('refuses a broken dataset with the reader\'s own message, and a bad step', async () => {
    const broken = join(dir, 'broken');
    const w = createDatasetWriter(broken, { embodiment: 'panda7', imageSize: S });
    w.addEpisode({ task: 'x', frames: episode(new Rng(1), 3) });
    await w.finalize();
    writeFileSync(join(broken, 'meta', 'info.json'), '{"codebase_version": "v9"}');
    await assert.rejects(createThreadLoader([{ dir: broken }], options(buildWordTokenizer(['x']))), (err: Error) => err instanceof UserError && /codebase_version "v9" is not supported/.test(err.message));
    const thread = await createThreadLoader([{ dir: second }], { ...options(buildWordTokenizer(['open the drawer'])), frameStep: [1], weights: [1] });
    await assert.rejects(thread.batchAt(-1), /batchAt needs a step >= 0/);
    await thread.close();
    await assert.rejects(thread.batchAt(0), /the loader was closed/);
  });

  it('holds the process until closed, then lets it end', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = `import { createThreadLoader } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
      const l = await createThreadLoader([{ dir: ${JSON.stringify(second)} }], { horizon: 2, mode: 'eef-rel', normMode: 'quantile', batchSize: 2, seed: 0, maxViews: 2, imageSize: 8, maxTokens: 4 });
      const b = await l.batchAt(0);
      console.log(b.images.shape.join('x'));
      setTimeout(() => console.log('still here'), 300);
      setTimeout(() => l.close().then(() => console.log('closed')), 600);`;
    const file = join(dir, 'one-batch.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '2x2x8x8x3\nstill here\nclosed');
  });
});
