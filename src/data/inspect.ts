/**
 * Describes and diagnoses any LeRobot dataset (v3.0, v2.1) without an embodiment: what info.json
 * declares (version, robot_type, fps, features with dtype, shape and dim names, cameras with codec
 * and resolution) checked against what is on disk (episode index, parquet row counts and columns,
 * tasks, stats, mp4 files at video_path or elsewhere under videos/). Nothing here throws on a
 * broken dataset: every problem is collected with the file it is about, for `vlalab data info`
 * and `vlalab data validate`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { featureDimNames } from './feature-map.ts';
import { type DatasetInfo, formatPath } from './lerobot-format.ts';
import { indexVideoFiles, listVideoFiles, locateVideo, probeVideo, type VideoLocation, type VideoProbe } from './video-files.ts';

/** Codebase versions the reader understands. */
export const SUPPORTED_VERSIONS = ['v3.0', 'v2.1', 'v2.0'];

/** One thing wrong with a dataset, and the file it is about. */
export type DatasetProblem = { file: string; message: string };

/** A feature of info.json, with its per-dim names flattened (null when it has none). */
export type FeatureSummary = { key: string; dtype: string; shape: number[]; names: string[] | null };

/** A camera feature: stored as video or as images in the parquet files. */
export type CameraSummary = {
  name: string; key: string; dtype: string; width: number; height: number;
  /** codec as info.json says and as ffprobe reads the first file (when ffprobe is installed) */
  codec?: string; probed?: VideoProbe;
  /** distinct mp4 files the episodes need, those absent, and those found outside video_path's folder */
  videoFiles: number; missing: number; relocated: number;
};

/** An episode as the episode index lists it, with the video file of each video camera. */
export type EpisodeEntry = {
  index: number; length: number; from: number; to: number; task: string;
  chunk: number; file: number;
  /** v3.0: where the episode index puts each video feature (key -> chunk, file, start in seconds) */
  videoIndex: Record<string, { chunk: number; file: number; fromSeconds: number }>;
  /** per camera name: the mp4 the episode's frames are in, and where it starts in it */
  video: Record<string, VideoLocation & { fromSeconds: number }>;
};

/** What `vlalab data info` prints. */
export type DatasetReport = {
  dir: string; codebase_version: string; robot_type: string; fps: number;
  totals: { episodes?: number; frames?: number; tasks?: number };
  episodes: EpisodeEntry[]; frames: number; tasks: string[];
  features: FeatureSummary[]; cameras: CameraSummary[];
  /** mp4 files the episodes need that are nowhere under videos/ */
  missingVideos: { episode: number; camera: string; file: string }[];
  /** mp4 files found outside the folder video_path names */
  relocatedVideos: { expected: string; found: string }[];
  problems: DatasetProblem[];
};

const str = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));

/** The names of the top-level columns of a parquet schema (nested lists and structs count once). */
export function topLevelColumns(schema: { name: string; num_children?: number }[]): string[] {
  const out: string[] = [];
  let i = 1;
  const skip = (): void => {
    const n = schema[i++].num_children ?? 0;
    for (let k = 0; k < n; k++) skip();
  };
  for (let k = 0; k < (schema[0]?.num_children ?? 0); k++) {
    out.push(schema[i].name);
    skip();
  }
  return out;
}

function arrayBuffer(file: string): ArrayBuffer {
  const buf = readFileSync(file);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** Inspects the dataset at `dir`; problems are collected, never thrown. `probe` runs ffprobe on one file per camera (default true). */
export async function inspectDataset(dir: string, opts: { probe?: boolean } = {}): Promise<DatasetReport> {
  const problems: DatasetProblem[] = [];
  const problem = (rel: string, message: string) => problems.push({ file: join(dir, rel), message });
  const report: DatasetReport = {
    dir, codebase_version: '', robot_type: '', fps: 0, totals: {}, episodes: [], frames: 0, tasks: [], features: [], cameras: [],
    missingVideos: [], relocatedVideos: [], problems,
  };
  const infoRel = 'meta/info.json';
  if (!existsSync(join(dir, infoRel))) {
    problem(infoRel, 'is missing; is this a LeRobot dataset directory?');
    return report;
  }
  let info: DatasetInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, infoRel), 'utf8'));
  } catch (err) {
    problem(infoRel, `is not valid JSON (${(err as Error).message})`);
    return report;
  }
  report.codebase_version = String(info.codebase_version ?? '');
  report.robot_type = String(info.robot_type ?? '');
  report.fps = Number(info.fps);
  report.totals = { episodes: info.total_episodes, frames: info.total_frames, tasks: info.total_tasks };
  const v3 = report.codebase_version === 'v3.0';
  if (!SUPPORTED_VERSIONS.includes(report.codebase_version)) problem(infoRel, `codebase_version "${report.codebase_version}" is not supported (v3.0 or v2.1)`);
  if (!(report.fps > 0)) problem(infoRel, `fps is ${JSON.stringify(info.fps)}; it must be a positive number`);
  if (!info.robot_type) problem(infoRel, 'has no robot_type');
  if (typeof info.data_path !== 'string') problem(infoRel, 'has no data_path template');
  for (const [key, f] of Object.entries(info.features ?? {})) {
    if (!f || typeof f.dtype !== 'string' || !Array.isArray(f.shape)) {
      problem(infoRel, `feature "${key}" needs a dtype and a shape`);
      continue;
    }
    const names = featureDimNames(f);
    report.features.push({ key, dtype: f.dtype, shape: f.shape, names });
    const cam = f.dtype === 'video' || f.dtype === 'image';
    if (names && !cam && f.shape.length === 1 && names.length !== f.shape[0]) problem(infoRel, `feature "${key}" has shape [${f.shape}] but ${names.length} dim names`);
  }
  if (report.features.length === 0) problem(infoRel, 'has no features');
  const cameraFeatures = report.features.filter((f) => f.dtype === 'video' || f.dtype === 'image');
  const videoKeys = cameraFeatures.filter((f) => f.dtype === 'video').map((f) => f.key);
  if (videoKeys.length && typeof info.video_path !== 'string') problem(infoRel, `feature "${videoKeys[0]}" is a video but info.json has no video_path template`);

  report.tasks = await readTasks(dir, v3, problem);
  report.episodes = await readEpisodes(dir, v3, info, videoKeys, problem);
  const lengths = report.episodes.reduce((s, e) => s + e.length, 0);
  report.frames = lengths;
  if (info.total_episodes !== undefined && Number(info.total_episodes) !== report.episodes.length) problem(infoRel, `total_episodes is ${info.total_episodes} but the episode index lists ${report.episodes.length}`);
  if (info.total_frames !== undefined && Number(info.total_frames) !== lengths) problem(infoRel, `total_frames is ${info.total_frames} but the episodes' lengths add up to ${lengths}`);
  if (info.total_tasks !== undefined && Number(info.total_tasks) !== report.tasks.length) problem(infoRel, `total_tasks is ${info.total_tasks} but the task list has ${report.tasks.length}`);
  for (const ep of report.episodes) if (ep.task && !report.tasks.includes(ep.task)) problem(v3 ? 'meta/episodes' : 'meta/episodes.jsonl', `episode ${ep.index} has task "${ep.task}", which the task list does not hold`);

  checkDataFiles(dir, v3, info, report, problem);
  checkStats(dir, v3, report.features, problem);
  checkVideos(dir, info, report, videoKeys, problem, opts.probe ?? true);
  for (const f of cameraFeatures) {
    const [height, width] = f.shape;
    const c = report.cameras.find((x) => x.key === f.key);
    if (!c) report.cameras.push({ name: f.key.replace(/^observation\.images\./, ''), key: f.key, dtype: f.dtype, width, height, videoFiles: 0, missing: 0, relocated: 0 });
  }
  report.cameras.sort((a, b) => cameraFeatures.findIndex((f) => f.key === a.key) - cameraFeatures.findIndex((f) => f.key === b.key));
  return report;
}

type Report = (rel: string, message: string) => void;

async function readParquetRows(dir: string, rel: string, problem: Report): Promise<Record<string, unknown>[] | undefined> {
  const file = join(dir, rel);
  if (!existsSync(file)) {
    problem(rel, 'is missing');
    return undefined;
  }
  try {
    return (await parquetReadObjects({ file: arrayBuffer(file), utf8: false })) as Record<string, unknown>[];
  } catch (err) {
    problem(rel, `is not a readable parquet file (${(err as Error).message})`);
    return undefined;
  }
}

function readJsonlRows(dir: string, rel: string, problem: Report): Record<string, unknown>[] {
  const file = join(dir, rel);
  if (!existsSync(file)) {
    problem(rel, 'is missing');
    return [];
  }
  const rows: Record<string, unknown>[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      rows.push(JSON.parse(line));
    } catch {
      problem(rel, `line ${i + 1} is not valid JSON`);
    }
  });
  return rows;
}

async function readTasks(dir: string, v3: boolean, problem: Report): Promise<string[]> {
  const tasks: string[] = [];
  const rows = v3 ? await readParquetRows(dir, 'meta/tasks.parquet', problem) ?? [] : readJsonlRows(dir, 'meta/tasks.jsonl', problem);
  for (const r of rows) tasks[Number(r.task_index)] = str(r.task ?? r.__index_level_0__);
  return Array.from(tasks, (t) => t ?? '');
}

async function readEpisodes(dir: string, v3: boolean, info: DatasetInfo, videoKeys: string[], problem: Report): Promise<EpisodeEntry[]> {
  const episodes: EpisodeEntry[] = [];
  const chunkOf = (ep: number) => Math.floor(ep / (Number(info.chunks_size) || 1000));
  if (!v3) {
    let from = 0;
    for (const r of readJsonlRows(dir, 'meta/episodes.jsonl', problem)) {
      const index = Number(r.episode_index);
      const length = Number(r.length);
      if (!Number.isInteger(length) || length < 0) problem('meta/episodes.jsonl', `episode ${index} has no valid length`);
      episodes.push({ index, length, from, to: from + length, task: Array.isArray(r.tasks) ? String(r.tasks[0]) : '', chunk: chunkOf(index), file: index, videoIndex: {}, video: {} });
      from += length;
    }
    return episodes;
  }
  const epDir = join(dir, 'meta/episodes');
  const files = existsSync(epDir) ? readdirSync(epDir).sort().flatMap((c) => readdirSync(join(epDir, c)).filter((f) => f.endsWith('.parquet')).sort().map((f) => `meta/episodes/${c}/${f}`)) : [];
  if (files.length === 0) problem('meta/episodes', 'holds no episode parquet files');
  const warned = new Set<string>();
  for (const rel of files) {
    for (const r of await readParquetRows(dir, rel, problem) ?? []) {
      const t = r.tasks;
      const ep: EpisodeEntry = {
        index: Number(r.episode_index), length: Number(r.length), from: Number(r.dataset_from_index), to: Number(r.dataset_to_index),
        task: Array.isArray(t) ? str(t[0]) : t === undefined ? '' : str(t), chunk: Number(r['data/chunk_index'] ?? 0), file: Number(r['data/file_index'] ?? 0), videoIndex: {}, video: {},
      };
      if (ep.to - ep.from !== ep.length) problem(rel, `episode ${ep.index} has length ${ep.length} but spans frames ${ep.from}..${ep.to}`);
      for (const key of videoKeys) {
        const col = `videos/${key}/file_index`;
        if (!(col in r) && !warned.has(col)) {
          warned.add(col);
          problem(rel, `has no column "${col}" for video feature ${key}; file 0 of chunk 0 is assumed`);
        }
        ep.videoIndex[key] = { chunk: Number(r[`videos/${key}/chunk_index`] ?? 0), file: Number(r[col] ?? 0), fromSeconds: Number(r[`videos/${key}/from_timestamp`] ?? 0) };
      }
      episodes.push(ep);
    }
  }
  episodes.sort((a, b) => a.from - b.from);
  return episodes;
}

function checkDataFiles(dir: string, v3: boolean, info: DatasetInfo, report: DatasetReport, problem: Report): void {
  if (typeof info.data_path !== 'string') return;
  // the data file of each episode, and the frames the index says it holds
  const want = new Map<string, number>();
  for (const ep of report.episodes) {
    let rel: string;
    try {
      rel = v3 ? formatPath(info.data_path, { chunk_index: ep.chunk, file_index: ep.file })
        : formatPath(info.data_path, { episode_chunk: ep.chunk, episode_index: ep.index });
    } catch (err) {
      problem('meta/info.json', (err as Error).message);
      return;
    }
    want.set(rel, (want.get(rel) ?? 0) + ep.length);
  }
  const columns = report.features.filter((f) => f.dtype !== 'video').map((f) => f.key);
  let rows = 0;
  const absentColumns = new Set<string>();
  for (const [rel, frames] of want) {
    const file = join(dir, rel);
    if (!existsSync(file)) {
      problem(rel, `is missing (the episode index puts ${frames} frames in it)`);
      continue;
    }
    try {
      const meta = parquetMetadata(arrayBuffer(file));
      const n = Number(meta.num_rows);
      rows += n;
      if (n !== frames) problem(rel, `holds ${n} frames but the episode index puts ${frames} in it`);
      const have = new Set(topLevelColumns(meta.schema));
      for (const c of columns) {
        if (!have.has(c) && !absentColumns.has(c)) {
          absentColumns.add(c);
          problem(rel, `has no column "${c}" although info.json lists that feature`);
        }
      }
    } catch (err) {
      problem(rel, `is not a readable parquet file (${(err as Error).message})`);
    }
  }
  if (info.total_frames !== undefined && rows && rows !== Number(info.total_frames) && rows !== report.frames) problem('meta/info.json', `total_frames is ${info.total_frames} but the data files hold ${rows}`);
}

function checkStats(dir: string, v3: boolean, features: FeatureSummary[], problem: Report): void {
  const rel = 'meta/stats.json';
  if (!existsSync(join(dir, rel))) {
    if (v3 || !existsSync(join(dir, 'meta/episodes_stats.jsonl'))) problem(rel, `is missing${v3 ? '' : ' (and so is meta/episodes_stats.jsonl)'}; \`vlalab data stats DIR --write\` computes it`);
    return;
  }
  let stats: Record<string, Record<string, unknown>>;
  try {
    stats = JSON.parse(readFileSync(join(dir, rel), 'utf8'));
  } catch (err) {
    problem(rel, `is not valid JSON (${(err as Error).message})`);
    return;
  }
  for (const f of features) {
    const s = stats[f.key];
    if (!s || f.dtype === 'video' || f.dtype === 'image' || f.shape.length !== 1 || f.shape[0] <= 1) continue;
    const mean = s.mean as unknown[];
    if (Array.isArray(mean) && mean.length !== f.shape[0]) problem(rel, `"${f.key}" has ${mean.length} means but the feature has ${f.shape[0]} dims`);
  }
}

function checkVideos(dir: string, info: DatasetInfo, report: DatasetReport, videoKeys: string[], problem: Report, probe: boolean): void {
  if (!videoKeys.length || typeof info.video_path !== 'string') return;
  const files = indexVideoFiles(listVideoFiles(dir));
  const v3 = report.codebase_version === 'v3.0';
  for (const key of videoKeys) {
    const f = report.features.find((x) => x.key === key)!;
    const cam: CameraSummary = {
      name: key.replace(/^observation\.images\./, ''), key, dtype: f.dtype, height: f.shape[0], width: f.shape[1],
      codec: (info.features[key] as { info?: Record<string, unknown> }).info?.['video.codec'] as string | undefined, videoFiles: 0, missing: 0, relocated: 0,
    };
    report.cameras.push(cam);
    const seen = new Map<string, VideoLocation & { frames: number }>();
    for (const ep of report.episodes) {
      const vi = ep.videoIndex[key] ?? { chunk: 0, file: 0, fromSeconds: 0 };
      const where: Record<string, string | number> = v3
        ? { video_key: key, chunk_index: vi.chunk, file_index: vi.file }
        : { video_key: key, episode_chunk: ep.chunk, episode_index: ep.index };
      let expected: string;
      try {
        expected = formatPath(info.video_path, where);
      } catch (err) {
        problem('meta/info.json', (err as Error).message);
        return;
      }
      let loc = seen.get(expected);
      if (!loc) seen.set(expected, (loc = { ...locateVideo(expected, key, files), frames: 0 }));
      loc.frames += ep.length;
      ep.video[cam.name] = { expected: loc.expected, found: loc.found, relocated: loc.relocated, fromSeconds: vi.fromSeconds };
      if (!loc.found) report.missingVideos.push({ episode: ep.index, camera: cam.name, file: expected });
    }
    cam.videoFiles = seen.size;
    for (const loc of seen.values()) {
      if (!loc.found) {
        cam.missing++;
        const eps = report.episodes.filter((e) => e.video[cam.name]?.expected === loc.expected).map((e) => e.index);
        problem(loc.expected, `is missing (video of camera ${cam.name} for episode${eps.length > 1 ? 's' : ''} ${eps.join(', ')}); re-download it, or train with --skip-missing`);
      } else if (loc.relocated) {
        cam.relocated++;
        report.relocatedVideos.push({ expected: loc.expected, found: loc.found });
        problem(loc.found, `does not match info.json's video_path (${info.video_path} names ${loc.expected}); vlalab reads it from here, other tools may not`);
      }
    }
    const first = [...seen.values()].find((l) => l.found);
    if (probe && first?.found) {
      cam.probed = probeVideo(join(dir, first.found));
      const p = cam.probed;
      if (p && (p.width !== cam.width || p.height !== cam.height)) problem(first.found, `is ${p.width}x${p.height} but info.json says ${key} is ${cam.width}x${cam.height}`);
      if (p && cam.codec && p.codec !== cam.codec && !(cam.codec === 'libsvtav1' && p.codec === 'av1')) problem(first.found, `is ${p.codec} but info.json says video.codec ${cam.codec}`);
      if (p?.frames !== undefined && p.frames < first.frames) problem(first.found, `has ${p.frames} frames but its episodes need ${first.frames}`);
    }
  }
}
