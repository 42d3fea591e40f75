/**
 * LeRobot datasets on disk: the reader for v3.0 and v2.1 (the v3.0 writer is writer.ts).
 *
 * v3.0 layout (what vlalab writes; many episodes per file, a new file past data_files_size_in_mb):
 *   meta/info.json                              codebase_version, robot_type, fps, totals, features, path templates
 *   meta/stats.json                             per feature: mean std min max count q01 q10 q50 q90 q99
 *                                               (images: per channel in [0, 1], shaped [3, 1, 1])
 *   meta/tasks.parquet                          task_index, task
 *   meta/episodes/chunk-000/file-000.parquet    episode_index, tasks, length, data/chunk_index, data/file_index,
 *                                               dataset_from_index, dataset_to_index
 *   data/chunk-CCC/file-FFF.parquet             observation.state, action (LIST<FLOAT>), observation.images.<cam>
 *                                               (struct {bytes: PNG, path}), timestamp, frame_index, episode_index,
 *                                               index, task_index
 * v2.1 layout (read only): meta/episodes.jsonl, meta/tasks.jsonl, data/chunk-XXX/episode_XXXXXX.parquet.
 *
 * Cameras of dtype "video" (real robots' datasets) are mp4 files at info.json's video_path, one per
 * episode (v2.1) or many episodes per file with from_timestamp in the episode index (v3.0); they
 * are decoded with ffmpeg (video.ts), an episode at a time, centre-cropped to a square.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { type Embodiment, embodimentForRobotType, resolveEmbodiment } from '../actions/index.ts';
import { decodePng, UserError } from '../util/index.ts';
import type { FullStats, ImageStats } from './stats.ts';
import { resolveFeatureMap } from './feature-map.ts';
import { decodeVideoFrames, requireFfmpeg } from './video.ts';
import { indexVideoFiles, listVideoFiles, locateVideo } from './video-files.ts';

/** A feature of info.json. */
export type FeatureInfo = { dtype: string; shape: number[]; names: string[] | Record<string, unknown> | null };

/** The fields of meta/info.json vlalab reads and writes. */
export type DatasetInfo = {
  codebase_version: string;
  robot_type: string;
  fps: number;
  total_episodes: number;
  total_frames: number;
  total_tasks: number;
  chunks_size: number;
  data_path: string;
  features: Record<string, FeatureInfo>;
  [key: string]: unknown;
};

/**
 * A LeRobot path template filled in: `{name}` and `{name:03d}` (zero-padded) fields, e.g.
 * formatPath('data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet', { chunk_index: 0, file_index: 2 }).
 */
export function formatPath(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)(?::0?(\d+)d)?\}/g, (m, name: string, width?: string) => {
    if (!(name in values)) throw new UserError(`path template "${template}" has a field {${name}} vlalab does not know`);
    const v = String(values[name]);
    return width ? v.padStart(Number(width), '0') : v;
  });
}

/** Metadata of one episode. */
export type EpisodeInfo = { index: number; length: number; from: number; to: number; task: string };

/** A dataset read into memory (images stay PNG-compressed until asked for). */
export type Dataset = {
  dir: string;
  info: DatasetInfo;
  embodiment: Embodiment;
  cameras: string[];
  imageSize: number;
  tasks: string[];
  episodes: EpisodeInfo[];
  numFrames: number;
  /** native states [N, Ds] and actions [N, Da] */
  state: Float32Array;
  action: Float32Array;
  /** task index of every frame [N] */
  taskIndex: Int32Array;
  /** feature stats from meta/stats.json, if present (state/action per native dim; images per channel [3, 1, 1]) */
  stats?: Record<string, FullStats | ImageStats>;
  /** the decoded RGB image [S, S, 3] of `camera` at global frame `i` (cached within the budget; do not modify it) */
  image(camera: string, i: number): Uint8Array;
  /** episodes left out because their mp4 files are missing (openDataset's skipMissing) */
  skipped?: SkippedEpisode[];
};

async function readParquet(file: string, what: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(file)) throw new UserError(`${file} is missing; the ${what} of the dataset is incomplete (re-record or re-convert it)`);
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  try {
    parquetMetadata(ab);
    return (await parquetReadObjects({ file: ab, utf8: false })) as Record<string, unknown>[];
  } catch (err) {
    throw new UserError(`${file} is not a readable parquet file (${(err as Error).message}); it may be truncated: re-record or re-download it`);
  }
}

const str = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));

function readJson(file: string): unknown {
  if (!existsSync(file)) throw new UserError(`${file} is missing; is this a LeRobot dataset directory?`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message})`);
  }
}

function readJsonl(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) throw new UserError(`${file} is missing; the v2.1 dataset is incomplete`);
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l);
    } catch {
      throw new UserError(`${file}:${i + 1} is not valid JSON`);
    }
  });
}

/** Largest side (px) of the square video frames are decoded to. */
export const VIDEO_MAX_SIDE = 256;

/** Default bytes of decoded RGB frames a dataset keeps in memory (1 GiB). */
export const IMAGE_CACHE_BYTES = 1 << 30;

/** Episodes left out of a dataset because files they need are missing (--skip-missing). */
export type SkippedEpisode = { episode: number; files: string[] };

/** Options of openDataset. */
export type OpenDatasetOptions = {
  /** a registered embodiment name, a spec file (ending in .json), or an embodiment; default: from robot_type */
  embodiment?: string | Embodiment;
  /** bytes of decoded frames kept in memory (default IMAGE_CACHE_BYTES) */
  imageCacheBytes?: number;
  /** leave out episodes whose mp4 files are missing (listed in `skipped`) instead of refusing the dataset */
  skipMissing?: boolean;
  /** false: read state, action and tasks only (no cameras, no ffmpeg needed) */
  images?: boolean;
};

/**
 * Reads a LeRobot dataset (v3.0 or v2.1). The embodiment comes from info.json's robot_type unless
 * `embodiment` names one or a spec file (whose features, dims and cameras then say where the
 * native vectors are; see feature-map.ts). Decoded images are cached up to `imageCacheBytes`
 * (default IMAGE_CACHE_BYTES); frame data (state, action, PNG bytes) is held in memory. mp4 files
 * absent at video_path are looked for elsewhere under videos/ (video-files.ts); episodes whose
 * files are still missing make it throw, naming them, unless `skipMissing`.
 */
export async function openDataset(dir: string, opts: OpenDatasetOptions = {}): Promise<Dataset> {
  const infoFile = join(dir, 'meta', 'info.json');
  const info = readJson(infoFile) as DatasetInfo;
  const version = String(info.codebase_version ?? '');
  if (!['v3.0', 'v2.1', 'v2.0'].includes(version)) throw new UserError(`${infoFile}: codebase_version "${version}" is not supported (v3.0 or v2.1)`);
  const e = typeof opts.embodiment === 'object' ? opts.embodiment : opts.embodiment ? resolveEmbodiment(opts.embodiment) : embodimentForRobotType(String(info.robot_type));
  if (!e) throw new UserError(`${infoFile}: robot_type "${info.robot_type}" is not a registered embodiment; pass --embodiment NAME or a spec file --embodiment FILE.json (see \`vlalab embodiments\` and \`vlalab data info ${dir}\`)`);
  const features = info.features ?? {};
  const stateMap = resolveFeatureMap(e, features, 'state', infoFile);
  const actionMap = resolveFeatureMap(e, features, 'action', infoFile);
  const ds = stateMap.length;
  const da = actionMap.length;
  // cameras: a spec file's, in its order; else every observation.images.* feature of the dataset
  const cameraKeys = new Map<string, string>();
  if (opts.images === false) {
    // state and action only
  } else if (e.file) {
    e.spec.cameras.forEach((c, i) => {
      const key = c.feature ?? `observation.images.${c.name}`;
      const f = features[key];
      const all = Object.keys(features).filter((k) => features[k].dtype === 'video' || features[k].dtype === 'image');
      if (!f || (f.dtype !== 'video' && f.dtype !== 'image')) throw new UserError(`embodiment spec ${e.file}: field "cameras.${i}": the dataset has no camera feature "${key}" (its cameras: ${all.join(', ') || 'none'})`);
      cameraKeys.set(c.name, key);
    });
  } else {
    for (const k of Object.keys(features)) if (k.startsWith('observation.images.')) cameraKeys.set(k.slice('observation.images.'.length), k);
  }
  const cameras = [...cameraKeys.keys()];
  const camKey = (c: string) => cameraKeys.get(c)!;
  const videoCameras = new Set(cameras.filter((c) => features[camKey(c)].dtype === 'video'));
  if (videoCameras.size) {
    requireFfmpeg(`${dir}: camera "${[...videoCameras][0]}"`);
    if (typeof info.video_path !== 'string') throw new UserError(`${infoFile}: camera "${[...videoCameras][0]}" is a video feature but info.json has no video_path`);
  }
  // video frames are centre-cropped to a square of the shorter side, at most VIDEO_MAX_SIDE
  const sideOf = (c: string) => {
    const [h, w] = features[camKey(c)].shape;
    return videoCameras.has(c) ? Math.min(h, w, VIDEO_MAX_SIDE) : h;
  };
  const imageSize = cameras.length ? sideOf(cameras[0]) : 0;

  // frames and episodes
  const rows: Record<string, unknown>[] = [];
  let tasks: string[];
  type Episode = EpisodeInfo & { chunk?: number; file?: number; video?: Record<string, { chunk: number; file: number; from: number }>; videoFile?: Record<string, string> };
  let episodes: Episode[] = [];
  if (version === 'v3.0') {
    const taskRows = await readParquet(join(dir, 'meta/tasks.parquet'), 'task list');
    tasks = [];
    for (const r of taskRows) tasks[Number(r.task_index)] = str(r.task ?? r.__index_level_0__);
    const epDir = join(dir, 'meta/episodes');
    const epFiles = existsSync(epDir) ? readdirSync(epDir).sort().flatMap((c) => readdirSync(join(epDir, c)).sort().map((f) => join(epDir, c, f))) : [];
    if (epFiles.length === 0) throw new UserError(`${epDir} has no episode files; the dataset is incomplete`);
    for (const f of epFiles) {
      for (const r of await readParquet(f, 'episode index')) {
        const t = r.tasks;
        episodes.push({
          index: Number(r.episode_index), length: Number(r.length), from: Number(r.dataset_from_index), to: Number(r.dataset_to_index),
          task: Array.isArray(t) ? str(t[0]) : str(t), chunk: Number(r['data/chunk_index'] ?? 0), file: Number(r['data/file_index'] ?? 0),
          video: Object.fromEntries([...videoCameras].map((c) => {
            const key = `videos/${camKey(c)}`;
            return [c, { chunk: Number(r[`${key}/chunk_index`] ?? 0), file: Number(r[`${key}/file_index`] ?? 0), from: Number(r[`${key}/from_timestamp`] ?? 0) }];
          })),
        });
      }
    }
    // the data files the episodes live in, in (chunk, file) order; their rows concatenate to the global index
    episodes.sort((a, b) => a.from - b.from);
    const dataFiles = [...new Set(episodes.map((x) => `${x.chunk}/${x.file}`))]
      .map((k) => k.split('/').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [chunk, file] of dataFiles) {
      for (const r of await readParquet(join(dir, formatPath(String(info.data_path), { chunk_index: chunk, file_index: file })), 'frame data')) rows.push(r);
    }
    for (const ep of episodes) {
      const first = rows[ep.from];
      if (first && 'episode_index' in first && Number(first.episode_index) !== ep.index) {
        throw new UserError(`${dir}: episode ${ep.index} should start at frame ${ep.from} but the data files hold episode ${Number(first.episode_index)} there; the episode index and data files disagree`);
      }
    }
  } else {
    tasks = [];
    for (const r of readJsonl(join(dir, 'meta/tasks.jsonl'))) tasks[Number(r.task_index)] = String(r.task);
    let from = 0;
    for (const r of readJsonl(join(dir, 'meta/episodes.jsonl'))) {
      const index = Number(r.episode_index);
      const file = join(dir, formatPath(String(info.data_path), { episode_chunk: Math.floor(index / (info.chunks_size || 1000)), episode_index: index }));
      const part = await readParquet(file, `episode ${index}`);
      const length = part.length;
      episodes.push({ index, length, from, to: from + length, task: Array.isArray(r.tasks) ? String(r.tasks[0]) : '' });
      from += length;
      for (const x of part) rows.push(x);
    }
  }
  if (episodes.reduce((s, x) => s + x.length, 0) !== rows.length) throw new UserError(`${dir}: the episode index lists ${episodes.reduce((s, x) => s + x.length, 0)} frames but the data files hold ${rows.length}`);
  // the mp4 of each episode and video camera: at video_path, or found elsewhere under videos/
  const skipped: SkippedEpisode[] = [];
  if (videoCameras.size) {
    const files = indexVideoFiles(listVideoFiles(dir));
    const missing = new Map<number, string[]>();
    for (const ep of episodes) {
      ep.videoFile = {};
      for (const c of videoCameras) {
        const where = ep.video?.[c];
        const expected = formatPath(String(info.video_path), where
          ? { video_key: camKey(c), chunk_index: where.chunk, file_index: where.file }
          : { video_key: camKey(c), episode_chunk: Math.floor(ep.index / (info.chunks_size || 1000)), episode_index: ep.index });
        const found = locateVideo(expected, camKey(c), files).found;
        if (found) ep.videoFile[c] = found;
        else missing.set(ep.index, [...(missing.get(ep.index) ?? []), expected]);
      }
    }
    if (missing.size) {
      const all = [...new Set([...missing.values()].flat())];
      const eps = [...missing.keys()];
      const shown = `${all.slice(0, 4).join(', ')}${all.length > 4 ? `, ... (${all.length} files)` : ''}`;
      if (!opts.skipMissing) throw new UserError(`${dir}: video file${all.length > 1 ? 's' : ''} ${shown} missing (episode${eps.length > 1 ? 's' : ''} ${eps.join(', ')}); re-download, or pass --skip-missing to leave ${eps.length > 1 ? 'those episodes' : 'that episode'} out`);
      if (eps.length === episodes.length) throw new UserError(`${dir}: every episode misses a video file (${shown}); nothing is left to read`);
      for (const [episode, f] of missing) skipped.push({ episode, files: f });
    }
  }
  if (skipped.length) {
    // drop the episodes and their frames; the others are renumbered into one contiguous index
    const drop = new Set(skipped.map((x) => x.episode));
    const kept: Episode[] = [];
    const keptRows: Record<string, unknown>[] = [];
    for (const ep of episodes) {
      if (drop.has(ep.index)) continue;
      kept.push({ ...ep, from: keptRows.length, to: keptRows.length + ep.length });
      for (let i = ep.from; i < ep.to; i++) keptRows.push(rows[i]);
    }
    episodes = kept;
    rows.length = 0;
    for (const r of keptRows) rows.push(r);
  }
  const n = rows.length;
  const state = new Float32Array(n * ds);
  const action = new Float32Array(n * da);
  const taskIndex = new Int32Array(n);
  const png: Record<string, Uint8Array[]> = Object.fromEntries(cameras.map((c) => [c, []]));
  const vectorFeatures = [...new Set([...stateMap, ...actionMap].map((m) => m.feature))];
  const vectors: Record<string, ArrayLike<number>> = {};
  rows.forEach((r, i) => {
    for (const f of vectorFeatures) {
      const want = features[f].shape[0];
      const v = r[f];
      const x = typeof v === 'number' && want === 1 ? [v] : v; // a one-dim feature may be stored as a scalar column
      if (!Array.isArray(x) || x.length !== want) throw new UserError(`${dir}: frame ${i} has ${f} of length ${Array.isArray(x) ? x.length : 'none'} but info.json says ${want}`);
      vectors[f] = x;
    }
    for (let k = 0; k < ds; k++) state[i * ds + k] = vectors[stateMap[k].feature][stateMap[k].dim];
    for (let k = 0; k < da; k++) action[i * da + k] = vectors[actionMap[k].feature][actionMap[k].dim];
    taskIndex[i] = Number(r.task_index ?? 0);
    for (const c of cameras) {
      if (videoCameras.has(c)) continue;
      const img = r[camKey(c)] as { bytes?: Uint8Array } | undefined;
      if (!img?.bytes) throw new UserError(`${dir}: frame ${i} has no image for camera "${c}"`);
      png[c].push(img.bytes);
    }
  });
  // frames of an episode with an unknown task fall back to the episode's own task string
  for (const ep of episodes) {
    if (!tasks.includes(ep.task) && ep.task) tasks.push(ep.task);
  }
  const statsFile = join(dir, 'meta/stats.json');
  const stats = existsSync(statsFile) ? (readJson(statsFile) as Record<string, FullStats | ImageStats>) : undefined;
  // decoded frames stay in memory while they fit the budget (a quickstart set of 50 x 80 frames x 2
  // views at 64x64 is ~100 MB); past it, images are decoded on every access
  const budget = opts.imageCacheBytes ?? IMAGE_CACHE_BYTES;
  let cached = 0;
  const cache: Record<string, (Uint8Array | undefined)[]> = Object.fromEntries(cameras.map((c) => [c, new Array(n)]));
  const keep = (camera: string, i: number, img: Uint8Array) => {
    if (cached + img.length > budget) return false;
    cache[camera][i] = img;
    cached += img.length;
    return true;
  };
  // a video camera decodes a whole episode per call; past the budget the last episode is kept aside
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
    const frames = decodeVideoFrames(file, { fromSeconds: where?.from ?? 0, frames: ep.length, side: imageSize });
    let all = true;
    frames.forEach((f, t) => { all = keep(camera, ep.from + t, f) && all; });
    if (!all) lastEpisode.set(camera, { from: ep.from, frames });
    return frames[i - ep.from];
  };
  return {
    dir, info, embodiment: e, cameras, imageSize, tasks, numFrames: n, skipped,
    episodes: episodes.map(({ index, length, from, to, task }) => ({ index, length, from, to, task })), state, action, taskIndex, stats,
    image(camera, i) {
      let img = cache[camera]?.[i];
      if (!img && videoCameras.has(camera)) {
        if (!Number.isInteger(i) || i < 0 || i >= n) throw new UserError(`${dir}: no frame ${i} (the dataset has ${n})`);
        img = videoFrame(camera, i);
      } else if (!img) {
        const bytes = png[camera]?.[i];
        if (!bytes) throw new UserError(`${dir}: no image for camera "${camera}" at frame ${i}`);
        const d = decodePng(bytes, `${dir} frame ${i} camera ${camera}`);
        if (d.width !== imageSize || d.height !== imageSize) throw new UserError(`${dir}: frame ${i} camera ${camera} is ${d.width}x${d.height}, info.json says ${imageSize}x${imageSize}`);
        img = d.rgb;
        keep(camera, i, img);
      }
      return img;
    },
  };
}
