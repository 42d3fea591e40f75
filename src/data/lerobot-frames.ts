/**
 * From a dataset's index to what training reads: the mp4 of each episode and video camera (and the
 * episodes left out when one is missing), the frame assembly (native state and action vectors
 * mapped by the embodiment's feature map, task ids, PNG bytes), and the image reader (PNG frames
 * decoded on demand, video frames an episode at a time through ffmpeg, both cached in a budget).
 */
import { join } from 'node:path';
import { decodePng, UserError } from '../util/index.ts';
import type { FeatureColumn } from './feature-map.ts';
import { type DatasetInfo, formatPath } from './lerobot-format.ts';
import type { IndexedEpisode } from './lerobot-index.ts';
import { decodeVideoFrames } from './video.ts';
import { indexVideoFiles, listVideoFiles, locateVideo } from './video-files.ts';

/** Episodes left out of a dataset because files they need are missing (--skip-missing). */
export type SkippedEpisode = { episode: number; files: string[] };

/**
 * Finds the mp4 of every episode and video camera (at video_path, or elsewhere under videos/) and
 * sets `videoFile` on each episode. Missing files throw, naming them, unless `skipMissing`: then
 * those episodes are returned to be left out (never all of them).
 */
export function locateVideos(dir: string, info: DatasetInfo, episodes: IndexedEpisode[], videoKeys: ReadonlyMap<string, string>, skipMissing: boolean): SkippedEpisode[] {
  const files = indexVideoFiles(listVideoFiles(dir));
  const missing = new Map<number, string[]>();
  for (const ep of episodes) {
    ep.videoFile = {};
    for (const [c, key] of videoKeys) {
      const where = ep.video?.[c];
      const expected = formatPath(String(info.video_path), where
        ? { video_key: key, chunk_index: where.chunk, file_index: where.file }
        : { video_key: key, episode_chunk: Math.floor(ep.index / (info.chunks_size || 1000)), episode_index: ep.index });
      const found = locateVideo(expected, key, files).found;
      if (found) ep.videoFile[c] = found;
      else missing.set(ep.index, [...(missing.get(ep.index) ?? []), expected]);
    }
  }
  if (!missing.size) return [];
  const all = [...new Set([...missing.values()].flat())];
  const eps = [...missing.keys()];
  const shown = `${all.slice(0, 4).join(', ')}${all.length > 4 ? `, ... (${all.length} files)` : ''}`;
  if (!skipMissing) throw new UserError(`${dir}: video file${all.length > 1 ? 's' : ''} ${shown} missing (episode${eps.length > 1 ? 's' : ''} ${eps.join(', ')}); re-download, or pass --skip-missing to leave ${eps.length > 1 ? 'those episodes' : 'that episode'} out`);
  if (eps.length === episodes.length) throw new UserError(`${dir}: every episode misses a video file (${shown}); nothing is left to read`);
  return [...missing].map(([episode, f]) => ({ episode, files: f }));
}

/** `episodes` and their `rows` without the `skipped` ones, renumbered into one contiguous index. */
export function dropEpisodes(episodes: IndexedEpisode[], rows: Record<string, unknown>[], skipped: readonly SkippedEpisode[]): { episodes: IndexedEpisode[]; rows: Record<string, unknown>[] } {
  if (!skipped.length) return { episodes, rows };
  const drop = new Set(skipped.map((x) => x.episode));
  const kept: IndexedEpisode[] = [];
  const keptRows: Record<string, unknown>[] = [];
  for (const ep of episodes) {
    if (drop.has(ep.index)) continue;
    kept.push({ ...ep, from: keptRows.length, to: keptRows.length + ep.length });
    for (let i = ep.from; i < ep.to; i++) keptRows.push(rows[i]);
  }
  return { episodes: kept, rows: keptRows };
}

/** The frames as arrays: native states [N, Ds], actions [N, Da], task ids [N], and each image camera's PNG bytes. */
export type Frames = { state: Float32Array; action: Float32Array; taskIndex: Int32Array; png: Record<string, Uint8Array[]> };

/**
 * Assembles the frame rows: state and action dims gathered from their features by `stateMap` and
 * `actionMap` (a one-dim feature may be stored as a scalar column), task ids, and the PNG bytes of
 * every camera not in `videoCameras` (`cameraKeys`: camera -> feature key).
 */
export function assembleFrames(dir: string, rows: readonly Record<string, unknown>[], o: {
  features: DatasetInfo['features']; stateMap: readonly FeatureColumn[]; actionMap: readonly FeatureColumn[];
  cameraKeys: ReadonlyMap<string, string>; videoCameras: ReadonlySet<string>;
}): Frames {
  const n = rows.length;
  const ds = o.stateMap.length;
  const da = o.actionMap.length;
  const state = new Float32Array(n * ds);
  const action = new Float32Array(n * da);
  const taskIndex = new Int32Array(n);
  const png: Record<string, Uint8Array[]> = Object.fromEntries([...o.cameraKeys.keys()].map((c) => [c, []]));
  const vectorFeatures = [...new Set([...o.stateMap, ...o.actionMap].map((m) => m.feature))];
  const vectors: Record<string, ArrayLike<number>> = {};
  rows.forEach((r, i) => {
    for (const f of vectorFeatures) {
      const want = o.features[f].shape[0];
      const v = r[f];
      const x = typeof v === 'number' && want === 1 ? [v] : v; // a one-dim feature may be stored as a scalar column
      if (!Array.isArray(x) || x.length !== want) throw new UserError(`${dir}: frame ${i} has ${f} of length ${Array.isArray(x) ? x.length : 'none'} but info.json says ${want}`);
      vectors[f] = x;
    }
    for (let k = 0; k < ds; k++) state[i * ds + k] = vectors[o.stateMap[k].feature][o.stateMap[k].dim];
    for (let k = 0; k < da; k++) action[i * da + k] = vectors[o.actionMap[k].feature][o.actionMap[k].dim];
    taskIndex[i] = Number(r.task_index ?? 0);
    for (const [c, key] of o.cameraKeys) {
      if (o.videoCameras.has(c)) continue;
      const img = r[key] as { bytes?: Uint8Array } | undefined;
      if (!img?.bytes) throw new UserError(`${dir}: frame ${i} has no image for camera "${c}"`);
      png[c].push(img.bytes);
    }
  });
  return { state, action, taskIndex, png };
}

/**
 * The image reader of a dataset: `image(camera, i)` is the RGB frame [side, side, 3] of global
 * frame i. PNG frames are decoded on demand; a video camera decodes a whole episode per call.
 * Decoded frames stay in memory while they fit `budget` bytes (a quickstart set of 50 x 80 frames x
 * 2 views at 64x64 is ~100 MB); past it, PNG frames are decoded on every access and the last video
 * episode is kept aside.
 */
export function imageReader(dir: string, o: {
  cameras: readonly string[]; videoCameras: ReadonlySet<string>; episodes: readonly IndexedEpisode[]; png: Record<string, Uint8Array[]>;
  side: number; numFrames: number; budget: number;
}): (camera: string, i: number) => Uint8Array {
  const { episodes, side, numFrames: n } = o;
  let cached = 0;
  const cache: Record<string, (Uint8Array | undefined)[]> = Object.fromEntries(o.cameras.map((c) => [c, new Array(n)]));
  const keep = (camera: string, i: number, img: Uint8Array) => {
    if (cached + img.length > o.budget) return false;
    cache[camera][i] = img;
    cached += img.length;
    return true;
  };
  const lastEpisode = new Map<string, { from: number; frames: Uint8Array[] }>();
  const videoFrame = (camera: string, i: number): Uint8Array => {
    let k = 0;
    for (let lo = 0, hi = episodes.length - 1; lo <= hi;) {
      const mid = (lo + hi) >> 1;
      if (episodes[mid].from <= i) { k = mid; lo = mid + 1; } else hi = mid - 1;
    }
    const ep = episodes[k];
    const last = lastEpisode.get(camera);
    if (last?.from === ep.from) return last.frames[i - ep.from];
    const where = ep.video?.[camera];
    const file = join(dir, ep.videoFile![camera]);
    const frames = decodeVideoFrames(file, { fromSeconds: where?.from ?? 0, frames: ep.length, side });
    let all = true;
    frames.forEach((f, t) => { all = keep(camera, ep.from + t, f) && all; });
    if (!all) lastEpisode.set(camera, { from: ep.from, frames });
    return frames[i - ep.from];
  };
  return (camera, i) => {
    let img = cache[camera]?.[i];
    if (!img && o.videoCameras.has(camera)) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new UserError(`${dir}: no frame ${i} (the dataset has ${n})`);
      img = videoFrame(camera, i);
    } else if (!img) {
      const bytes = o.png[camera]?.[i];
      if (!bytes) throw new UserError(`${dir}: no image for camera "${camera}" at frame ${i}`);
      const d = decodePng(bytes, `${dir} frame ${i} camera ${camera}`);
      if (d.width !== side || d.height !== side) throw new UserError(`${dir}: frame ${i} camera ${camera} is ${d.width}x${d.height}, info.json says ${side}x${side}`);
      img = d.rgb;
      keep(camera, i, img);
    }
    return img;
  };
}
