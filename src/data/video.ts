/**
 * Camera features LeRobot stores as mp4 video (real robots' datasets), decoded by the ffmpeg
 * binary: an episode's frames are read in one call, centre-cropped to a square and scaled with
 * area averaging to the dataset's image side, as raw RGB. Without ffmpeg a dataset with video
 * features is refused with the command that installs it; image-only datasets never need it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { UserError } from '../util/index.ts';

/** The ffmpeg binary: VLALAB_FFMPEG when set (unusual installs, tests), else `ffmpeg` on PATH. */
export function ffmpegBinary(): string {
  return process.env.VLALAB_FFMPEG || 'ffmpeg';
}

/** Throws a UserError saying how to install ffmpeg unless it runs; `what` names what needs it. */
export function requireFfmpeg(what: string): void {
  const bin = ffmpegBinary();
  const r = spawnSync(bin, ['-version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) {
    throw new UserError(`${what} is stored as mp4 video, and decoding it needs ffmpeg, which was not found (${bin}); ` +
      'install it (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or set VLALAB_FFMPEG to its path');
  }
}

/**
 * `frames` RGB frames [side, side, 3] of `file` from `fromSeconds` on: centre-cropped to a square,
 * scaled to `side`. A video shorter than `frames` repeats its last frame; one with none is an error.
 */
export function decodeVideoFrames(file: string, o: { fromSeconds: number; frames: number; side: number }): Uint8Array[] {
  if (!existsSync(file)) throw new UserError(`${file} is missing; the dataset's videos are incomplete (re-download them)`);
  const { side, frames } = o;
  let raw: Buffer;
  try {
    raw = execFileSync(ffmpegBinary(), [
      '-v', 'error', '-nostdin', ...(o.fromSeconds > 0 ? ['-ss', o.fromSeconds.toFixed(6)] : []), '-i', file, '-frames:v', String(frames),
      '-vf', `crop='min(iw,ih)':'min(iw,ih)',scale=${side}:${side}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
    ], { maxBuffer: frames * side * side * 3 + (1 << 20), stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n').pop();
    throw new UserError(`${file}: ffmpeg could not decode it (${stderr || (err as Error).message})`);
  }
  const size = side * side * 3;
  const n = Math.floor(raw.length / size);
  if (n === 0) throw new UserError(`${file}: ffmpeg decoded no frames from ${o.fromSeconds.toFixed(3)} s on`);
  return Array.from({ length: frames }, (_, k) => new Uint8Array(raw.buffer, raw.byteOffset + Math.min(k, n - 1) * size, size).slice());
}
