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
 *
 * openDataset reads info.json and the cameras here, the v3.0 or v2.1 index with lerobot-index.ts,
 * then finds the videos, assembles the frames and reads images with lerobot-frames.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Embodiment, embodimentForRobotType, resolveEmbodiment } from '../actions/index.ts';
import { UserError } from '../util/index.ts';
import type { FullStats, ImageStats } from './stats.ts';
import { resolveFeatureMap } from './feature-map.ts';
import { type DatasetInfo, type EpisodeInfo } from './lerobot-format.ts';
import { readIndexV21, readIndexV30, readJson } from './lerobot-index.ts';
import { assembleFrames, dropEpisodes, imageReader, locateVideos, type SkippedEpisode } from './lerobot-frames.ts';
import { requireFfmpeg } from './video.ts';

export { type DatasetInfo, type EpisodeInfo, type FeatureInfo, formatPath } from './lerobot-format.ts';
export type { SkippedEpisode } from './lerobot-frames.ts';

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

/** Largest side (px) of the square video frames are decoded to. */
export const VIDEO_MAX_SIDE = 256;

/** Default bytes of decoded RGB frames a dataset keeps in memory (1 GiB). */
export const IMAGE_CACHE_BYTES = 1 << 30;

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

/** The cameras a dataset is read with, camera name -> feature key: a spec file's, in its order; else every observation.images.* feature. */
function cameraKeysOf(e: Embodiment, features: DatasetInfo['features'], images: boolean): Map<string, string> {
  const keys = new Map<string, string>();
  if (!images) return keys;
  if (e.file) {
    e.spec.cameras.forEach((c, i) => {
      const key = c.feature ?? `observation.images.${c.name}`;
      const f = features[key];
      const all = Object.keys(features).filter((k) => features[k].dtype === 'video' || features[k].dtype === 'image');
      if (!f || (f.dtype !== 'video' && f.dtype !== 'image')) throw new UserError(`embodiment spec ${e.file}: field "cameras.${i}": the dataset has no camera feature "${key}" (its cameras: ${all.join(', ') || 'none'})`);
      keys.set(c.name, key);
    });
  } else {
    for (const k of Object.keys(features)) if (k.startsWith('observation.images.')) keys.set(k.slice('observation.images.'.length), k);
  }
  return keys;
}

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
  const cameraKeys = cameraKeysOf(e, features, opts.images !== false);
  const cameras = [...cameraKeys.keys()];
  const videoKeys = new Map([...cameraKeys].filter(([, key]) => features[key].dtype === 'video'));
  const videoCameras = new Set(videoKeys.keys());
  if (videoCameras.size) {
    requireFfmpeg(`${dir}: camera "${[...videoCameras][0]}"`);
    if (typeof info.video_path !== 'string') throw new UserError(`${infoFile}: camera "${[...videoCameras][0]}" is a video feature but info.json has no video_path`);
  }
  // video frames are centre-cropped to a square of the shorter side, at most VIDEO_MAX_SIDE
  const sideOf = (c: string) => {
    const [h, w] = features[cameraKeys.get(c)!].shape;
    return videoCameras.has(c) ? Math.min(h, w, VIDEO_MAX_SIDE) : h;
  };
  const imageSize = cameras.length ? sideOf(cameras[0]) : 0;

  const index = version === 'v3.0' ? await readIndexV30(dir, info, videoKeys) : await readIndexV21(dir, info);
  const { tasks } = index;
  const listed = index.episodes.reduce((s, x) => s + x.length, 0);
  if (listed !== index.rows.length) throw new UserError(`${dir}: the episode index lists ${listed} frames but the data files hold ${index.rows.length}`);
  const skipped = videoCameras.size ? locateVideos(dir, info, index.episodes, videoKeys, opts.skipMissing ?? false) : [];
  const { episodes, rows } = dropEpisodes(index.episodes, index.rows, skipped);
  const n = rows.length;
  const { state, action, taskIndex, png } = assembleFrames(dir, rows, { features, stateMap, actionMap, cameraKeys, videoCameras });
  // frames of an episode with an unknown task fall back to the episode's own task string
  for (const ep of episodes) {
    if (!tasks.includes(ep.task) && ep.task) tasks.push(ep.task);
  }
  const statsFile = join(dir, 'meta/stats.json');
  const stats = existsSync(statsFile) ? (readJson(statsFile) as Record<string, FullStats | ImageStats>) : undefined;
  const image = imageReader(dir, { cameras, videoCameras, episodes, png, side: imageSize, numFrames: n, budget: opts.imageCacheBytes ?? IMAGE_CACHE_BYTES });
  return {
    dir, info, embodiment: e, cameras, imageSize, tasks, numFrames: n, skipped,
    episodes: episodes.map(({ index, length, from, to, task }) => ({ index, length, from, to, task })), state, action, taskIndex, stats,
    image,
  };
}
