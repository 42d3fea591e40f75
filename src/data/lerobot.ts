/**
 * LeRobot datasets on disk: a v3.0 writer, and a reader for v3.0 and v2.1.
 *
 * v3.0 layout (what vlalab writes; many episodes per file):
 *   meta/info.json                              codebase_version, robot_type, fps, totals, features, path templates
 *   meta/stats.json                             per feature: mean std min max count q01 q10 q50 q90 q99
 *   meta/tasks.parquet                          task_index, task
 *   meta/episodes/chunk-000/file-000.parquet    episode_index, tasks, length, data/chunk_index, data/file_index,
 *                                               dataset_from_index, dataset_to_index
 *   data/chunk-000/file-000.parquet             observation.state, action (LIST<FLOAT>), observation.images.<cam>
 *                                               (struct {bytes: PNG, path}), timestamp, frame_index, episode_index,
 *                                               index, task_index
 * v2.1 layout (read only): meta/episodes.jsonl, meta/tasks.jsonl, data/chunk-XXX/episode_XXXXXX.parquet.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type Embodiment, embodimentForRobotType, getEmbodiment } from '../actions/index.ts';
import { decodePng, encodePng, UserError, writeFileAtomic } from '../util/index.ts';
import { computeStats, type FullStats } from './stats.ts';

/** One recorded step: camera images (RGB u8 [S, S, 3]), native state and native action. */
export type EpisodeFrame = { images: Record<string, Uint8Array>; state: ArrayLike<number>; action: ArrayLike<number> };

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

/** Writes a v3.0 dataset: add episodes, then finalize (which writes every file). */
export type DatasetWriter = {
  /** buffers one episode (images are PNG-encoded now to keep memory small) */
  addEpisode(episode: { task: string; frames: readonly EpisodeFrame[] }): void;
  /** writes the parquet files, info.json and stats.json; returns the frame count */
  finalize(): Promise<{ episodes: number; frames: number }>;
};

const DATA_FILE = 'data/chunk-000/file-000.parquet';
const EPISODES_FILE = 'meta/episodes/chunk-000/file-000.parquet';

/** 3-level LIST<FLOAT> schema elements (DuckDB and pyarrow then read FLOAT[]). */
function floatList(name: string) {
  return [
    { name, repetition_type: 'OPTIONAL' as const, num_children: 1, converted_type: 'LIST' as const },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    { name: 'element', type: 'FLOAT' as const, repetition_type: 'OPTIONAL' as const },
  ];
}

function imageStruct(name: string) {
  return [
    { name, repetition_type: 'OPTIONAL' as const, num_children: 2 },
    { name: 'bytes', type: 'BYTE_ARRAY' as const, repetition_type: 'OPTIONAL' as const },
    { name: 'path', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const },
  ];
}

const scalar = (name: string, type: 'INT64' | 'FLOAT') => ({ name, type, repetition_type: 'REQUIRED' as const });
const text = (name: string) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const });

/**
 * A writer for a new v3.0 dataset of `embodiment` (names, cameras and robot_type from the actions
 * registry) at `dir`, recorded at `fps` (default: the embodiment's) with square images of
 * `imageSize` pixels. Nothing is written before finalize(); info.json is written last, so a
 * directory without it is an unfinished recording.
 *
 *   createDatasetWriter(dir: string, opts: { embodiment: string; fps?: number; imageSize: number }): DatasetWriter
 *   w.addEpisode({ task: string, frames: { images: Record<string, Uint8Array>, state: ArrayLike<number>,
 *                                          action: ArrayLike<number> }[] }): void
 *   await w.finalize(): Promise<{ episodes: number; frames: number }>
 *
 * images: one per camera, RGB u8 [S, S, 3] row-major; state / action: native vectors in the
 * embodiment's stateNames / actionNames order (stored as float32).
 * e.g. `const w = createDatasetWriter('/tmp/pp', { embodiment: 'panda7', fps: 10, imageSize: 64 })`;
 * cameras are `getEmbodiment('panda7').spec.cameras[*].name`. Throws UserError when `dir` already
 * holds a dataset or a frame has the wrong sizes.
 */
export function createDatasetWriter(dir: string, opts: { embodiment: string; fps?: number; imageSize: number }): DatasetWriter {
  const e = getEmbodiment(opts.embodiment);
  if (existsSync(join(dir, 'meta', 'info.json'))) throw new UserError(`${dir} already holds a dataset; choose another --out or delete it`);
  const fps = opts.fps ?? e.spec.fps;
  const cams = e.spec.cameras.map((c) => c.name);
  const size = opts.imageSize;
  const state: number[][] = [];
  const action: number[][] = [];
  const images: Record<string, { bytes: Uint8Array; path: null }[]> = Object.fromEntries(cams.map((c) => [c, []]));
  const frameIndex: bigint[] = [];
  const episodeIndex: bigint[] = [];
  const taskIndex: bigint[] = [];
  const tasks: string[] = [];
  const episodes: { task: string; length: number; from: number }[] = [];

  return {
    addEpisode({ task, frames }) {
      if (frames.length === 0) throw new UserError(`episode ${episodes.length} has no frames`);
      let ti = tasks.indexOf(task);
      if (ti < 0) ti = tasks.push(task) - 1;
      const ep = episodes.length;
      episodes.push({ task, length: frames.length, from: state.length });
      frames.forEach((f, t) => {
        if (f.state.length !== e.stateNames.length) throw new UserError(`episode ${ep} frame ${t}: state has ${f.state.length} values; ${e.name} has ${e.stateNames.length}`);
        if (f.action.length !== e.actionNames.length) throw new UserError(`episode ${ep} frame ${t}: action has ${f.action.length} values; ${e.name} has ${e.actionNames.length}`);
        state.push(Array.from(f.state, Math.fround));
        action.push(Array.from(f.action, Math.fround));
        for (const c of cams) {
          const img = f.images[c];
          if (!img || img.length !== size * size * 3) throw new UserError(`episode ${ep} frame ${t}: camera "${c}" needs a ${size}x${size} RGB image`);
          images[c].push({ bytes: encodePng(img, size, size), path: null });
        }
        frameIndex.push(BigInt(t));
        episodeIndex.push(BigInt(ep));
        taskIndex.push(BigInt(ti));
      });
    },

    async finalize() {
      const n = state.length;
      if (n === 0) throw new UserError('the dataset has no episodes');
      const columns = [
        { name: 'observation.state', data: state },
        { name: 'action', data: action },
        ...cams.map((c) => ({ name: `observation.images.${c}`, data: images[c] })),
        { name: 'timestamp', data: Float32Array.from(frameIndex, (f) => Number(f) / fps) },
        { name: 'frame_index', data: frameIndex },
        { name: 'episode_index', data: episodeIndex },
        { name: 'index', data: Array.from({ length: n }, (_, i) => BigInt(i)) },
        { name: 'task_index', data: taskIndex },
      ];
      const schema = [
        { name: 'root', num_children: columns.length },
        ...floatList('observation.state'),
        ...floatList('action'),
        ...cams.flatMap((c) => imageStruct(`observation.images.${c}`)),
        scalar('timestamp', 'FLOAT'),
        scalar('frame_index', 'INT64'),
        scalar('episode_index', 'INT64'),
        scalar('index', 'INT64'),
        scalar('task_index', 'INT64'),
      ];
      writeFileAtomic(join(dir, DATA_FILE), new Uint8Array(parquetWriteBuffer({ columnData: columns, schema })));
      writeFileAtomic(join(dir, 'meta/tasks.parquet'), new Uint8Array(parquetWriteBuffer({
        columnData: [{ name: 'task_index', data: tasks.map((_, i) => BigInt(i)) }, { name: 'task', data: tasks }],
        schema: [{ name: 'root', num_children: 2 }, scalar('task_index', 'INT64'), text('task')],
      })));
      writeFileAtomic(join(dir, EPISODES_FILE), new Uint8Array(parquetWriteBuffer({
        columnData: [
          { name: 'episode_index', data: episodes.map((_, i) => BigInt(i)) },
          { name: 'tasks', data: episodes.map((x) => x.task) },
          { name: 'length', data: episodes.map((x) => BigInt(x.length)) },
          { name: 'data/chunk_index', data: episodes.map(() => 0n) },
          { name: 'data/file_index', data: episodes.map(() => 0n) },
          { name: 'dataset_from_index', data: episodes.map((x) => BigInt(x.from)) },
          { name: 'dataset_to_index', data: episodes.map((x) => BigInt(x.from + x.length)) },
        ],
        schema: [
          { name: 'root', num_children: 7 }, scalar('episode_index', 'INT64'), text('tasks'), scalar('length', 'INT64'),
          scalar('data/chunk_index', 'INT64'), scalar('data/file_index', 'INT64'), scalar('dataset_from_index', 'INT64'), scalar('dataset_to_index', 'INT64'),
        ],
      })));
      const features: Record<string, FeatureInfo> = {
        'observation.state': { dtype: 'float32', shape: [e.stateNames.length], names: [...e.stateNames] },
        action: { dtype: 'float32', shape: [e.actionNames.length], names: [...e.actionNames] },
        ...Object.fromEntries(cams.map((c) => [`observation.images.${c}`, { dtype: 'image', shape: [size, size, 3], names: ['height', 'width', 'channels'] }])),
        timestamp: { dtype: 'float32', shape: [1], names: null },
        frame_index: { dtype: 'int64', shape: [1], names: null },
        episode_index: { dtype: 'int64', shape: [1], names: null },
        index: { dtype: 'int64', shape: [1], names: null },
        task_index: { dtype: 'int64', shape: [1], names: null },
      };
      const info: DatasetInfo = {
        codebase_version: 'v3.0',
        robot_type: e.spec.robotType,
        total_episodes: episodes.length,
        total_frames: n,
        total_tasks: tasks.length,
        chunks_size: 1000,
        data_files_size_in_mb: 100,
        video_files_size_in_mb: 500,
        fps,
        splits: { train: `0:${episodes.length}` },
        data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
        video_path: null,
        features,
      };
      const flat = (rows: number[][]) => Float64Array.from(rows.flat());
      const stats = {
        'observation.state': computeStats(flat(state), n, e.stateNames.length),
        action: computeStats(flat(action), n, e.actionNames.length),
      };
      writeFileAtomic(join(dir, 'meta/stats.json'), JSON.stringify(stats, null, 2) + '\n');
      writeFileAtomic(join(dir, 'meta/info.json'), JSON.stringify(info, null, 2) + '\n'); // last: marks the dataset complete
      return { episodes: episodes.length, frames: n };
    },
  };
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
  /** native feature stats from meta/stats.json, if present */
  stats?: Record<string, FullStats>;
  /** the decoded RGB image [S, S, 3] of `camera` at global frame `i` (cached within the budget; do not modify it) */
  image(camera: string, i: number): Uint8Array;
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

/** Default bytes of decoded RGB frames a dataset keeps in memory (1 GiB). */
export const IMAGE_CACHE_BYTES = 1 << 30;

/**
 * Reads a LeRobot dataset (v3.0 or v2.1). The embodiment comes from info.json's robot_type unless
 * `embodiment` names one. Decoded images are cached up to `imageCacheBytes` (default
 * IMAGE_CACHE_BYTES); frame data (state, action, PNG bytes) is held in memory.
 */
export async function openDataset(dir: string, opts: { embodiment?: string; imageCacheBytes?: number } = {}): Promise<Dataset> {
  const infoFile = join(dir, 'meta', 'info.json');
  const info = readJson(infoFile) as DatasetInfo;
  const version = String(info.codebase_version ?? '');
  if (!['v3.0', 'v2.1', 'v2.0'].includes(version)) throw new UserError(`${infoFile}: codebase_version "${version}" is not supported (v3.0 or v2.1)`);
  const e = opts.embodiment ? getEmbodiment(opts.embodiment) : embodimentForRobotType(String(info.robot_type));
  if (!e) throw new UserError(`${infoFile}: robot_type "${info.robot_type}" is not a registered embodiment; pass --embodiment NAME (see \`vlalab embodiments\`)`);
  const features = info.features ?? {};
  for (const key of ['observation.state', 'action']) {
    if (!features[key]) throw new UserError(`${infoFile}: features has no "${key}"`);
  }
  const ds = features['observation.state'].shape[0];
  const da = features.action.shape[0];
  if (ds !== e.stateNames.length || da !== e.actionNames.length) {
    throw new UserError(`${infoFile}: state/action have ${ds}/${da} dims but embodiment ${e.name} has ${e.stateNames.length}/${e.actionNames.length}`);
  }
  const cameras = Object.keys(features).filter((k) => k.startsWith('observation.images.')).map((k) => k.slice('observation.images.'.length));
  for (const c of cameras) {
    const f = features[`observation.images.${c}`];
    if (f.dtype === 'video') throw new UserError(`${infoFile}: camera "${c}" is stored as video; vlalab reads image features only (decode the videos with ffmpeg into an image dataset first)`);
  }
  const imageSize = cameras.length ? features[`observation.images.${cameras[0]}`].shape[0] : 0;

  // frames and episodes
  let rows: Record<string, unknown>[] = [];
  let tasks: string[];
  const episodes: EpisodeInfo[] = [];
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
        episodes.push({ index: Number(r.episode_index), length: Number(r.length), from: Number(r.dataset_from_index), to: Number(r.dataset_to_index), task: Array.isArray(t) ? str(t[0]) : str(t) });
      }
    }
    const dataFiles = [...new Set(episodes.map(() => DATA_FILE))];
    for (const f of dataFiles) rows = rows.concat(await readParquet(join(dir, f), 'frame data'));
  } else {
    tasks = [];
    for (const r of readJsonl(join(dir, 'meta/tasks.jsonl'))) tasks[Number(r.task_index)] = String(r.task);
    let from = 0;
    for (const r of readJsonl(join(dir, 'meta/episodes.jsonl'))) {
      const index = Number(r.episode_index);
      const file = join(dir, String(info.data_path).replace('{episode_chunk:03d}', String(Math.floor(index / (info.chunks_size || 1000))).padStart(3, '0')).replace('{episode_index:06d}', String(index).padStart(6, '0')));
      const part = await readParquet(file, `episode ${index}`);
      const length = part.length;
      episodes.push({ index, length, from, to: from + length, task: Array.isArray(r.tasks) ? String(r.tasks[0]) : '' });
      from += length;
      rows = rows.concat(part);
    }
  }
  const n = rows.length;
  if (episodes.reduce((s, x) => s + x.length, 0) !== n) throw new UserError(`${dir}: the episode index lists ${episodes.reduce((s, x) => s + x.length, 0)} frames but the data files hold ${n}`);
  const state = new Float32Array(n * ds);
  const action = new Float32Array(n * da);
  const taskIndex = new Int32Array(n);
  const png: Record<string, Uint8Array[]> = Object.fromEntries(cameras.map((c) => [c, []]));
  rows.forEach((r, i) => {
    const s = r['observation.state'] as number[];
    const a = r.action as number[];
    if (!Array.isArray(s) || s.length !== ds) throw new UserError(`${dir}: frame ${i} has observation.state of length ${Array.isArray(s) ? s.length : 'none'} but info.json says ${ds}`);
    if (!Array.isArray(a) || a.length !== da) throw new UserError(`${dir}: frame ${i} has action of length ${Array.isArray(a) ? a.length : 'none'} but info.json says ${da}`);
    state.set(s, i * ds);
    action.set(a, i * da);
    taskIndex[i] = Number(r.task_index ?? 0);
    for (const c of cameras) {
      const img = r[`observation.images.${c}`] as { bytes?: Uint8Array } | undefined;
      if (!img?.bytes) throw new UserError(`${dir}: frame ${i} has no image for camera "${c}"`);
      png[c].push(img.bytes);
    }
  });
  // frames of an episode with an unknown task fall back to the episode's own task string
  for (const ep of episodes) {
    if (!tasks.includes(ep.task) && ep.task) tasks.push(ep.task);
  }
  const statsFile = join(dir, 'meta/stats.json');
  const stats = existsSync(statsFile) ? (readJson(statsFile) as Record<string, FullStats>) : undefined;
  // decoded frames stay in memory while they fit the budget (a quickstart set of 50 x 80 frames x 2
  // views at 64x64 is ~100 MB); past it, images are decoded on every access
  const budget = opts.imageCacheBytes ?? IMAGE_CACHE_BYTES;
  let cached = 0;
  const cache: Record<string, (Uint8Array | undefined)[]> = Object.fromEntries(cameras.map((c) => [c, new Array(n)]));
  return {
    dir, info, embodiment: e, cameras, imageSize, tasks, episodes, numFrames: n, state, action, taskIndex, stats,
    image(camera, i) {
      let img = cache[camera]?.[i];
      if (!img) {
        const bytes = png[camera]?.[i];
        if (!bytes) throw new UserError(`${dir}: no image for camera "${camera}" at frame ${i}`);
        const d = decodePng(bytes, `${dir} frame ${i} camera ${camera}`);
        if (d.width !== imageSize || d.height !== imageSize) throw new UserError(`${dir}: frame ${i} camera ${camera} is ${d.width}x${d.height}, info.json says ${imageSize}x${imageSize}`);
        img = d.rgb;
        if (cached + img.length <= budget) {
          cache[camera][i] = img;
          cached += img.length;
        }
      }
      return img;
    },
  };
}
