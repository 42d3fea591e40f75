/**
 * Building blocks shared by both experts: linear, RMSNorm, SwiGLU MLP, head split/merge, masked
 * attention, and the block-mask bias of the MoT. Every function consumes its array arguments
 * (jax-js ownership); callers pass `.ref` to keep one.
 *
 * Axes: B batch, N sequence, D width, h heads, d head_dim, F MLP hidden.
 */
import { nn, numpy as np } from './backend.ts';
import type { Linear, MlpParams } from './params.ts';

type Arr = np.Array;

/** Additive bias for disallowed attention pairs (finite so a fully masked row stays finite). */
export const MASK_BIAS = -1e9;

/** y = x w + b. x [..., in] -> [..., out]. */
export function linear(x: Arr, p: Linear): Arr {
  return np.matmul(x, p.w).add(p.b);
}

/** RMSNorm: x / sqrt(mean(x^2) + eps) * scale, over the last axis. x [..., D], scale [D]. */
export function rmsNorm(x: Arr, scale: Arr, eps: number): Arr {
  const ms = np.mean(np.square(x.ref), -1, { keepdims: true }); // [..., 1]
  return x.mul(np.reciprocal(np.sqrt(ms.add(eps)))).mul(scale);
}

/** SwiGLU MLP: (silu(x W_gate) * (x W_up)) W_down. x [..., D] -> [..., D]. */
export function mlp(x: Arr, p: MlpParams): Arr {
  const gate = nn.silu(np.matmul(x.ref, p.wGate)); // [..., F]
  return np.matmul(gate.mul(np.matmul(x, p.wUp)), p.wDown);
}

/** [B, N, h*d] -> [B, h, N, d]. */
export function splitHeads(x: Arr, heads: number, headDim: number): Arr {
  const [b, n] = x.shape;
  return np.transpose(x.reshape([b, n, heads, headDim]), [0, 2, 1, 3]);
}

/** [B, h, N, d] -> [B, N, h*d]. */
export function mergeHeads(x: Arr): Arr {
  const [b, h, n, d] = x.shape;
  return np.transpose(x, [0, 2, 1, 3]).reshape([b, n, h * d]);
}

/**
 * Scaled dot-product attention with an additive bias:
 * softmax(q k^T / sqrt(d) + bias) v. q [B, h, Nq, d], k/v [B, h, Nk, d], bias [B, 1, Nq, Nk].
 */
export function attention(q: Arr, k: Arr, v: Arr, bias: Arr): Arr {
  const d = q.shape[3];
  const scores = np.matmul(q, np.transpose(k, [0, 1, 3, 2])).mul(1 / Math.sqrt(d)).add(bias); // [B, h, Nq, Nk]
  return np.matmul(nn.softmax(scores, -1), v); // [B, h, Nq, d]
}

/**
 * Structural MoT block mask rows [queryStart, Np+Ns) x all Np+Ns keys, 1 = may attend:
 * prefix queries see the prefix (bidirectional); the state token (index Np) sees the prefix and
 * itself; action tokens see everything.
 */
export function blockStructure(prefixLen: number, suffixLen: number, queryStart: number): Float32Array<ArrayBuffer> {
  const n = prefixLen + suffixLen;
  const rows = n - queryStart;
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const i = queryStart + r;
    for (let j = 0; j < n; j++) {
      const ok = j < prefixLen || (i >= prefixLen && (j === prefixLen || i > prefixLen));
      out[r * n + j] = ok ? 1 : 0;
    }
  }
  return out;
}

/**
 * The attention bias for queries [queryStart, Np+Ns): 0 where allowed by the block mask and the key
 * is valid (prefixValid: 1 = a present view's patch or a real token; suffix keys valid except the
 * last `suffixPad` dummy tokens), MASK_BIAS elsewhere. prefixValid [B, Np] -> [B, 1, Nq, Np+Ns].
 * A masked key's softmax weight is exactly 0 (exp underflows), so dummy tokens change nothing.
 */
export function blockBias(prefixValid: Arr, suffixLen: number, queryStart: number, suffixPad = 0): Arr {
  const [b, prefixLen] = prefixValid.shape;
  const n = prefixLen + suffixLen;
  const rows = n - queryStart;
  const structure = np.array(blockStructure(prefixLen, suffixLen, queryStart)).reshape([1, 1, rows, n]);
  const suffixValid = new Float32Array(suffixLen).fill(1, 0, suffixLen - suffixPad);
  const valid = suffixLen > 0 ? np.concatenate([prefixValid, np.broadcastTo(np.array(suffixValid), [b, suffixLen])], 1) : prefixValid; // [B, N]
  const keyValid = valid.reshape([b, 1, 1, n]);
  return allowedBias(structure.mul(keyValid)); // [B, 1, Nq, N]
}

/** The additive attention bias of a 0/1 mask of allowed pairs: 0 where allowed, MASK_BIAS elsewhere. */
export function allowedBias(allowed: Arr): Arr {
  return allowed.sub(1).mul(-MASK_BIAS);
}
