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
 * Augments one view in place: `img` holds an [S, S, 3] image in [-1, 1] at `offset`; `scratch`
 * has room for S * S * 3 floats. Draws, in order, the shift (dy, dx) and the jitter (brightness,
 * contrast, three gains) from `rng`; the result is clamped to [-1, 1].
 */
export function augmentView(img: Float32Array, offset: number, s: number, a: AugmentOptions, rng: Rng, scratch: Float32Array): void {
  const n = s * s * 3;
  if (a.shift > 0) {
    const dy = rng.int(2 * a.shift + 1) - a.shift;
    const dx = rng.int(2 * a.shift + 1) - a.shift;
    scratch.set(img.subarray(offset, offset + n));
    for (let y = 0; y < s; y++) {
      const sy = Math.min(s - 1, Math.max(0, y + dy));
      for (let x = 0; x < s; x++) {
        const sx = Math.min(s - 1, Math.max(0, x + dx));
        const from = (sy * s + sx) * 3;
        const to = offset + (y * s + x) * 3;
        img[to] = scratch[from];
        img[to + 1] = scratch[from + 1];
        img[to + 2] = scratch[from + 2];
      }
    }
  }
  if (a.color > 0) {
    const j = a.color;
    const brightness = rng.range(-j, j);
    const contrast = rng.range(1 - j, 1 + j);
    const gain = [rng.range(1 - j, 1 + j), rng.range(1 - j, 1 + j), rng.range(1 - j, 1 + j)];
    for (let p = 0; p < n; p++) {
      const v = img[offset + p] * contrast * gain[p % 3] + brightness;
      img[offset + p] = v < -1 ? -1 : v > 1 ? 1 : v;
    }
  }
}
