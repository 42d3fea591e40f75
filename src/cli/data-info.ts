/** `vlalab data info`: what a dataset holds and what is wrong with it, with or without an embodiment. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Embodiment, embodimentForRobotType, resolveEmbodiment } from '../actions/index.ts';
import { type DatasetInfo, type DatasetReport, inspectDataset, resolveFeatureMap, VIDEO_MAX_SIDE } from '../data/index.ts';
import { UserError } from '../util/index.ts';

/** The JSON of `vlalab data info`. */
export type DatasetInfoJson = Awaited<ReturnType<typeof datasetInfo>>;

/**
 * Describes the dataset at `dir`; with `embodiment` (a name or a spec file, else the one of
 * robot_type if registered) also where its state and action dims are read from.
 */
export async function datasetInfo(dir: string, embodiment?: string) {
  const infoFile = join(dir, 'meta', 'info.json');
  if (!existsSync(infoFile)) throw new UserError(`${infoFile} is missing; is this a LeRobot dataset directory?`);
  const r: DatasetReport = await inspectDataset(dir);
  let info: DatasetInfo;
  try {
    info = JSON.parse(readFileSync(infoFile, 'utf8'));
  } catch (err) {
    throw new UserError(`${infoFile} is not valid JSON (${(err as Error).message})`);
  }
  const e: Embodiment | undefined = embodiment ? resolveEmbodiment(embodiment) : embodimentForRobotType(r.robot_type);
  let mapping: { state: string[]; action: string[] } | undefined;
  if (e) {
    try {
      const cols = (which: 'state' | 'action') => resolveFeatureMap(e, info.features ?? {}, which, infoFile).map((c) => `${c.feature}[${c.dim}]`);
      mapping = { state: cols('state'), action: cols('action') };
    } catch (err) {
      if (embodiment || !(err instanceof UserError)) throw err;
      r.problems.push({ file: infoFile, message: `robot_type ${r.robot_type} is embodiment ${e.name}, but: ${err.message}` });
    }
  }
  const lengths = r.episodes.map((x) => x.length);
  const perTask: Record<string, number> = Object.fromEntries(r.tasks.map((t) => [t, 0]));
  for (const x of r.episodes) perTask[x.task] = (perTask[x.task] ?? 0) + 1;
  const first = r.cameras[0];
  return {
    dir, codebase_version: r.codebase_version, robot_type: r.robot_type, embodiment: e && mapping ? e.name : null, fps: r.fps,
    episodes: r.episodes.length, frames: r.frames, tasks: r.tasks, episodes_per_task: perTask, totals: r.totals,
    cameras: r.cameras.map((c) => c.name),
    image_size: first ? (first.dtype === 'video' ? Math.min(first.width, first.height, VIDEO_MAX_SIDE) : first.height) : 0,
    episode_length: lengths.length
      ? { min: Math.min(...lengths), mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, max: Math.max(...lengths) }
      : { min: 0, mean: 0, max: 0 },
    ...(e && mapping ? { state_names: [...e.stateNames], action_names: [...e.actionNames], state_columns: mapping.state, action_columns: mapping.action } : {}),
    features: Object.fromEntries(r.features.map((f) => {
      const codec = r.cameras.find((c) => c.key === f.key)?.codec;
      return [f.key, { dtype: f.dtype, shape: f.shape, names: f.names, ...(codec ? { codec } : {}) }];
    })),
    camera_info: r.cameras.map((c) => ({
      name: c.name, feature: c.key, dtype: c.dtype, width: c.width, height: c.height, codec: c.codec ?? null, probed: c.probed ?? null,
      video_files: c.videoFiles, missing: c.missing, relocated: c.relocated,
    })),
    missing_videos: r.missingVideos,
    relocated_videos: r.relocatedVideos,
    problems: r.problems,
  };
}

const names = (xs: string[] | null) => (xs ? ` names ${xs.slice(0, 4).join(', ')}${xs.length > 4 ? `, ... (${xs.length})` : ''}` : '');

/** Episodes per task, saying when tasks are uneven (a record that skipped expert failures). */
function taskLines(perTask: Record<string, number>): string[] {
  const counts = Object.values(perTask);
  const even = counts.length === 0 || Math.min(...counts) === Math.max(...counts);
  const head = `  tasks (${counts.length}, episodes each${counts.length === 0 ? '' : even ? `: ${counts[0]}` : `: ${Math.min(...counts)}..${Math.max(...counts)}, uneven`}):`;
  return [head, ...Object.entries(perTask).slice(0, 12).map(([t, n]) => `    ${String(n).padStart(5)}  "${t}"`), ...(counts.length > 12 ? [`    ... (${counts.length - 12} more)`] : [])];
}

/** The text form of `vlalab data info`. */
export function formatInfo(o: DatasetInfoJson): string {
  const t = o.totals;
  const lines = [
    `${o.dir}: LeRobot ${o.codebase_version}, robot_type ${o.robot_type || '(none)'} -> ${o.embodiment ? `embodiment ${o.embodiment}` : 'no embodiment (map it with --embodiment FILE.json; see README "Your own robot and data")'}, ${o.fps} fps`,
    `  ${o.episodes} episodes, ${o.frames} frames (episode length ${o.episode_length.min}..${o.episode_length.max}, mean ${o.episode_length.mean.toFixed(1)}); info.json totals: ${t.episodes ?? '?'} episodes, ${t.frames ?? '?'} frames, ${t.tasks ?? '?'} tasks`,
    ...taskLines(o.episodes_per_task),
    '  features:',
    ...Object.entries(o.features).map(([k, f]) => `    ${k.padEnd(34)} ${f.dtype.padEnd(8)} [${f.shape.join(', ')}]${f.dtype === 'video' || f.dtype === 'image' ? '' : names(f.names)}`),
    `  cameras (${o.cameras.length}${o.cameras.length ? `, read at ${o.image_size}x${o.image_size}` : ''}):`,
    ...o.camera_info.map((c) => {
      const p = c.probed ? `, ffprobe: ${c.probed.codec} ${c.probed.width}x${c.probed.height}${c.probed.pixFmt ? ` ${c.probed.pixFmt}` : ''}` : '';
      const files = c.dtype === 'video' ? `; ${c.video_files} mp4 file${c.video_files === 1 ? '' : 's'}${c.missing ? `, ${c.missing} missing` : ''}${c.relocated ? `, ${c.relocated} outside video_path's folder` : ''}` : ' (images in the parquet files)';
      return `    ${c.name.padEnd(20)} ${c.dtype} ${c.width}x${c.height}${c.codec ? ` ${c.codec}` : ''}${p}${files}`;
    }),
  ];
  if (o.state_columns && o.action_columns && o.state_names && o.action_names) {
    const show = (n: readonly string[], c: string[]) => `${n.slice(0, 3).map((x, i) => `${x} <- ${c[i]}`).join(', ')}${n.length > 3 ? `, ... (${n.length} dims)` : ''}`;
    lines.push(`  embodiment ${o.embodiment}: state ${show(o.state_names, o.state_columns)}`, `  ${''.padEnd(11 + String(o.embodiment).length)}action ${show(o.action_names, o.action_columns)}`);
  }
  if (o.problems.length) {
    lines.push(`  problems (${o.problems.length}; \`vlalab data validate ${o.dir}\` lists them all):`);
    for (const p of o.problems.slice(0, 8)) lines.push(`    ${p.file}: ${p.message}`);
    if (o.problems.length > 8) lines.push(`    ... ${o.problems.length - 8} more`);
  } else lines.push('  no problems found');
  return lines.join('\n') + '\n';
}
