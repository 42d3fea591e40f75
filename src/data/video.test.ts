import assert from 'node:assert/strict';
import { execFileSync, spawnSync as spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UserError } from '../util/index.ts';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { getEmbodiment } from '../actions/index.ts';
import { createDatasetWriter, createLoader, openDataset } from './index.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'v21-so100-video');
/** The fixture's frame colours (make-v21.ts VIDEO_RGB). */
const rgbOf = (ep: number, t: number) => [20 + 40 * t, 60 + 100 * ep, 220 - 40 * t];
/** The fixture's robot_type (so100) maps to vlalab's so5 (5 joints + gripper). */
const SO5 = { embodiment: 'so5' };
const hasFfmpeg = !spawn(process.env.VLALAB_FFMPEG || 'ffmpeg', ['-version'], { stdio: 'ignore' }).error;

/** Runs `f` with VLALAB_FFMPEG pointing at a binary that does not exist. */
async function withoutFfmpeg<T>(f: () => Promise<T>): Promise<T> {
  const saved = process.env.VLALAB_FFMPEG;
  process.env.VLALAB_FFMPEG = '/nonexistent/ffmpeg';
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.VLALAB_FFMPEG;
    else process.env.VLALAB_FFMPEG = saved;
  }
}

describe('mp4 video features (LeRobot v2.1 fixture, decoded by ffmpeg)', () => {
  it('without ffmpeg, a video dataset is refused with the command that installs it; an image dataset still opens', async () => {
    await withoutFfmpeg(async () => {
      await assert.rejects(openDataset(FIXTURE, SO5), (e: Error) =>
        e instanceof UserError && e.message.includes('v21-so100-video') && e.message.includes('camera "laptop"') && e.message.includes('apt-get install ffmpeg') && e.message.includes('brew install ffmpeg'));
      const images = await openDataset(join(import.meta.dirname, 'fixtures', 'v21-so100'), SO5);
      assert.equal(images.image('laptop', 0).length, 8 * 8 * 3);
    });
  });

  it('decodes every frame of every episode, centre-cropped to a square, with the colours written', { skip: hasFfmpeg ? false : 'ffmpeg is not installed (apt-get install ffmpeg)' }, async () => {
    const ds = await openDataset(FIXTURE, SO5);
    assert.deepEqual(ds.cameras, ['laptop']);
    assert.equal(ds.imageSize, 24, '32x24 video -> 24x24 square');
    assert.equal(ds.numFrames, 9);
    for (const ep of ds.episodes) {
      for (let t = 0; t < ep.length; t++) {
        const img = ds.image('laptop', ep.from + t);
        assert.equal(img.length, 24 * 24 * 3);
        const want = rgbOf(ep.index, t);
        for (const px of [0, 24 * 12 + 12, 24 * 24 - 1]) {
          for (let c = 0; c < 3; c++) assert.ok(Math.abs(img[3 * px + c] - want[c]) <= 4, `episode ${ep.index} frame ${t} pixel ${px}: ${img[3 * px + c]} vs ${want[c]}`);
        }
      }
    }
    // random access in any order, across episodes and with no cache (each episode decoded again), gives the same frames
    const inOrder = Array.from({ length: ds.numFrames }, (_, i) => Array.from(ds.image('laptop', i)));
    const uncached = await openDataset(FIXTURE, { ...SO5, imageCacheBytes: 0 });
    for (const i of [7, 0, 8, 3, 3, 5, 1, 6, 2, 4]) assert.deepEqual(Array.from(uncached.image('laptop', i)), inOrder[i], `frame ${i} read out of order`);
    assert.notDeepEqual(inOrder[0], inOrder[ds.numFrames - 1], 'the fixture\'s frames differ');
    const loader = createLoader([ds], { horizon: 4, mode: 'eef-rel', normMode: 'quantile', batchSize: 8, seed: 1, maxViews: 2, imageSize: 16, maxTokens: 16 });
    const b = await loader.batchAt(0);
    assert.deepEqual(b.images.shape, [8, 2, 16, 16, 3]);
    assert.ok(b.images.data.some((v) => v > 0), 'the batch holds decoded pixels');
  });

  it('v3.0: several episodes in one mp4, each read from its from_timestamp', { skip: hasFfmpeg ? false : 'ffmpeg is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-video3-'));
    try {
      // a vlalab v3.0 dataset of three episodes whose frames are solid colours ...
      const e = getEmbodiment('so5');
      const cam = e.spec.cameras[0].name;
      const lengths = [4, 3, 5];
      const colour = (ep: number, t: number) => [30 + 50 * ep, 200 - 30 * t, 40 + 20 * t];
      const w = createDatasetWriter(dir, { embodiment: 'so5', imageSize: 16, fps: 10 });
      lengths.forEach((n, ep) => w.addEpisode({
        task: `task ${ep}`,
        frames: Array.from({ length: n }, (_, t) => ({
          images: Object.fromEntries(e.spec.cameras.map((c) => [c.name, new Uint8Array(16 * 16 * 3).map((_, i) => colour(ep, t)[i % 3])])),
          state: new Float64Array(e.stateNames.length), action: new Float64Array(e.actionNames.length),
        })),
      }));
      await w.finalize();
      // ... whose first camera becomes a video feature: one 24x16 mp4 of every frame, the episode index pointing into it
      const video = join(dir, `videos/observation.images.${cam}/chunk-000/file-000.mp4`);
      mkdirSync(join(video, '..'), { recursive: true });
      const frames = lengths.flatMap((n, ep) => Array.from({ length: n }, (_, t) => colour(ep, t)));
      const raw = new Uint8Array(frames.length * 24 * 16 * 3).map((_, i) => frames[Math.floor(i / (24 * 16 * 3))][i % 3]);
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '24x16', '-r', '10', '-i', '-', '-c:v', 'libx264', '-pix_fmt', 'yuv444p', '-crf', '0', video], { input: raw });
      const infoFile = join(dir, 'meta/info.json');
      const info = JSON.parse(readFileSync(infoFile, 'utf8'));
      info.features[`observation.images.${cam}`] = { dtype: 'video', shape: [16, 24, 3], names: ['height', 'width', 'channels'] };
      info.video_path = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
      writeFileSync(infoFile, JSON.stringify(info));
      const epFile = join(dir, 'meta/episodes/chunk-000/file-000.parquet');
      const buf = readFileSync(epFile);
      const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer })) as Record<string, unknown>[];
      const key = `videos/observation.images.${cam}`;
      const columns = ['episode_index', 'tasks', 'length', 'data/chunk_index', 'data/file_index', 'dataset_from_index', 'dataset_to_index'].map((name) => ({ name, data: rows.map((r) => r[name]) }));
      columns.push(
        { name: `${key}/chunk_index`, data: rows.map(() => 0n) }, { name: `${key}/file_index`, data: rows.map(() => 0n) },
        { name: `${key}/from_timestamp`, data: rows.map((r) => Number(r.dataset_from_index) / 10) },
        { name: `${key}/to_timestamp`, data: rows.map((r) => Number(r.dataset_to_index) / 10) },
      );
      writeFileSync(epFile, new Uint8Array(parquetWriteBuffer({ columnData: columns })));

      const ds = await openDataset(dir);
      assert.equal(ds.imageSize, 16);
      // read the last episode first: every episode seeks on its own
      for (const ep of [...ds.episodes].reverse()) {
        for (let t = 0; t < ep.length; t++) {
          const img = ds.image(cam, ep.from + t);
          const want = colour(ep.index, t);
          for (let c = 0; c < 3; c++) assert.ok(Math.abs(img[3 * 100 + c] - want[c]) <= 4, `episode ${ep.index} frame ${t}: ${img[3 * 100 + c]} vs ${want[c]}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('broken videos', { skip: hasFfmpeg ? false : 'ffmpeg is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-video-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    it('a missing or corrupt mp4 is an error naming the file', async () => {
      cpSync(FIXTURE, dir, { recursive: true });
      const mp4 = join(dir, 'videos/chunk-000/observation.images.laptop/episode_000001.mp4');
      writeFileSync(mp4, 'not a video');
      const ds = await openDataset(dir, SO5);
      assert.throws(() => ds.image('laptop', 6), (e: Error) => e instanceof UserError && e.message.includes('episode_000001.mp4') && /could not decode|no frames/.test(e.message));
      rmSync(mp4);
      assert.throws(() => ds.image('laptop', 6), /episode_000001.mp4 is missing/);
    });
  });
});
