/** Small RGB image helpers for recordings: tiling frames into a contact sheet, nearest upscaling. */

/** RGB u8 [h, w, 3] images of one size tiled row-major into `cols` columns with a `gap`-pixel border (grey). */
export function tileRgb(frames: readonly Uint8Array[], w: number, h: number, cols: number, gap = 2): { rgb: Uint8Array; width: number; height: number } {
  const n = frames.length;
  const c = Math.max(1, Math.min(cols, n));
  const r = Math.max(1, Math.ceil(n / c));
  const width = c * w + (c + 1) * gap;
  const height = r * h + (r + 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(96);
  frames.forEach((f, k) => {
    const x0 = gap + (k % c) * (w + gap);
    const y0 = gap + Math.floor(k / c) * (h + gap);
    for (let y = 0; y < h; y++) rgb.set(f.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * width + x0) * 3);
  });
  return { rgb, width, height };
}

/** Nearest-neighbour upscaling of an RGB image by an integer factor. */
export function upscaleRgb(rgb: Uint8Array, w: number, h: number, k: number): Uint8Array {
  const out = new Uint8Array(w * k * h * k * 3);
  for (let y = 0; y < h * k; y++) {
    for (let x = 0; x < w * k; x++) {
      const s = ((Math.floor(y / k) * w) + Math.floor(x / k)) * 3;
      const d = (y * w * k + x) * 3;
      out[d] = rgb[s];
      out[d + 1] = rgb[s + 1];
      out[d + 2] = rgb[s + 2];
    }
  }
  return out;
}

/**
 * Area-average resize of an RGB u8 image [h, w, 3] to [s, s, 3], scaled to [-1, 1]
 * (x / 127.5 - 1), written into `out` at `offset`. Each output pixel averages the input pixels
 * whose index falls in its source rectangle [floor(i h / s), max(floor((i + 1) h / s), +1)); at
 * s = h = w it is the identity (one pixel each).
 */
export function areaResizeRgb(src: Uint8Array, h: number, w: number, s: number, out: Float32Array, offset: number): void {
  for (let i = 0; i < s; i++) {
    const y0 = Math.floor((i * h) / s);
    const y1 = Math.max(y0 + 1, Math.floor(((i + 1) * h) / s));
    for (let j = 0; j < s; j++) {
      const x0 = Math.floor((j * w) / s);
      const x1 = Math.max(x0 + 1, Math.floor(((j + 1) * w) / s));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const k = (y * w + x) * 3;
          r += src[k];
          g += src[k + 1];
          b += src[k + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0) * 127.5;
      const o = offset + (i * s + j) * 3;
      out[o] = r / n - 1;
      out[o + 1] = g / n - 1;
      out[o + 2] = b / n - 1;
    }
  }
}
