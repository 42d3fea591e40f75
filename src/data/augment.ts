/**
 * Training-time image augmentation of the loader's views: a random shift (DrQ's pad-and-crop with
 * edge pixels repeated) and a colour jitter (brightness, contrast, per-channel gain). Both are drawn
 * per view from the batch's own augmentation stream, so a batch stays a pure function of
 * (seed, step), and a loader without augmentation builds exactly the batches it built before.
 */
import type { Rng } from '../util/index.ts';

/** How strongly to augment (0 turns a part off). */
export type AugmentOptions = {
  /** largest shift in pixels, at the model's image size, along each axis (DrQ: 4 at 84 px) */
  shift: number;
  /** colour jitter strength j: brightness +-j, contrast and per-channel gain in [1 - j, 1 + j] */
  color: number;
};

/** Whether `a` changes anything. */
export function augments(a: AugmentOptions | undefined): a is AugmentOptions {
  return a !== undefined && (a.shift > 0 || a.color > 0);
}

/**
 * Writes one augmented view: `src` holds an [S, S, 3] image (bytes read through `lut`, the [-1, 1]
 * value of each byte, or values already in [-1, 1] without it); the result goes to `dst` at
 * `offset` (not overlapping `src`), clamped to [-1, 1]. One pass over the pixels: the shifted
 * source pixel (edge pixels repeated), then the jitter v * contrast * gain[ch] + brightness. Draws,
 * in order, the shift (dy, dx) and the jitter (brightness, contrast, three gains) from `rng`, each
 * only when its part is on.
 */
export function augmentView(src: ArrayLike<number>, dst: Float32Array, offset: number, s: number, a: AugmentOptions, rng: Rng, lut?: Float32Array): void {
  const dy = a.shift > 0 ? rng.int(2 * a.shift + 1) - a.shift : 0;
  const dx = a.shift > 0 ? rng.int(2 * a.shift + 1) - a.shift : 0;
  const j = a.color;
  const brightness = j > 0 ? rng.range(-j, j) : 0;
  const contrast = j > 0 ? rng.range(1 - j, 1 + j) : 1;
  const g0 = j > 0 ? rng.range(1 - j, 1 + j) : 1;
  const g1 = j > 0 ? rng.range(1 - j, 1 + j) : 1;
  const g2 = j > 0 ? rng.range(1 - j, 1 + j) : 1;
  const clamp = (w: number) => (w < -1 ? -1 : w > 1 ? 1 : w); // without jitter, w is v (contrast and gains 1, brightness 0)
  const cols = Int32Array.from({ length: s }, (_, x) => 3 * Math.min(s - 1, Math.max(0, x + dx))); // source column offsets
  for (let y = 0; y < s; y++) {
    const row = Math.min(s - 1, Math.max(0, y + dy)) * s * 3;
    let to = offset + y * s * 3;
    for (let x = 0; x < s; x++, to += 3) {
      const from = row + cols[x];
      const r = lut ? lut[src[from]] : src[from];
      const g = lut ? lut[src[from + 1]] : src[from + 1];
      const b = lut ? lut[src[from + 2]] : src[from + 2];
      dst[to] = clamp(r * contrast * g0 + brightness);
      dst[to + 1] = clamp(g * contrast * g1 + brightness);
      dst[to + 2] = clamp(b * contrast * g2 + brightness);
    }
  }
}
