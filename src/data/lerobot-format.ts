/** The on-disk LeRobot format's shared pieces: info.json's fields, episode metadata, path templates. */
import { UserError } from '../util/index.ts';

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

/** Metadata of one episode. */
export type EpisodeInfo = { index: number; length: number; from: number; to: number; task: string };

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
