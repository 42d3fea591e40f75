/**
 * Trial records for the judge: the camera frames the dispatcher forwarded during a trial, kept
 * next to the study database as <db without extension>-records/<trial>/<k>.png, k = 0, 1, ...
 * Each frame is written atomically (temporary file, then rename), so a killed server leaves whole
 * frames only; a trial run again after a restart appends to its record.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { writeFileAtomic } from '../../util/index.ts';

/** The records folder of the study database `dbFile`. */
export function recordsDirOf(dbFile: string): string {
  return join(dirname(dbFile), `${basename(dbFile, extname(dbFile))}-records`);
}

/** Frames recorded for `trial` so far. */
export function frameCount(dir: string, trial: number): number {
  const d = join(dir, String(trial));
  if (!existsSync(d)) return 0;
  return readdirSync(d).filter((f) => /^\d+\.png$/.test(f)).length;
}

/** Writes frame `k` of `trial` (PNG bytes). */
export function writeFrame(dir: string, trial: number, k: number, png: Uint8Array): void {
  writeFileAtomic(join(dir, String(trial), `${k}.png`), png);
}

/** Frame `k` of `trial`, or undefined when there is none. */
export function readFrame(dir: string, trial: number, k: number): Uint8Array | undefined {
  const p = join(dir, String(trial), `${k}.png`);
  return existsSync(p) ? readFileSync(p) : undefined;
}
