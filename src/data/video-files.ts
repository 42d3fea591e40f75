/**
 * Where a dataset's mp4 files are. info.json's video_path template names them, but datasets from
 * the hub are often reorganised by hand or by converters (chunk and key folders swapped, an extra
 * level): when the templated file is absent, the one mp4 under videos/ with the same file name in a
 * folder named after the same video key (and chunk, when the template has one) is taken instead,
 * and reported by `vlalab data info`. Two candidates are ambiguous and count as missing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Every mp4 under `dir`/videos, relative to `dir` with / separators (empty when there is no videos/). */
export function listVideoFiles(dir: string): string[] {
  const root = join(dir, 'videos');
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.mp4')) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

/** Where the templated video file `expected` (relative to the dataset) is found. */
export type VideoLocation = { expected: string; found?: string; relocated: boolean };

/** mp4 files by path and by file name, for looking up many episodes' videos quickly. */
export type VideoFileIndex = { paths: ReadonlySet<string>; byName: ReadonlyMap<string, readonly string[]> };

/** Indexes `files` (listVideoFiles) by path and by file name. */
export function indexVideoFiles(files: readonly string[]): VideoFileIndex {
  const byName = new Map<string, string[]>();
  for (const f of files) {
    const base = f.slice(f.lastIndexOf('/') + 1);
    byName.set(base, [...(byName.get(base) ?? []), f]);
  }
  return { paths: new Set(files), byName };
}

/**
 * Locates the templated file `expected` of camera `videoKey` among `files` (listVideoFiles, or
 * their index): itself when it exists, else the single file of the same name under a folder named
 * `videoKey` (and the same chunk-NNN folder when `expected` has one).
 */
export function locateVideo(expected: string, videoKey: string, files: readonly string[] | VideoFileIndex): VideoLocation {
  const index = Array.isArray(files) ? indexVideoFiles(files) : (files as VideoFileIndex);
  if (index.paths.has(expected)) return { expected, found: expected, relocated: false };
  const parts = expected.split('/');
  const chunk = parts.find((p) => /^chunk-\d+$/.test(p));
  const hits = (index.byName.get(parts[parts.length - 1]) ?? []).filter((f) => {
    const q = f.split('/');
    return q.includes(videoKey) && (!chunk || q.includes(chunk));
  });
  return hits.length === 1 ? { expected, found: hits[0], relocated: true } : { expected, relocated: false };
}

/** Stream facts of a video file as ffprobe reports them. */
export type VideoProbe = { codec: string; width: number; height: number; pixFmt?: string; frames?: number };

/** ffprobe's view of the first video stream of `file`, or undefined when ffprobe is absent or fails. */
export function probeVideo(file: string): VideoProbe | undefined {
  const bin = process.env.VLALAB_FFPROBE || 'ffprobe';
  const r = spawnSync(bin, ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=codec_name,width,height,pix_fmt,nb_read_packets', '-of', 'json', file], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  try {
    const s = JSON.parse(r.stdout).streams?.[0];
    if (!s) return undefined;
    return { codec: String(s.codec_name), width: Number(s.width), height: Number(s.height), pixFmt: s.pix_fmt, frames: s.nb_read_packets === undefined ? undefined : Number(s.nb_read_packets) };
  } catch {
    return undefined;
  }
}
