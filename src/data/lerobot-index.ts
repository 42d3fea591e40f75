/**
 * The episode index of a LeRobot dataset, v3.0 and v2.1, and the frame rows it points at: the
 * readers of meta/ and data/ for openDataset (lerobot.ts). Videos and frame assembly live beside
 * it (lerobot-frames.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { UserError } from '../util/index.ts';
import { type DatasetInfo, type EpisodeInfo, formatPath } from './lerobot-format.ts';

/** Where an episode's mp4 of one camera is, per the v3.0 episode index (chunk, file, start time in it). */
export type VideoRef = { chunk: number; file: number; from: number };

/** An episode with where its frames and videos live. */
export type IndexedEpisode = EpisodeInfo & {
  /** v3.0: the data file holding its rows */
  chunk?: number;
  file?: number;
  /** v3.0: per video camera, where its mp4 is */
  video?: Record<string, VideoRef>;
  /** per video camera, the mp4 path found (relative to the dataset), set by locateVideos */
  videoFile?: Record<string, string>;
};

/** The index of a dataset: task strings by task_index, episodes in global frame order, and every frame row in that order. */
export type DatasetIndex = { tasks: string[]; episodes: IndexedEpisode[]; rows: Record<string, unknown>[] };

/** The rows of a parquet file; a missing or unreadable one is a UserError naming `what` it holds. */
export async function readParquet(file: string, what: string): Promise<Record<string, unknown>[]> {
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

/** A JSON file of the dataset; missing or invalid is a UserError. */
export function readJson(file: string): unknown {
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

const str = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));

/**
 * v3.0: meta/tasks.parquet, meta/episodes/chunk-*\/file-*.parquet (with each video camera's
 * chunk, file and from_timestamp; `videoKeys` maps a camera to its feature key) and the data files
 * the episodes name, concatenated in (chunk, file) order to the global index.
 */
export async function readIndexV30(dir: string, info: DatasetInfo, videoKeys: ReadonlyMap<string, string>): Promise<DatasetIndex> {
  const tasks: string[] = [];
  for (const r of await readParquet(join(dir, 'meta/tasks.parquet'), 'task list')) tasks[Number(r.task_index)] = str(r.task ?? r.__index_level_0__);
  const epDir = join(dir, 'meta/episodes');
  const epFiles = existsSync(epDir) ? readdirSync(epDir).sort().flatMap((c) => readdirSync(join(epDir, c)).sort().map((f) => join(epDir, c, f))) : [];
  if (epFiles.length === 0) throw new UserError(`${epDir} has no episode files; the dataset is incomplete`);
  const episodes: IndexedEpisode[] = [];
  for (const f of epFiles) {
    for (const r of await readParquet(f, 'episode index')) {
      const t = r.tasks;
      episodes.push({
        index: Number(r.episode_index), length: Number(r.length), from: Number(r.dataset_from_index), to: Number(r.dataset_to_index),
        task: Array.isArray(t) ? str(t[0]) : str(t), chunk: Number(r['data/chunk_index'] ?? 0), file: Number(r['data/file_index'] ?? 0),
        video: Object.fromEntries([...videoKeys].map(([c, feature]) => {
          const key = `videos/${feature}`;
          return [c, { chunk: Number(r[`${key}/chunk_index`] ?? 0), file: Number(r[`${key}/file_index`] ?? 0), from: Number(r[`${key}/from_timestamp`] ?? 0) }];
        })),
      });
    }
  }
  // the data files the episodes live in, in (chunk, file) order; their rows concatenate to the global index
  episodes.sort((a, b) => a.from - b.from);
  const dataFiles = [...new Set(episodes.map((x) => `${x.chunk}/${x.file}`))]
    .map((k) => k.split('/').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const rows: Record<string, unknown>[] = [];
  for (const [chunk, file] of dataFiles) {
    for (const r of await readParquet(join(dir, formatPath(String(info.data_path), { chunk_index: chunk, file_index: file })), 'frame data')) rows.push(r);
  }
  for (const ep of episodes) {
    const first = rows[ep.from];
    if (first && 'episode_index' in first && Number(first.episode_index) !== ep.index) {
      throw new UserError(`${dir}: episode ${ep.index} should start at frame ${ep.from} but the data files hold episode ${Number(first.episode_index)} there; the episode index and data files disagree`);
    }
  }
  return { tasks, episodes, rows };
}

/** v2.1: meta/tasks.jsonl, meta/episodes.jsonl and one data file per episode, in the order listed. */
export async function readIndexV21(dir: string, info: DatasetInfo): Promise<DatasetIndex> {
  const tasks: string[] = [];
  for (const r of readJsonl(join(dir, 'meta/tasks.jsonl'))) tasks[Number(r.task_index)] = String(r.task);
  const episodes: IndexedEpisode[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const r of readJsonl(join(dir, 'meta/episodes.jsonl'))) {
    const index = Number(r.episode_index);
    const file = join(dir, formatPath(String(info.data_path), { episode_chunk: Math.floor(index / (info.chunks_size || 1000)), episode_index: index }));
    const part = await readParquet(file, `episode ${index}`);
    episodes.push({ index, length: part.length, from: rows.length, to: rows.length + part.length, task: Array.isArray(r.tasks) ? String(r.tasks[0]) : '' });
    for (const x of part) rows.push(x);
  }
  return { tasks, episodes, rows };
}
