import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UserError } from '../util/index.ts';
import { createLoader, openDataset } from './index.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'v21-so100-video');
/** The fixture's frame colours (make-v21.ts VIDEO_RGB). */
const rgbOf = (ep: number, t: number) => [20 + 40 * t, 60 + 100 * ep, 220 - 40 * t];
/** The fixture's robot_type (so100) maps to vlalab's so5 (5 joints + gripper). */
const SO5 = { embodiment: 'so5' };
const hasFfmpeg = !spawnSync(process.env.VLALAB_FFMPEG || 'ffmpeg', ['-version'], { stdio: 'ignore' }).error;

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
    // random access in any order gives the same frames
    assert.deepEqual(ds.image('laptop', 7), ds.image('laptop', 7));
    const loader = createLoader([ds], { horizon: 4, mode: 'eef-rel', normMode: 'quantile', batchSize: 8, seed: 1, maxViews: 2, imageSize: 16, maxTokens: 16 });
    const b = await loader.batchAt(0);
    assert.deepEqual(b.images.shape, [8, 2, 16, 16, 3]);
    assert.ok(b.images.data.some((v) => v > 0), 'the batch holds decoded pixels');
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
