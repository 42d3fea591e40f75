/**
 * The convolutional image stem (Octo's and hybrid ViTs' design): a small patchify layer (a
 * non-overlapping p0 x p0 convolution) and then 3x3 stride-2 convolutions, each followed by
 * GroupNorm and SiLU, turn a view into a grid of feature cells, one per patch of the config's
 * patch grid; the semantic expert's patch embedding then projects each cell to a token. It replaces
 * the one linear projection of raw 16 px patches, whose tokens localize a small object only coarsely.
 * (Patchifying first keeps the cost down: a 3x3 convolution at full resolution made a debug-sized
 * step three times slower, all of it in elementwise and slicing work.)
 *
 * The convolutions are written as im2col + matmul from pads, reshapes and slices (no conv
 * primitive), so both engines run them as MatMuls and the gradients are slices and pads again.
 *
 * Axes: n images (B * V), H x W the current resolution, C channels, G GroupNorm groups.
 */
import { nn, numpy as np } from './backend.ts';
import { STEM_GROUPS } from './config.ts';
import { linear } from './layers.ts';
import type { ConvLayer, Linear } from './params.ts';

type Arr = np.Array;

const GN_EPS = 1e-5;

/**
 * A 3x3 convolution with stride 2 and one pixel of zero padding ("SAME" for even sides):
 * x [n, H, W, C] -> [n, H/2, W/2, C_out], with w [9 C, C_out] in (dy, dx, c) order and b [C_out].
 * Output pixel i reads padded rows 2i, 2i+1, 2i+2: viewing the padded rows as (block, parity)
 * pairs, tap dy is block i + (dy >> 1) at parity dy & 1, a plain slice.
 */
export function conv3x3s2(x: Arr, w: Arr, b: Arr): Arr {
  const [n, h, wd, c] = x.shape;
  const ho = h / 2;
  const wo = wd / 2;
  const blocks = np.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]).reshape([n, ho + 1, 2, wo + 1, 2, c]);
  const taps: Arr[] = [];
  for (let dy = 0; dy < 3; dy++) {
    for (let dx = 0; dx < 3; dx++) {
      const y0 = dy >> 1;
      const x0 = dx >> 1;
      taps.push(blocks.ref.slice([], [y0, y0 + ho], dy & 1, [x0, x0 + wo], dx & 1, [])); // [n, ho, wo, C]
    }
  }
  blocks.dispose();
  const cols = np.concatenate(taps, 3); // [n, ho, wo, 9 C]
  return np.matmul(cols, w).add(b); // [n, ho, wo, C_out]
}

/** GroupNorm over (H, W, C / G) per group, then a per-channel scale and shift. x [n, H, W, C]. */
export function groupNorm(x: Arr, scale: Arr, shift: Arr, groups: number): Arr {
  const [n, h, w, c] = x.shape;
  const g = x.reshape([n, h * w, groups, c / groups]);
  const mean = np.mean(g.ref, [1, 3], { keepdims: true }); // [n, 1, G, 1]
  const centered = g.sub(mean);
  const variance = np.mean(np.square(centered.ref), [1, 3], { keepdims: true });
  const normed = centered.mul(np.reciprocal(np.sqrt(variance.add(GN_EPS)))).reshape([n, h, w, c]);
  return normed.mul(scale).add(shift);
}

/** A p x p convolution with stride p: x [n, H, W, C] -> [n, H/p, W/p, C_out], w [p p C, C_out] in (dy, dx, c) order. */
export function patchify(x: Arr, p: number, w: Arr, b: Arr): Arr {
  const [n, h, wd, c] = x.shape;
  const cells = np.transpose(x.reshape([n, h / p, p, wd / p, p, c]), [0, 1, 3, 2, 4, 5]).reshape([n, h / p, wd / p, p * p * c]);
  return np.matmul(cells, w).add(b);
}

/**
 * FiLM: x (1 + gamma) + beta per image and channel, (gamma, beta) = cond W + b.
 * x [n, H, W, C], cond [n, D] -> [n, H, W, C].
 */
export function film(x: Arr, cond: Arr, p: Linear): Arr {
  const [n, , , c] = x.shape;
  const [gamma, beta] = np.split(linear(cond, p).reshape([n, 1, 1, 2 * c]), [c], 3); // [n, 1, 1, C] each
  return x.ref.add(x.mul(gamma)).add(beta);
}

/**
 * The stem: images [n, S, S, 3] in [-1, 1] through the patchify layer (side p0, see
 * `stemPatch`) and then each 3x3 stride-2 layer, each followed by GroupNorm, FiLM on `cond`
 * [n, D_s] (the instruction, when the layers have it) and SiLU.
 * -> [n, S / patchSize, S / patchSize, C_last].
 */
export function convStem(images: Arr, layers: ConvLayer[], p0: number, cond?: Arr): Arr {
  let x = images;
  layers.forEach((l, i) => {
    const y = i === 0 ? patchify(x, p0, l.w, l.b) : conv3x3s2(x, l.w, l.b);
    const normed = groupNorm(y, l.gnScale, l.gnShift, STEM_GROUPS);
    x = nn.silu(l.film && cond ? film(normed, cond.ref, l.film) : normed);
  });
  cond?.dispose();
  return x;
}
