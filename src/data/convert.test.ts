import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { UserError } from '../util/index.ts';
import { COMMUNITY_LENGTHS, COMMUNITY_TASKS, communityState } from './fixtures/make-community.ts';
import { computeStats, convertToV30, inspectDataset, openDataset, poolStats } from './index.ts';

const FIX = join(import.meta.dirname, 'fixtures');
const SPEC = join(FIX, 'acme-dexbot.json');
const hasFfmpeg = !spawnSync(process.env.VLALAB_FFMPEG || 'ffmpeg', ['-version'], { stdio: 'ignore' }).error;

describe('data convert v2.1 -> v3.0', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vlalab-convert-'));
  const out = join(tmp, 'community-v30');
  after(() => rmSync(tmp, { recursive: true, force: true }));
  before(async () => {
    const r = await convertToV30(join(FIX, 'community-v21'), out);
    assert.deepEqual({ ...r, out: undefined }, {
      out: undefined, episodes: 3, frames: 18, dataFiles: 1, videos: 5, stats: 'computed',
      missingVideos: ['videos/chunk-000/observation.images.cam_left_wrist/episode_000001.mp4'],
    });
  });

  it('the result is v3.0 with the same totals; its only problem is the mp4 the source lacks too', async () => {
    const r = await inspectDataset(out, { probe: false });
    assert.equal(r.codebase_version, 'v3.0');
    assert.deepEqual(r.episodes.map((e) => [e.index, e.from, e.to]), [[0, 0, 6], [1, 6, 11], [2, 11, 18]]);
    assert.deepEqual(r.tasks, COMMUNITY_TASKS);
    assert.deepEqual(r.problems, [{ file: join(out, 'videos/observation.images.cam_left_wrist/chunk-000/file-001.mp4'), message: 'is missing (video of camera cam_left_wrist for episode 1); re-download it, or train with --skip-missing' }]);
    assert.equal(r.relocatedVideos.length, 0, 'every copied video sits where the v3.0 template says');
  });

  it('reads back the same frames, actions, tasks and episodes (and, with ffmpeg, the same images)', async () => {
    const a = await openDataset(join(FIX, 'community-v21'), { embodiment: SPEC, skipMissing: true, images: hasFfmpeg });
    const b = await openDataset(out, { embodiment: SPEC, skipMissing: true, images: hasFfmpeg });
    assert.deepEqual(b.state, a.state);
    assert.deepEqual(b.action, a.action);
    assert.deepEqual(b.taskIndex, a.taskIndex);
    assert.deepEqual(b.tasks, a.tasks);
    assert.deepEqual(b.episodes, a.episodes);
    assert.equal(a.state[8 * 34 + 5], Math.fround(communityState(2, 2, 5)), 'and they are the fixture\'s values');
    if (hasFfmpeg) for (const cam of a.cameras) assert.deepEqual(b.image(cam, 9), a.image(cam, 9), cam);
  });

  it('stats: exact from the frames, equal to the pooled per-episode stats of the source', () => {
    const stats = JSON.parse(readFileSync(join(out, 'meta/stats.json'), 'utf8'));
    const n = 18;
    const rows = Float64Array.from(COMMUNITY_LENGTHS.flatMap((len, ep) => Array.from({ length: len }, (_, t) => Array.from({ length: 34 }, (_, d) => Math.fround(communityState(ep, t, d))))).flat());
    assert.deepEqual(stats.state, JSON.parse(JSON.stringify(computeStats(rows, n, 34))));
    const per = readFileSync(join(FIX, 'community-v21/meta/episodes_stats.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).stats.state);
    const pooled = poolStats(per) as { mean: number[]; std: number[]; min: number[]; max: number[]; count: number[] };
    for (let d = 0; d < 34; d++) {
      assert.ok(Math.abs(pooled.mean[d] - stats.state.mean[d]) < 1e-12);
      assert.ok(Math.abs(pooled.std[d] - stats.state.std[d]) < 1e-9);
      assert.equal(pooled.min[d], stats.state.min[d]);
      assert.equal(pooled.max[d], stats.state.max[d]);
    }
    assert.deepEqual(pooled.count, [18]);
    assert.ok('timestamp' in stats && 'frame_index' in stats);
  });

  it('DuckDB reads the data, tasks and episode index', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const rows = (await c.runAndReadAll(`select typeof(state) as t, state, actions, episode_index, "index" from '${join(out, 'data/chunk-000/file-000.parquet')}' order by "index"`)).getRowObjectsJson() as { t: string; state: number[]; actions: number[]; episode_index: string; index: string }[];
      assert.equal(rows.length, 18);
      assert.equal(rows[0].t, 'FLOAT[]');
      assert.deepEqual(rows.map((r) => Number(r.index)), Array.from({ length: 18 }, (_, i) => i));
      assert.equal(Number(rows[8].state[5]), Math.fround(communityState(1, 2, 5)));
      assert.equal(Number(rows[8].actions[5]), Math.fround(Math.fround(communityState(1, 2, 5)) + 0.05));
      const tasks = (await c.runAndReadAll(`select task from '${join(out, 'meta/tasks.parquet')}' order by task_index`)).getRowObjectsJson();
      assert.deepEqual(tasks.map((t) => t.task), COMMUNITY_TASKS);
      const eps = (await c.runAndReadAll(`select tasks, length, dataset_from_index, "videos/observation.images.cam_high/file_index" as f, "videos/observation.images.cam_high/to_timestamp" as t from '${join(out, 'meta/episodes/chunk-000/file-000.parquet')}' order by episode_index`)).getRowObjectsJson();
      assert.deepEqual(eps.map((e) => [e.tasks, Number(e.length), Number(e.dataset_from_index), Number(e.f)]), [[[COMMUNITY_TASKS[0]], 6, 0, 0], [[COMMUNITY_TASKS[1]], 5, 6, 1], [[COMMUNITY_TASKS[0]], 7, 11, 2]]);
      assert.equal(Number(eps[2].t), 7 / 15);
    } finally {
      c.closeSync();
    }
  });

  it('images stored in the parquet files survive byte for byte', async () => {
    const dst = join(tmp, 'so100');
    await convertToV30(join(FIX, 'v21-so100'), dst);
    const a = await openDataset(join(FIX, 'v21-so100'), { embodiment: 'so5' });
    const b = await openDataset(dst, { embodiment: 'so5' });
    for (let i = 0; i < a.numFrames; i++) assert.deepEqual(b.image('laptop', i), a.image('laptop', i));
    assert.deepEqual(b.state, a.state);
    assert.deepEqual((await inspectDataset(dst)).problems, []);
  });

  it('refuses a v2.1 source whose episode index and data files disagree, naming the file', async () => {
    const src = join(tmp, 'bad-v21');
    cpSync(join(FIX, 'community-v21'), src, { recursive: true });
    const file = join(src, 'meta/episodes.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"length":5', '"length":6'));
    await assert.rejects(convertToV30(src, join(tmp, 'bad-out')), (e: Error) => e instanceof UserError && e.message.includes(join(src, 'data/chunk-000/episode_000001.parquet')) && /holds 5 frames but meta\/episodes\.jsonl says 6; fix the episode index first/.test(e.message));
  });

  it('refuses a v3.0 source and an output that already holds a dataset', async () => {
    await assert.rejects(convertToV30(out, join(tmp, 'again')), (e: Error) => e instanceof UserError && /is already LeRobot v3\.0; nothing to convert/.test(e.message));
    await assert.rejects(convertToV30(join(FIX, 'v21-so100'), out), (e: Error) => e instanceof UserError && /already holds a dataset; choose another --out/.test(e.message));
  });
});
