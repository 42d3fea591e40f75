import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { getEmbodiment, makeNormalizer, stateToUnified } from '../actions/index.ts';
import { Rng } from '../util/index.ts';
import { computeStats, createDatasetWriter, createLoader, datasetNormStats, type Dataset, type EpisodeFrame, formatPath, nextGripperEvents, openDataset, quantileSorted, tokenizePadded, detokenize, TOKENS, BYTE_TOKENIZER, buildWordTokenizer, tokenizerFromJson, truncationReport, truncationWarning } from './index.ts';

const e = getEmbodiment('panda7');
const S = 16;

/** A synthetic panda7 episode: smooth EEF targets, random images. */
function episode(rng: Rng, length: number): EpisodeFrame[] {
  const x0 = rng.range(-0.1, 0.1);
  return Array.from({ length }, (_, t) => {
    const state = new Float64Array(e.stateNames.length);
    state.set([x0 + 0.01 * t, 0.02 * t, 0.2, 0, 0, 0.1 * t], 0);
    for (let j = 0; j < 7; j++) state[6 + j] = rng.range(-1, 1);
    state[13] = t < length / 2 ? 1 : 0;
    const action = Float64Array.from([x0 + 0.01 * (t + 1), 0.02 * (t + 1), 0.2, 0, 0, 0.1 * (t + 1), t < length / 2 ? 1 : 0]);
    const images = Object.fromEntries(['front', 'wrist'].map((c) => [c, Uint8Array.from({ length: S * S * 3 }, () => rng.int(256))]));
    return { images, state, action };
  });
}

describe('LeRobot v3.0 datasets', () => {
  let dir: string;
  let frames: EpisodeFrame[][];
  let ds: Dataset;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlalab-ds-'));
    const rng = new Rng(0);
    frames = [episode(rng, 7), episode(rng, 5), episode(rng, 9)];
    const w = createDatasetWriter(dir, { embodiment: 'panda7', imageSize: S });
    frames.forEach((f, i) => w.addEpisode({ task: i === 1 ? 'stack the cubes' : 'put the red cube on the plate', frames: f }));
    assert.deepEqual(await w.finalize(), { episodes: 3, frames: 21 });
    ds = await openDataset(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips frames, actions, tasks and episodes', () => {
    assert.equal(ds.info.codebase_version, 'v3.0');
    assert.equal(ds.embodiment.name, 'panda7');
    assert.deepEqual(ds.cameras, ['front', 'wrist']);
    assert.deepEqual(ds.episodes.map((x) => [x.from, x.to, x.task]), [[0, 7, 'put the red cube on the plate'], [7, 12, 'stack the cubes'], [12, 21, 'put the red cube on the plate']]);
    let i = 0;
    for (const ep of frames) {
      for (const f of ep) {
        assert.deepEqual(Array.from(ds.state.subarray(i * 14, i * 14 + 14)), Array.from(f.state, Math.fround));
        assert.deepEqual(Array.from(ds.action.subarray(i * 7, i * 7 + 7)), Array.from(f.action, Math.fround));
        assert.deepEqual(ds.image('front', i), f.images.front);
        assert.deepEqual(ds.image('wrist', i), f.images.wrist);
        i++;
      }
    }
  });

  it('writes stats that match the data', () => {
    const stats = JSON.parse(readFileSync(join(dir, 'meta/stats.json'), 'utf8'));
    const xs = frames.flat().map((f) => Math.fround(f.action[0]));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(stats.action.mean[0] - mean) < 1e-9);
    assert.equal(stats.action.min[0], Math.min(...xs));
    assert.equal(stats.action.count[0], 21);
    for (const k of ['q01', 'q10', 'q50', 'q90', 'q99', 'std', 'max']) assert.equal(stats['observation.state'][k].length, 14);
    // image stats: per channel in [0, 1], shaped [3, 1, 1], equal to the sorted pixels' statistics
    const greens = Float64Array.from(frames.flat().flatMap((f) => Array.from(f.images.wrist).filter((_, p) => p % 3 === 1))).sort();
    const img = stats['observation.images.wrist'];
    assert.deepEqual(img.count, [21]);
    assert.ok(Math.abs(img.mean[1][0][0] - greens.reduce((a, b) => a + b, 0) / greens.length / 255) < 1e-12);
    for (const [k, q] of [['q01', 0.01], ['q50', 0.5], ['q99', 0.99], ['min', 0], ['max', 1]] as const) {
      assert.ok(Math.abs(img[k][1][0][0] - quantileSorted(greens, q) / 255) < 1e-12, k);
    }
  });

  it('is read by DuckDB with the same values (FLOAT[] lists, image structs)', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const file = join(dir, 'data/chunk-000/file-000.parquet');
    const r = await c.runAndReadAll(`select typeof(action) as t, typeof("observation.images.front") as ti, action, episode_index, frame_index from '${file}' order by index`);
    const rows = r.getRowObjectsJson() as { t: string; ti: string; action: number[]; episode_index: string; frame_index: string }[];
    assert.equal(rows.length, 21);
    assert.equal(rows[0].t, 'FLOAT[]');
    assert.equal(rows[0].ti, 'STRUCT(bytes BLOB, path VARCHAR)');
    rows.forEach((row, i) => assert.deepEqual(row.action.map(Number), Array.from(ds.action.subarray(i * 7, i * 7 + 7))));
    assert.deepEqual(rows.map((x) => Number(x.episode_index)), ds.episodes.flatMap((ep, k) => Array(ep.length).fill(k)));
    const tasks = (await c.runAndReadAll(`select task_index, task from '${join(dir, 'meta/tasks.parquet')}' order by task_index`)).getRowObjectsJson();
    assert.deepEqual(tasks.map((t) => t.task), ['put the red cube on the plate', 'stack the cubes']);
    const eps = (await c.runAndReadAll(`select typeof(tasks) as t, tasks, dataset_from_index from '${join(dir, 'meta/episodes/chunk-000/file-000.parquet')}' order by episode_index`)).getRowObjectsJson();
    assert.equal(eps[0].t, 'VARCHAR[]');
    assert.deepEqual(eps.map((x) => x.tasks), [['put the red cube on the plate'], ['stack the cubes'], ['put the red cube on the plate']]);
    assert.deepEqual(eps.map((x) => Number(x.dataset_from_index)), [0, 7, 12]);
    c.closeSync();
  });

  it('splits data files at fileSizeMb (whole episodes) and reads them back in order', async () => {
    const split = mkdtempSync(join(tmpdir(), 'vlalab-split-'));
    try {
      const w = createDatasetWriter(split, { embodiment: 'panda7', imageSize: S, fileSizeMb: 0.001 }); // every episode over 1 kB
      frames.forEach((f, i) => w.addEpisode({ task: `task ${i % 2}`, frames: f }));
      await w.finalize();
      for (const f of ['000', '001', '002']) assert.ok(existsSync(join(split, `data/chunk-000/file-${f}.parquet`)), `file-${f} missing`);
      const back = await openDataset(split);
      assert.equal(back.info.data_files_size_in_mb, 0.001);
      assert.deepEqual(back.episodes.map((x) => [x.from, x.to]), ds.episodes.map((x) => [x.from, x.to]));
      assert.deepEqual(back.state, ds.state);
      assert.deepEqual(back.action, ds.action);
      for (const i of [0, 7, 12, 20]) assert.deepEqual(back.image('front', i), ds.image('front', i));
    } finally {
      rmSync(split, { recursive: true, force: true });
    }
    assert.equal(formatPath('data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet', { chunk_index: 1, file_index: 12 }), 'data/chunk-001/file-012.parquet');
    assert.throws(() => formatPath('videos/{video_key}/x.mp4', {}), /\{video_key\}/);
  });

  it('returns the same images with the decoded-frame cache off', async () => {
    const uncached = await openDataset(dir, { imageCacheBytes: 0 });
    for (const i of [0, 7, 20]) assert.deepEqual(uncached.image('wrist', i), ds.image('wrist', i));
    assert.notEqual(uncached.image('front', 3), uncached.image('front', 3)); // decoded afresh each time
    assert.equal(ds.image('front', 3), ds.image('front', 3)); // cached
  });

  it('names the file and the problem for broken datasets', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'vlalab-bad-'));
    try {
      await assert.rejects(openDataset(broken), /meta\/info.json is missing/);
      const copy = (p: string) => writeFileSync(join(broken, p), readFileSync(join(dir, p)));
      const { mkdirSync } = await import('node:fs');
      for (const d of ['meta/episodes/chunk-000', 'data/chunk-000']) mkdirSync(join(broken, d), { recursive: true });
      for (const p of ['meta/info.json', 'meta/tasks.parquet', 'meta/episodes/chunk-000/file-000.parquet']) copy(p);
      await assert.rejects(openDataset(broken), /data\/chunk-000\/file-000.parquet is missing/);
      const data = readFileSync(join(dir, 'data/chunk-000/file-000.parquet'));
      writeFileSync(join(broken, 'data/chunk-000/file-000.parquet'), data.subarray(0, data.length - 100));
      await assert.rejects(openDataset(broken), /file-000.parquet is not a readable parquet file.*truncated/);
      const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8'));
      writeFileSync(join(broken, 'meta/info.json'), JSON.stringify({ ...info, robot_type: 'koch' }));
      await assert.rejects(openDataset(broken), /robot_type "koch" is not a registered embodiment; pass --embodiment/);
      info.features.action.shape = [8];
      writeFileSync(join(broken, 'meta/info.json'), JSON.stringify(info));
      await assert.rejects(openDataset(broken), /info.json: state\/action have 14\/8 dims but embodiment panda7 has 14\/7/);
      // info.json and the parquet disagree (info rewritten for a 6/6-dim robot, rows still 14/7)
      writeFileSync(join(broken, 'data/chunk-000/file-000.parquet'), data);
      info.features['observation.state'].shape = [6];
      info.features.action.shape = [6];
      writeFileSync(join(broken, 'meta/info.json'), JSON.stringify(info));
      await assert.rejects(openDataset(broken, { embodiment: 'so5' }), /frame 0 has observation.state of length 14 but info.json says 6/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('augments views per (seed, step) and leaves everything else as an unaugmented loader builds it', async () => {
    const opts = { horizon: 4, mode: 'eef-rel' as const, normMode: 'quantile' as const, batchSize: 16, seed: 5, maxViews: 2, imageSize: S, maxTokens: 40, pView: 0.3 };
    const plain = await createLoader([ds], opts).batchAt(3);
    assert.deepEqual(await createLoader([ds], { ...opts, augment: { shift: 0, color: 0 } }).batchAt(3), plain, 'zero augmentation is no augmentation');
    const aug = { ...opts, augment: { shift: 2, color: 0.2 } };
    const a = await createLoader([ds], aug).batchAt(3);
    assert.deepEqual(await createLoader([ds], aug).batchAt(3), a, 'a pure function of (seed, step)');
    assert.notDeepEqual(a.images.data, plain.images.data);
    assert.notDeepEqual((await createLoader([ds], aug).batchAt(4)).images.data, (await createLoader([ds], opts).batchAt(4)).images.data);
    for (const k of ['imageMask', 'tokens', 'tokenMask', 'state', 'stateMask', 'actionMask', 'actions'] as const) assert.deepEqual(a[k], plain[k], k);
    assert.throws(() => createLoader([ds], { ...opts, augment: { shift: S, color: 0 } }), /augment.shift must be an integer in \[0, 8\)/);
  });

  it('aim targets: the normalized EEF position at the episode\'s next gripper event (none after the last)', async () => {
    // each episode's gripper command switches to "close" once, at t = ceil(length / 2): frames 4, 10, 17
    const none = -1;
    assert.deepEqual(Array.from(nextGripperEvents(ds)), [4, 4, 4, 4, 4, none, none, 10, 10, 10, 10, none, 17, 17, 17, 17, 17, 17, none, none, none]);
    const opts = { horizon: 4, mode: 'eef-rel' as const, normMode: 'quantile' as const, batchSize: 64, seed: 3, maxViews: 2, imageSize: S, maxTokens: 40, pState: 0.5 };
    const loader = createLoader([ds], { ...opts, aim: true });
    const b = await loader.batchAt(0);
    const norm = makeNormalizer(loader.norm[0].state, e.stateMask, 'quantile');
    const eef = (i: number) => Array.from(norm.normalize(stateToUnified(e, ds.state.subarray(i * 14, (i + 1) * 14))).subarray(0, 3), Math.fround);
    const targets = [4, 10, 17].map((i) => JSON.stringify(eef(i)));
    let aimed = 0;
    for (let k = 0; k < 64; k++) {
      const aim = Array.from(b.aim!.data.subarray(3 * k, 3 * k + 3));
      if (b.aimMask!.data[k]) {
        aimed++;
        assert.ok(targets.includes(JSON.stringify(aim)), `sample ${k}: aim ${aim} is none of the events' EEF positions`);
      } else assert.deepEqual(aim, [0, 0, 0]);
    }
    assert.ok(aimed > 32 && aimed < 64, `${aimed} of 64 samples have an aim (15 of the 21 frames do)`);
    const plain = await createLoader([ds], opts).batchAt(0);
    assert.equal(plain.aim, undefined, 'no aim unless asked');
    for (const k of Object.keys(plain) as (keyof typeof plain)[]) assert.deepEqual(b[k], plain[k], `${k}: the rest of the batch is the same`);
  });

  it('normalizes each chunk step by its own stats when asked (normPerStep), and leaves pooled batches as they were', async () => {
    const H = 4;
    const opts = { horizon: H, mode: 'eef-rel' as const, normMode: 'quantile' as const, batchSize: 256, seed: 2, maxViews: 2, imageSize: S, maxTokens: 40 };
    const pooled = createLoader([ds], opts);
    const perStep = createLoader([ds], { ...opts, normPerStep: true });
    assert.equal(pooled.norm[0].actionSteps, undefined);
    assert.equal(perStep.norm[0].actionSteps?.length, H);
    assert.deepEqual(datasetNormStats(ds, H, opts.mode, true), perStep.norm[0], 'the stats a checkpoint stores are the ones the loader normalizes with');
    assert.deepEqual({ ...perStep.norm[0], actionSteps: undefined }, { ...pooled.norm[0], actionSteps: undefined }, 'the pooled stats stay as they were');
    // eef-rel x (dim 0) grows along the chunk: pooled, the first step spans a fraction of [-1, 1]; per step, every step spans it
    const span = (b: Awaited<ReturnType<typeof pooled.batchAt>>, h: number) => {
      const xs = Array.from({ length: b.actions.shape[0] }, (_, k) => b.actions.data[(k * H + h) * 60]);
      return [Math.min(...xs), Math.max(...xs)];
    };
    const [p, q] = [await pooled.batchAt(0), await perStep.batchAt(0)];
    for (let h = 0; h < H; h++) {
      const [lo, hi] = span(q, h);
      assert.ok(lo >= -1.2 && hi <= 1.2 && hi - lo > 1.6, `step ${h} per-step spans [${lo}, ${hi}]`);
    }
    const [lo0, hi0] = span(p, 0);
    assert.ok(hi0 - lo0 < 1.2, `pooled step 0 spans [${lo0}, ${hi0}]`);
    for (const k of ['images', 'tokens', 'state', 'actionMask'] as const) assert.deepEqual(q[k], p[k], k);
  });

  it('computes the stats of rows in several blocks as of the rows joined', () => {
    const rng = new Rng(4);
    const a = Float64Array.from({ length: 4 * 3 }, () => rng.normal());
    const b = Float64Array.from({ length: 7 * 3 }, () => rng.normal());
    const joined = new Float64Array([...a, ...b]);
    assert.deepEqual(computeStats([a, b], 11, 3), computeStats(joined, 11, 3));
    assert.notDeepEqual(computeStats([a], 4, 3), computeStats(joined, 11, 3));
  });

  it('normalizes the datasets of one embodiment by their pooled stats (a rollout set whose gripper is nearly always open)', async () => {
    const rollouts = mkdtempSync(join(tmpdir(), 'vlalab-ds-open-'));
    try {
      const rng = new Rng(9);
      // the gripper label "open" (1) everywhere but one "close" (0) in 120 frames
      const eps = [0, 1, 2].map((e) => episode(rng, 40).map((f, t) => ({ ...f, action: Float64Array.from(f.action, (v, j) => (j === 6 ? Number(e !== 0 || t !== 3) : v)) })));
      const w = createDatasetWriter(rollouts, { embodiment: 'panda7', imageSize: S });
      for (const f of eps) w.addEpisode({ task: 'put the red cube on the plate', frames: f });
      await w.finalize();
      const other = await openDataset(rollouts);
      const opts = { horizon: 4, mode: 'eef-rel' as const, normMode: 'quantile' as const, batchSize: 512, seed: 1, maxViews: 2, imageSize: S, maxTokens: 40 };
      const gripper = 26; // gripper.right in the unified layout
      const largest = async (loader: ReturnType<typeof createLoader>) => {
        const a = (await loader.batchAt(0)).actions.data;
        return Math.max(...Array.from({ length: a.length / 60 }, (_, r) => Math.abs(a[r * 60 + gripper])));
      };
      // alone, its own stats (q01 = q99 = 1) scale the one "close" to -200
      assert.equal(await largest(createLoader([other], opts)), 200);
      const mixed = createLoader([ds, other], opts);
      assert.deepEqual(mixed.norm[0], mixed.norm[1], 'one set of stats for the embodiment');
      assert.notDeepEqual(mixed.norm[0], datasetNormStats(ds, opts.horizon, opts.mode));
      assert.deepEqual([mixed.norm[0].action.q01![gripper], mixed.norm[0].action.q99![gripper]], [0, 1], 'closed and open, from both datasets');
      assert.ok((await largest(mixed)) <= 1 + 1e-6, 'the gripper stays within [-1, 1] in the pooled scale');
    } finally {
      rmSync(rollouts, { recursive: true, force: true });
    }
  });

  it('loads deterministic batches with sensory dropout that never drops every view', async () => {
    const opts = { horizon: 4, mode: 'eef-rel' as const, normMode: 'quantile' as const, batchSize: 64, seed: 3, maxViews: 2, imageSize: S, maxTokens: 40, pState: 0.3, pView: 0.4 };
    const loader = createLoader([ds], opts);
    assert.deepEqual(datasetNormStats(ds, opts.horizon, opts.mode), loader.norm[0], 'the stats a checkpoint stores are the ones the loader normalizes with');
    assert.notDeepEqual(datasetNormStats(ds, opts.horizon, 'world-delta').action, loader.norm[0].action);
    const a = await loader.batchAt(5);
    const b = await createLoader([ds], opts).batchAt(5);
    assert.deepEqual(a, b);
    assert.notDeepEqual((await loader.batchAt(6)).actions.data, a.actions.data);
    assert.deepEqual(a.actions.shape, [64, 4, 60]);
    let noState = 0;
    let views = 0;
    const batches = 40;
    for (let s = 0; s < batches; s++) {
      const x = await loader.batchAt(s);
      for (let k = 0; k < 64; k++) {
        const m = x.imageMask.data.subarray(2 * k, 2 * k + 2);
        assert.ok(m[0] + m[1] >= 1, 'a sample lost every view');
        views += m[0] + m[1];
        if (x.state.data.subarray(60 * k, 60 * k + 60).every((v) => v === 0)) noState++;
        for (let d = 0; d < 60; d++) if (!x.actionMask.data[60 * k + d]) assert.equal(x.actions.data[(k * 4) * 60 + d], 0);
      }
    }
    const n = batches * 64;
    // each view kept with p = 0.6; when both drop (p = 0.16) one comes back: E[views] = 2 * 0.6 + 0.16
    assert.ok(Math.abs(noState / n - 0.3) < 0.04, `state dropout rate ${noState / n}`);
    assert.ok(Math.abs(views / n - 1.36) < 0.05, `views per sample ${views / n}`);
    const t = a.tokens.data.subarray(0, 40);
    assert.ok(['put the red cube on the plate', 'stack the cubes'].includes(detokenize(t)));
  });

  it('prefetches the next steps in later event-loop turns; a batch depends only on (seed, step)', async () => {
    const opts = { horizon: 3, mode: 'world-delta' as const, normMode: 'zscore' as const, batchSize: 8, seed: 11, maxViews: 2, imageSize: S, maxTokens: 16, pState: 0.5, pView: 0.5 };
    const loader = createLoader([ds], { ...opts, prefetch: 2 });
    const first = loader.batchAt(0);
    assert.deepEqual(loader.prefetched(), [1, 2]);
    await first;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const seq = [first, loader.batchAt(1), loader.batchAt(2), loader.batchAt(3)];
    assert.deepEqual(loader.prefetched(), [4, 5]);
    // a resumed run (fresh loader, no prefetch, starting at step 2, out of order) sees the same batches
    const fresh = createLoader([ds], { ...opts, prefetch: 0 });
    assert.deepEqual(await fresh.batchAt(3), await seq[3]);
    assert.deepEqual(await fresh.batchAt(2), await seq[2]);
    assert.deepEqual(fresh.prefetched(), []);
    // a jump drops the stale queue
    void loader.batchAt(100);
    assert.deepEqual(loader.prefetched(), [101, 102]);
    await assert.rejects(loader.batchAt(-1), /step >= 0/);
    assert.throws(() => createLoader([ds], { ...opts, pView: 1.5 }), /pView is a probability in \[0, 1\], got 1.5/);
    assert.throws(() => createLoader([ds], { ...opts, normMode: 'meanstd' as 'zscore' }), /unknown normalization "meanstd"; use zscore or quantile/);
    assert.throws(() => createLoader([ds], { ...opts, horizon: 0 }), /horizon must be an integer >= 1/);
  });

  it('area-resizes views to the model size with the same draws', async () => {
    const base = { horizon: 4, mode: 'eef-rel' as const, normMode: 'quantile' as const, batchSize: 3, seed: 4, maxViews: 2, maxTokens: 40 };
    const big = await createLoader([ds], { ...base, imageSize: S }).batchAt(2);
    const small = await createLoader([ds], { ...base, imageSize: S / 2 }).batchAt(2);
    assert.deepEqual(small.images.shape, [3, 2, S / 2, S / 2, 3]);
    assert.deepEqual(small.actions.data, big.actions.data);
    for (let v = 0; v < 3 * 2; v++) {
      for (let y = 0; y < S / 2; y++) {
        for (let x = 0; x < S / 2; x++) {
          for (let c = 0; c < 3; c++) {
            const at = (yy: number, xx: number) => big.images.data[((v * S + yy) * S + xx) * 3 + c];
            const mean = (at(2 * y, 2 * x) + at(2 * y + 1, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x + 1)) / 4;
            assert.ok(Math.abs(small.images.data[((v * (S / 2) + y) * (S / 2) + x) * 3 + c] - mean) < 1e-5);
          }
        }
      }
    }
  });

  it('tokenizes bytes with BOS/EOS, truncation and padding', () => {
    const { ids, mask } = tokenizePadded('Put', 6);
    assert.deepEqual(Array.from(ids), [TOKENS.bos, 4 + 112, 4 + 117, 4 + 116, TOKENS.eos, TOKENS.pad]);
    assert.deepEqual(Array.from(mask), [1, 1, 1, 1, 1, 0]);
    const long = tokenizePadded('a very long instruction', 5);
    assert.equal(long.ids[4], TOKENS.eos);
    assert.ok(long.mask.every((m) => m === 1));
  });

  it('tokenizes whole words of a corpus, falls back to bytes, and restores from its json', () => {
    const tok = buildWordTokenizer(['put the red cube on the plate', 'Put the RED cube in the bowl']);
    // sorted unique words after the 260 byte ids
    assert.deepEqual(tok.json.words, ['bowl', 'cube', 'in', 'on', 'plate', 'put', 'red', 'the']);
    assert.equal(tok.vocabSize, TOKENS.vocabSize + 8);
    const ids = Array.from(tok.encode('put the red cube in the bowl'));
    assert.deepEqual(ids, [TOKENS.bos, 265, 267, 266, 261, 262, 267, 260, TOKENS.eos]);
    assert.equal(tok.decode(ids), 'put the red cube in the bowl');
    // an unknown word: its bytes and a space, so it still reads back
    const mixed = tok.encode('put the green cube');
    assert.equal(mixed.length, 2 + 3 + 'green'.length + 1);
    assert.equal(tok.decode(mixed), 'put the green cube');
    const again = tokenizerFromJson(JSON.parse(JSON.stringify(tok.json)));
    assert.deepEqual(Array.from(again.encode('the red plate')), Array.from(tok.encode('the red plate')));
    assert.equal(tokenizerFromJson(BYTE_TOKENIZER.json), BYTE_TOKENIZER);
    assert.throws(() => tokenizerFromJson({ type: 'sentencepiece', version: 1 }, 'policy.json'), /policy.json: unknown tokenizer "sentencepiece"/);
    assert.deepEqual(Array.from(tokenizePadded('put the plate', 4, tok).ids), [TOKENS.bos, 265, 267, TOKENS.eos]);
  });

  it('reports instructions cut short by the token budget, and those that become the same tokens', () => {
    const texts = ['put the red cube on the plate', 'put the red cube on the plate, then stack', 'put the red cube on the plate, then wipe', 'pick'];
    const tok = buildWordTokenizer(texts);
    // BOS + 7 words + EOS = 9 tokens: the two longer ones are cut to the same 9 ids
    const r = truncationReport([...texts, texts[0]], 9, tok);
    assert.deepEqual(r.cut.map((c) => c.tokens), [11, 11]);
    assert.deepEqual(r.same, [[texts[1], texts[2]]]);
    assert.deepEqual(truncationReport(texts, 11, tok), { cut: [], same: [] });
    assert.equal(truncationWarning(texts, { name: 'm', maxTokens: 11 }, tok), undefined);
    const w = truncationWarning(texts, { name: 'm', maxTokens: 9 }, tok)!;
    assert.match(w, /2 instructions are longer than model m's 9 tokens and cut short \(the longest: 11 tokens/);
    assert.match(w, /cannot tell them apart: "put the red cube on the plate, then stack", "put the red cube on the plate, then wipe"/);
    assert.equal(truncationWarning([texts[1]], { name: 'm', maxTokens: 9 }, tok), undefined, 'one task: nothing to tell apart');
    // bytes: the same budget cuts far more
    assert.equal(truncationReport(texts, 9).cut.length, 3);
  });
});

describe('LeRobot v2.1', () => {
  it('reads the hand-made fixture (episodes.jsonl, per-episode parquet, image structs)', async () => {
    const dir = join(import.meta.dirname, 'fixtures', 'v21-so100');
    await assert.rejects(openDataset(dir), /robot_type "so100" is not a registered embodiment; pass --embodiment/);
    const ds = await openDataset(dir, { embodiment: 'so5' });
    assert.equal(ds.info.codebase_version, 'v2.1');
    assert.deepEqual(ds.episodes.map((e) => [e.from, e.to]), [[0, 5], [5, 9]]);
    assert.deepEqual(ds.tasks, ['Grasp a lego block and put it in the bin.', 'Pick up the cube.']);
    assert.deepEqual(Array.from(ds.taskIndex), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
    for (let i = 0; i < 9; i++) {
      const ep = i < 5 ? 0 : 1;
      const t = i - (ep ? 5 : 0);
      for (let d = 0; d < 6; d++) {
        assert.equal(ds.state[i * 6 + d], Math.fround(ep + 0.1 * t + 0.01 * d));
        assert.equal(ds.action[i * 6 + d], Math.fround(Math.fround(ep + 0.1 * t + 0.01 * d) + 0.5));
      }
      const img = ds.image('laptop', i);
      assert.equal(img[3 * (8 * 2 + 3) + 1], 10 * ep + 2 + 3 + 1);
    }
  });
});
