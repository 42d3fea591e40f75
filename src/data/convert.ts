/**
 * LeRobot v2.1 -> v3.0 (`vlalab data convert DIR --to v3.0 --out DIR2`): the same frames, tasks,
 * stats and videos in the v3.0 layout (lerobot.ts). Frames of many episodes go into each
 * data/chunk-CCC/file-FFF.parquet (a new file past data_files_size_in_mb), with every column and
 * its parquet schema as in the source; tasks and the episode index become parquet files; each
 * episode's mp4 is copied as its own file (v3.0 allows any number of episodes per file, and a copy
 * keeps the bytes, so no frame is re-encoded); meta/stats.json is kept when the source has one,
 * else computed: numeric features exactly from the frames, camera features pooled from
 * episodes_stats.jsonl (mean, std, min, max exactly; quantiles as count-weighted means).
 * info.json is written last, so an interrupted conversion is not mistaken for a dataset.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { UserError, writeFileAtomic } from '../util/index.ts';
import { inspectDataset, topLevelColumns } from './inspect.ts';
import { type DatasetInfo, formatPath } from './lerobot-format.ts';
import { computeStats } from './stats.ts';

/** v3.0 path templates. */
export const V30_DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const V30_VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
const CHUNKS_SIZE = 1000;

/** What a conversion wrote. */
export type ConvertResult = { out: string; episodes: number; frames: number; dataFiles: number; videos: number; missingVideos: string[]; stats: 'kept' | 'computed' };

const i64 = (name: string) => ({ name, type: 'INT64' as const, repetition_type: 'REQUIRED' as const });
const f64 = (name: string) => ({ name, type: 'DOUBLE' as const, repetition_type: 'REQUIRED' as const });
const text = (name: string, repetition: 'REQUIRED' | 'OPTIONAL' = 'REQUIRED') => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: repetition });

async function readRows(file: string): Promise<{ rows: Record<string, unknown>[]; schema: ReturnType<typeof parquetMetadata>['schema'] }> {
  if (!existsSync(file)) throw new UserError(`${file} is missing; the source dataset is incomplete (re-download it)`);
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  try {
    const meta = parquetMetadata(ab);
    // utf8: false keeps binary columns (PNG bytes) as bytes; they are written back as they were read
    return { rows: (await parquetReadObjects({ file: ab, utf8: false })) as Record<string, unknown>[], schema: meta.schema };
  } catch (err) {
    throw new UserError(`${file} is not a readable parquet file (${(err as Error).message})`);
  }
}

/**
 * Converts the v2.1 dataset at `src` into a new v3.0 dataset at `out`. Throws a UserError when
 * `src` is not v2.1/v2.0, `out` already holds a dataset, or frame data is missing; missing mp4s are
 * listed in the result (and by `vlalab data validate` on the output) rather than invented.
 */
export async function convertToV30(src: string, out: string, opts: { fileSizeMb?: number } = {}): Promise<ConvertResult> {
  const report = await inspectDataset(src, { probe: false });
  const version = report.codebase_version;
  if (version === 'v3.0') throw new UserError(`${src} is already LeRobot v3.0; nothing to convert`);
  if (!['v2.1', 'v2.0'].includes(version)) throw new UserError(`${src}: ${report.problems[0]?.message ?? `codebase_version "${version}" cannot be converted (v2.1 or v2.0 -> v3.0)`}`);
  if (existsSync(join(out, 'meta', 'info.json'))) throw new UserError(`${out} already holds a dataset; choose another --out or delete it`);
  const info = JSON.parse(readFileSync(join(src, 'meta/info.json'), 'utf8')) as DatasetInfo;
  const fps = Number(info.fps);
  const fileSizeMb = opts.fileSizeMb ?? Number(info.data_files_size_in_mb ?? 100);
  const videoKeys = report.features.filter((f) => f.dtype === 'video').map((f) => f.key);

  // frames: whole episodes per data file, a new file once the source bytes pass fileSizeMb
  type Placed = { index: number; length: number; task: string; from: number; file: number };
  const placed: Placed[] = [];
  let pending: Record<string, unknown>[] = [];
  let schema: ReturnType<typeof parquetMetadata>['schema'] | undefined;
  let columns: string[] = [];
  let file = 0;
  let bytes = 0;
  let frames = 0;
  const flush = () => {
    if (!pending.length || !schema) return;
    const rel = formatPath(V30_DATA_PATH, { chunk_index: Math.floor(file / CHUNKS_SIZE), file_index: file % CHUNKS_SIZE });
    const columnData = columns.map((name) => ({ name, data: pending.map((r) => r[name]) }));
    writeFileAtomic(join(out, rel), new Uint8Array(parquetWriteBuffer({ columnData, schema })));
    pending = [];
    file++;
    bytes = 0;
  };
  for (const ep of report.episodes) {
    const rel = formatPath(String(info.data_path), { episode_chunk: ep.chunk, episode_index: ep.index });
    const part = await readRows(join(src, rel));
    if (!schema) {
      schema = part.schema;
      columns = topLevelColumns(schema);
    } else if (topLevelColumns(part.schema).join() !== columns.join()) {
      throw new UserError(`${join(src, rel)} has columns ${topLevelColumns(part.schema).join(', ')} but the first episode has ${columns.join(', ')}; every episode needs the same columns`);
    }
    if (part.rows.length !== ep.length) throw new UserError(`${join(src, rel)} holds ${part.rows.length} frames but meta/episodes.jsonl says ${ep.length}; fix the episode index first (\`vlalab data validate ${src}\`)`);
    const size = statSync(join(src, rel)).size;
    if (bytes > 0 && bytes + size > fileSizeMb * 1e6) flush();
    placed.push({ index: ep.index, length: ep.length, task: ep.task, from: frames, file });
    frames += ep.length;
    bytes += size;
    for (const r of part.rows) pending.push(r);
  }
  flush();
  if (!placed.length) throw new UserError(`${src} has no episodes to convert`);

  // videos: each episode's mp4 (found at video_path or elsewhere under videos/) as file <episode> of its chunk
  const missingVideos: string[] = [];
  let videos = 0;
  const where = (ep: number) => ({ chunk_index: Math.floor(ep / CHUNKS_SIZE), file_index: ep % CHUNKS_SIZE });
  for (const ep of report.episodes) {
    for (const key of videoKeys) {
      const cam = key.replace(/^observation\.images\./, '');
      const loc = ep.video[cam];
      if (!loc?.found) {
        missingVideos.push(loc?.expected ?? key);
        continue;
      }
      const dest = join(out, formatPath(V30_VIDEO_PATH, { video_key: key, ...where(ep.index) }));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(join(src, loc.found), dest);
      videos++;
    }
  }

  // tasks and the episode index
  const tasks = report.tasks;
  writeFileAtomic(join(out, 'meta/tasks.parquet'), new Uint8Array(parquetWriteBuffer({
    columnData: [{ name: 'task_index', data: tasks.map((_, i) => BigInt(i)) }, { name: 'task', data: tasks }],
    schema: [{ name: 'schema', num_children: 2 }, i64('task_index'), text('task')],
  })));
  const vcols = videoKeys.flatMap((k) => [
    { col: i64(`videos/${k}/chunk_index`), data: placed.map((p) => BigInt(where(p.index).chunk_index)) },
    { col: i64(`videos/${k}/file_index`), data: placed.map((p) => BigInt(where(p.index).file_index)) },
    { col: f64(`videos/${k}/from_timestamp`), data: placed.map(() => 0) },
    { col: f64(`videos/${k}/to_timestamp`), data: placed.map((p) => p.length / fps) },
  ]);
  writeFileAtomic(join(out, 'meta/episodes/chunk-000/file-000.parquet'), new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: 'episode_index', data: placed.map((p) => BigInt(p.index)) },
      { name: 'tasks', data: placed.map((p) => [p.task]) },
      { name: 'length', data: placed.map((p) => BigInt(p.length)) },
      { name: 'data/chunk_index', data: placed.map((p) => BigInt(Math.floor(p.file / CHUNKS_SIZE))) },
      { name: 'data/file_index', data: placed.map((p) => BigInt(p.file % CHUNKS_SIZE)) },
      { name: 'dataset_from_index', data: placed.map((p) => BigInt(p.from)) },
      { name: 'dataset_to_index', data: placed.map((p) => BigInt(p.from + p.length)) },
      ...vcols.map((v) => ({ name: v.col.name, data: v.data })),
      { name: 'meta/episodes/chunk_index', data: placed.map(() => 0n) },
      { name: 'meta/episodes/file_index', data: placed.map(() => 0n) },
    ],
    schema: [
      { name: 'schema', num_children: 9 + vcols.length }, i64('episode_index'),
      { name: 'tasks', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' }, { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, text('element', 'OPTIONAL'),
      i64('length'), i64('data/chunk_index'), i64('data/file_index'), i64('dataset_from_index'), i64('dataset_to_index'),
      ...vcols.map((v) => v.col), i64('meta/episodes/chunk_index'), i64('meta/episodes/file_index'),
    ],
  })));

  // stats, then info.json (last)
  const statsFile = join(src, 'meta/stats.json');
  let stats: 'kept' | 'computed' = 'kept';
  if (existsSync(statsFile)) copyFileSync(statsFile, join(out, 'meta/stats.json'));
  else {
    stats = 'computed';
    writeFileAtomic(join(out, 'meta/stats.json'), JSON.stringify(await computeDatasetStats(out, info, src), null, 2) + '\n');
  }
  const { total_chunks: _c, total_videos: _v, ...rest } = info;
  const v3: DatasetInfo = {
    ...rest, codebase_version: 'v3.0', total_episodes: placed.length, total_frames: frames, total_tasks: tasks.length,
    chunks_size: CHUNKS_SIZE, data_files_size_in_mb: fileSizeMb, video_files_size_in_mb: Number(info.video_files_size_in_mb ?? 500),
    data_path: V30_DATA_PATH, video_path: videoKeys.length ? V30_VIDEO_PATH : null,
  };
  writeFileAtomic(join(out, 'meta/info.json'), JSON.stringify(v3, null, 4) + '\n');
  return { out, episodes: placed.length, frames, dataFiles: file, videos, missingVideos, stats };
}

/**
 * stats.json of the converted dataset: numeric features from its frames (computeStats, exact), the
 * others pooled from the source's episodes_stats.jsonl when it has them.
 */
async function computeDatasetStats(out: string, info: DatasetInfo, src: string): Promise<Record<string, unknown>> {
  const stats: Record<string, unknown> = {};
  const numeric = Object.entries(info.features).filter(([, f]) => f.dtype !== 'video' && f.dtype !== 'image' && f.dtype !== 'string' && f.shape.length === 1).map(([k, f]) => [k, f.shape[0]] as const);
  const rows: Record<string, unknown>[] = [];
  for (let file = 0; ; file++) {
    const p = join(out, formatPath(V30_DATA_PATH, { chunk_index: Math.floor(file / CHUNKS_SIZE), file_index: file % CHUNKS_SIZE }));
    if (!existsSync(p)) break;
    for (const r of (await readRows(p)).rows) rows.push(r);
  }
  for (const [key, dim] of numeric) {
    if (!(key in (rows[0] ?? {}))) continue;
    const flat = new Float64Array(rows.length * dim);
    rows.forEach((r, i) => {
      const v = r[key];
      if (Array.isArray(v)) v.forEach((x, d) => { flat[i * dim + d] = Number(x); });
      else flat[i * dim] = Number(v);
    });
    stats[key] = computeStats(flat, rows.length, dim);
  }
  const epStats = join(src, 'meta/episodes_stats.jsonl');
  if (!existsSync(epStats)) return stats;
  const per = readFileSync(epStats, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).stats as Record<string, Record<string, unknown>>);
  for (const key of Object.keys(info.features)) {
    if (key in stats) continue;
    const parts = per.map((s) => s?.[key]).filter(Boolean);
    if (parts.length) stats[key] = poolStats(parts);
  }
  return stats;
}

/** Pools per-episode stats (nested arrays of the same shape): exact mean, std, min, max, count; count-weighted quantiles. */
export function poolStats(parts: Record<string, unknown>[]): Record<string, unknown> {
  const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [Number(x)]);
  const shapeLike = (template: unknown, values: number[]): unknown => {
    let k = 0;
    const fill = (t: unknown): unknown => (Array.isArray(t) ? t.map(fill) : values[k++]);
    return fill(template);
  };
  const counts = parts.map((p) => flat(p.count)[0]);
  const n = counts.reduce((a, b) => a + b, 0);
  const template = parts[0].mean;
  const means = parts.map((p) => flat(p.mean));
  const mean = means[0].map((_, d) => means.reduce((s, m, i) => s + counts[i] * m[d], 0) / n);
  const out: Record<string, unknown> = { mean: shapeLike(template, mean) };
  if (parts.every((p) => p.std !== undefined)) {
    const stds = parts.map((p) => flat(p.std));
    out.std = shapeLike(template, mean.map((mu, d) => Math.sqrt(Math.max(0, means.reduce((s, m, i) => s + counts[i] * (stds[i][d] ** 2 + m[d] ** 2), 0) / n - mu * mu))));
  }
  for (const [k, f] of [['min', Math.min], ['max', Math.max]] as const) {
    if (parts.every((p) => p[k] !== undefined)) {
      const v = parts.map((p) => flat(p[k]));
      out[k] = shapeLike(parts[0][k], v[0].map((_, d) => f(...v.map((x) => x[d]))));
    }
  }
  for (const k of ['q01', 'q10', 'q50', 'q90', 'q99']) {
    if (parts.every((p) => p[k] !== undefined)) {
      const v = parts.map((p) => flat(p[k]));
      out[k] = shapeLike(parts[0][k], v[0].map((_, d) => v.reduce((s, x, i) => s + counts[i] * x[d], 0) / n));
    }
  }
  out.count = [n];
  return out;
}
