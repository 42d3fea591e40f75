/**
 * The LeRobot v3.0 writer: episodes buffered in memory (images PNG-encoded as they arrive), written
 * by finalize() as data/chunk-CCC/file-FFF.parquet files of many episodes each (a new file once
 * one passes data_files_size_in_mb), meta/episodes, meta/tasks.parquet, meta/stats.json and,
 * last, meta/info.json. See lerobot.ts for the layout.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { getEmbodiment } from '../actions/index.ts';
import { encodePng, UserError, writeFileAtomic } from '../util/index.ts';
import { type DatasetInfo, type FeatureInfo, formatPath } from './lerobot-format.ts';
import { addToHistogram, computeStats, imageStats } from './stats.ts';

/** One recorded step: camera images (RGB u8 [S, S, 3]), native state and native action. */
export type EpisodeFrame = { images: Record<string, Uint8Array>; state: ArrayLike<number>; action: ArrayLike<number> };

/** Writes a v3.0 dataset: add episodes, then finalize (which writes every file). */
export type DatasetWriter = {
  /** buffers one episode (images are PNG-encoded now to keep memory small) */
  addEpisode(episode: { task: string; frames: readonly EpisodeFrame[] }): void;
  /** writes the parquet files, info.json and stats.json; returns the frame count */
  finalize(): Promise<{ episodes: number; frames: number }>;
};

const DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
const EPISODES_FILE = 'meta/episodes/chunk-000/file-000.parquet';
const CHUNKS_SIZE = 1000; // files per chunk directory

/** 3-level LIST<FLOAT> schema elements (DuckDB and pyarrow then read FLOAT[]). */
function floatList(name: string) {
  return [
    { name, repetition_type: 'OPTIONAL' as const, num_children: 1, converted_type: 'LIST' as const },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    { name: 'element', type: 'FLOAT' as const, repetition_type: 'OPTIONAL' as const },
  ];
}

/** 3-level LIST<STRING> (an episode's tasks, as LeRobot writes them). */
function textList(name: string) {
  return [
    { name, repetition_type: 'OPTIONAL' as const, num_children: 1, converted_type: 'LIST' as const },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    { name: 'element', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const },
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
 *   createDatasetWriter(dir: string, opts: { embodiment: string; fps?: number; imageSize: number; fileSizeMb?: number }): DatasetWriter
 *   w.addEpisode({ task: string, frames: { images: Record<string, Uint8Array>, state: ArrayLike<number>,
 *                                          action: ArrayLike<number> }[] }): void
 *   await w.finalize(): Promise<{ episodes: number; frames: number }>
 *
 * fileSizeMb (default 100, LeRobot's data_files_size_in_mb): a data file takes whole episodes
 * until its estimated size (PNG bytes + 4 bytes a float + 40 a frame) passes this.
 * images: one per camera, RGB u8 [S, S, 3] row-major; state / action: native vectors in the
 * embodiment's stateNames / actionNames order (stored as float32).
 * e.g. `const w = createDatasetWriter('/tmp/pp', { embodiment: 'panda7', fps: 10, imageSize: 64 })`;
 * cameras are `getEmbodiment('panda7').spec.cameras[*].name`. Throws UserError when `dir` already
 * holds a dataset or a frame has the wrong sizes.
 */
export function createDatasetWriter(dir: string, opts: { embodiment: string; fps?: number; imageSize: number; fileSizeMb?: number; cameras?: readonly string[] }): DatasetWriter {
  const e = getEmbodiment(opts.embodiment);
  if (existsSync(join(dir, 'meta', 'info.json'))) throw new UserError(`${dir} already holds a dataset; choose another --out or delete it`);
  const fps = opts.fps ?? e.spec.fps;
  // `cameras`: a subset of the embodiment's, e.g. to fit a model's view slots
  const cams = opts.cameras ? [...opts.cameras] : e.spec.cameras.map((c) => c.name);
  for (const c of cams) if (!e.spec.cameras.some((x) => x.name === c)) throw new UserError(`${opts.embodiment} has no camera "${c}" (its cameras: ${e.spec.cameras.map((x) => x.name).join(', ')})`);
  const size = opts.imageSize;
  const state: number[][] = [];
  const action: number[][] = [];
  const images: Record<string, { bytes: Uint8Array; path: null }[]> = Object.fromEntries(cams.map((c) => [c, []]));
  const histograms: Record<string, Float64Array> = Object.fromEntries(cams.map((c) => [c, new Float64Array(3 * 256)])); // pixel values per channel
  const frameIndex: bigint[] = [];
  const episodeIndex: bigint[] = [];
  const taskIndex: bigint[] = [];
  const tasks: string[] = [];
  const episodes: { task: string; length: number; from: number; bytes: number; file: number }[] = [];
  const fileSizeMb = opts.fileSizeMb ?? 100;
  if (!(fileSizeMb > 0)) throw new UserError(`fileSizeMb must be > 0, got ${fileSizeMb}`);

  return {
    addEpisode({ task, frames }) {
      if (frames.length === 0) throw new UserError(`episode ${episodes.length} has no frames`);
      let ti = tasks.indexOf(task);
      if (ti < 0) ti = tasks.push(task) - 1;
      const ep = episodes.length;
      const entry = { task, length: frames.length, from: state.length, bytes: 0, file: 0 };
      episodes.push(entry);
      frames.forEach((f, t) => {
        if (f.state.length !== e.stateNames.length) throw new UserError(`episode ${ep} frame ${t}: state has ${f.state.length} values; ${e.name} has ${e.stateNames.length}`);
        if (f.action.length !== e.actionNames.length) throw new UserError(`episode ${ep} frame ${t}: action has ${f.action.length} values; ${e.name} has ${e.actionNames.length}`);
        state.push(Array.from(f.state, Math.fround));
        action.push(Array.from(f.action, Math.fround));
        for (const c of cams) {
          const img = f.images[c];
          if (!img || img.length !== size * size * 3) throw new UserError(`episode ${ep} frame ${t}: camera "${c}" needs a ${size}x${size} RGB image`);
          addToHistogram(histograms[c], img);
          const bytes = encodePng(img, size, size);
          entry.bytes += bytes.length;
          images[c].push({ bytes, path: null });
        }
        frameIndex.push(BigInt(t));
        episodeIndex.push(BigInt(ep));
        taskIndex.push(BigInt(ti));
        entry.bytes += 4 * (f.state.length + f.action.length) + 40;
      });
    },

    async finalize() {
      const n = state.length;
      if (n === 0) throw new UserError('the dataset has no episodes');
      const schema = [
        { name: 'root', num_children: 7 + cams.length },
        ...floatList('observation.state'),
        ...floatList('action'),
        ...cams.flatMap((c) => imageStruct(`observation.images.${c}`)),
        scalar('timestamp', 'FLOAT'),
        scalar('frame_index', 'INT64'),
        scalar('episode_index', 'INT64'),
        scalar('index', 'INT64'),
        scalar('task_index', 'INT64'),
      ];
      // whole episodes per file; a new file once the current one passes fileSizeMb
      let file = 0;
      let fileBytes = 0;
      for (const ep of episodes) {
        if (fileBytes > 0 && fileBytes + ep.bytes > fileSizeMb * 1e6) {
          file++;
          fileBytes = 0;
        }
        ep.file = file;
        fileBytes += ep.bytes;
      }
      const where = (f: number) => ({ chunk_index: Math.floor(f / CHUNKS_SIZE), file_index: f % CHUNKS_SIZE });
      for (let f = 0; f <= file; f++) {
        const eps = episodes.filter((x) => x.file === f);
        const a = eps[0].from;
        const b = eps[eps.length - 1].from + eps[eps.length - 1].length; // rows [a, b)
        const columns = [
          { name: 'observation.state', data: state.slice(a, b) },
          { name: 'action', data: action.slice(a, b) },
          ...cams.map((c) => ({ name: `observation.images.${c}`, data: images[c].slice(a, b) })),
          { name: 'timestamp', data: Float32Array.from(frameIndex.slice(a, b), (t) => Number(t) / fps) },
          { name: 'frame_index', data: frameIndex.slice(a, b) },
          { name: 'episode_index', data: episodeIndex.slice(a, b) },
          { name: 'index', data: Array.from({ length: b - a }, (_, i) => BigInt(a + i)) },
          { name: 'task_index', data: taskIndex.slice(a, b) },
        ];
        writeFileAtomic(join(dir, formatPath(DATA_PATH, where(f))), new Uint8Array(parquetWriteBuffer({ columnData: columns, schema })));
      }
      writeFileAtomic(join(dir, 'meta/tasks.parquet'), new Uint8Array(parquetWriteBuffer({
        columnData: [{ name: 'task_index', data: tasks.map((_, i) => BigInt(i)) }, { name: 'task', data: tasks }],
        schema: [{ name: 'root', num_children: 2 }, scalar('task_index', 'INT64'), text('task')],
      })));
      writeFileAtomic(join(dir, EPISODES_FILE), new Uint8Array(parquetWriteBuffer({
        columnData: [
          { name: 'episode_index', data: episodes.map((_, i) => BigInt(i)) },
          { name: 'tasks', data: episodes.map((x) => [x.task]) },
          { name: 'length', data: episodes.map((x) => BigInt(x.length)) },
          { name: 'data/chunk_index', data: episodes.map((x) => BigInt(where(x.file).chunk_index)) },
          { name: 'data/file_index', data: episodes.map((x) => BigInt(where(x.file).file_index)) },
          { name: 'dataset_from_index', data: episodes.map((x) => BigInt(x.from)) },
          { name: 'dataset_to_index', data: episodes.map((x) => BigInt(x.from + x.length)) },
          { name: 'meta/episodes/chunk_index', data: episodes.map(() => 0n) },
          { name: 'meta/episodes/file_index', data: episodes.map(() => 0n) },
        ],
        schema: [
          { name: 'root', num_children: 9 }, scalar('episode_index', 'INT64'), ...textList('tasks'), scalar('length', 'INT64'),
          scalar('data/chunk_index', 'INT64'), scalar('data/file_index', 'INT64'), scalar('dataset_from_index', 'INT64'), scalar('dataset_to_index', 'INT64'),
          scalar('meta/episodes/chunk_index', 'INT64'), scalar('meta/episodes/file_index', 'INT64'),
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
        chunks_size: CHUNKS_SIZE,
        data_files_size_in_mb: fileSizeMb,
        video_files_size_in_mb: 500,
        fps,
        splits: { train: `0:${episodes.length}` },
        data_path: DATA_PATH,
        video_path: null,
        features,
      };
      const flat = (rows: number[][]) => Float64Array.from(rows.flat());
      const stats = {
        'observation.state': computeStats(flat(state), n, e.stateNames.length),
        action: computeStats(flat(action), n, e.actionNames.length),
        ...Object.fromEntries(cams.map((c) => [`observation.images.${c}`, imageStats(histograms[c], n)])),
      };
      writeFileAtomic(join(dir, 'meta/stats.json'), JSON.stringify(stats, null, 2) + '\n');
      writeFileAtomic(join(dir, 'meta/info.json'), JSON.stringify(info, null, 2) + '\n'); // last: marks the dataset complete
      return { episodes: episodes.length, frames: n };
    },
  };
}

