/**
 * The Mixture-of-Transformers forward pass [paper III.A, eq. 1]. The semantic expert embeds the
 * prefix (camera patches + instruction tokens); the action expert embeds the suffix (one state
 * token + H noisy action tokens mixed with the flow-time embedding). In every layer each expert
 * computes Q/K/V with its own weights, they are concatenated along the sequence, one attention runs
 * under the block mask, and the outputs go back to each expert's own projection, norm and MLP.
 *
 * Two equivalent evaluations: `velocityJoint` (the literal concatenated attention) and
 * `prefixCache` + `velocityCached` (prefix keys/values computed once; exact because prefix queries
 * never attend to the suffix). Training uses the second (it skips the masked prefix-to-suffix
 * block: ~15 % faster steps for tiny); tests hold it to the first. Sampling goes one step further:
 * the state token sees only the prefix and itself, so `stateCache` adds its keys/values to the
 * cache once per observation and each Euler step runs only the action tokens (`velocityActions`).
 *
 * The suffix carries `suffixPadding(c)` masked dummy tokens after the action tokens so that every
 * attention length is a multiple of SEQ_ALIGN (see config.ts): they are invisible as keys and their
 * outputs are dropped, so the math is that of the unpadded model.
 *
 * Axes: B batch, V views, S image side, P patches per view, L tokens, Np = V*P + L prefix length,
 * H action horizon, Ns = 1 + H + pad suffix length, N = Np + Ns, A = 60 unified dims, D_s / D_a widths,
 * h heads, d head_dim.
 */
import { nn, numpy as np, tree } from './backend.ts';
import { type ModelConfig, stemPatch, suffixPadding } from './config.ts';
import { allowedBias, attention, blockBias, linear, mergeHeads, mlp, rmsNorm, splitHeads } from './layers.ts';
import { convStem } from './stem.ts';
import type { ActionParams, AimParams, LayerParams, Params, SemanticParams } from './params.ts';

type Arr = np.Array;

/** Prefix inputs on device. images [B, V, S, S, 3] in [-1, 1]; masks 1 = present / real token. */
export type PrefixInputs = { images: Arr; imageMask: Arr; tokens: Arr; tokenMask: Arr };
/** Suffix conditioning on device: state [B, A] normalized, stateMask [B, A]. */
export type StateInputs = { state: Arr; stateMask: Arr };
/** Per-layer prefix keys/values [B, h, Np, d] and the prefix key validity [B, Np]. */
export type PrefixCache = { keys: Arr[]; values: Arr[]; prefixValid: Arr };

/** Shortest and longest period of the sinusoidal flow-time embedding (as in pi0). */
const TIME_PERIOD_MIN = 4e-3;
const TIME_PERIOD_MAX = 4.0;

/** Prefix embeddings: patches or stem cells (+ view and position embeddings) then tokens. -> [x [B, Np, D_s], valid [B, Np]]. */
export function embedPrefix(c: ModelConfig, p: Omit<SemanticParams, 'layers'>, inp: PrefixInputs): [Arr, Arr] {
  const [b, v, s] = inp.images.shape;
  const ps = c.patchSize;
  const g = s / ps;
  const perView = g * g;
  const words = embedTokens(p.tokenEmbed, inp.tokens); // [B, L, D_s]
  const cond = c.stemFilm ? np.repeat(instructionEmbedding(words.ref, inp.tokenMask.ref), v, 0) : undefined; // [B*V, D_s]
  const patches = p.stem
    ? convStem(inp.images.reshape([b * v, s, s, 3]), p.stem, stemPatch(c), cond).reshape([b, v * perView, -1]) // [B, V*P, C_last]
    : np.transpose(inp.images.reshape([b, v, g, ps, g, ps, 3]), [0, 1, 2, 4, 3, 5, 6]).reshape([b, v * perView, ps * ps * 3]); // [B, V*P, p*p*3]
  const where = p.viewEmbed.reshape([v, 1, -1]).add(p.patchPos.reshape([1, perView, -1])); // [V, P, D_s]
  const xImg = linear(patches, p.patchEmbed).add(where.reshape([1, v * perView, -1])); // [B, V*P, D_s]
  const xTok = words.add(p.tokenPos); // [B, L, D_s]
  const x = np.concatenate([xImg, xTok], 1); // [B, Np, D_s]
  const valid = np.concatenate([np.repeat(inp.imageMask, perView, 1), inp.tokenMask], 1); // [B, Np]
  return [x, valid];
}

/** The instruction as one vector: the mean embedding of its real tokens. words [B, L, D], mask [B, L] -> [B, D]. */
function instructionEmbedding(words: Arr, mask: Arr): Arr {
  const count = np.maximum(mask.ref.sum(1, { keepdims: true }), 1); // [B, 1]
  return np.matmul(mask.reshape([mask.shape[0], 1, -1]), words).reshape([words.shape[0], -1]).div(count); // [B, D]
}

/** Vocabularies up to this size embed tokens by a one-hot matmul instead of a gather. */
const ONE_HOT_MAX_VOCAB = 4096;

/**
 * Token embedding rows table[tokens]: table [vocab, D], tokens [B, L] int32 -> [B, L, D]. For small
 * vocabularies as onehot(tokens) @ table (exactly the same rows): jax-js differentiates a gather
 * into a scatter that runs as a single-threaded JavaScript routine, ~3 % of a `quick` step.
 */
function embedTokens(table: Arr, tokens: Arr): Arr {
  const vocab = table.shape[0];
  if (vocab > ONE_HOT_MAX_VOCAB) return np.take(table, tokens, 0);
  return np.matmul(nn.oneHot(tokens, vocab), table); // [B, L, V] @ [V, D]
}

/** Sinusoidal embedding of flow time tau [B] -> [B, width]: [sin(2 pi tau / T_i), cos(2 pi tau / T_i)]. */
export function timeEmbedding(tau: Arr, width: number): Arr {
  const half = width / 2;
  const freq = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const period = TIME_PERIOD_MIN * (TIME_PERIOD_MAX / TIME_PERIOD_MIN) ** (half > 1 ? i / (half - 1) : 0);
    freq[i] = (2 * Math.PI) / period;
  }
  const arg = tau.reshape([-1, 1]).mul(np.array(freq).reshape([1, half])); // [B, half]
  return np.concatenate([np.sin(arg.ref), np.cos(arg)], 1); // [B, width]
}

/** The state token [B, 1, D_a] from [state * mask, mask]. */
function stateToken(p: Pick<ActionParams, 'stateIn'>, st: StateInputs): Arr {
  const b = st.state.shape[0];
  const stateIn = np.concatenate([st.state.mul(st.stateMask.ref), st.stateMask], 1); // [B, 2A]
  return linear(stateIn, p.stateIn).reshape([b, 1, -1]);
}

/** The H action tokens [B, H, D_a]: the noisy chunk xt [B, H, A] mixed with the time embedding of tau [B], plus positions. */
function actionTokens(p: Pick<ActionParams, 'actionIn' | 'timeMlpIn' | 'timeMlpOut' | 'actionPos'>, xt: Arr, tau: Arr): Arr {
  const [b, h] = xt.shape;
  const act = linear(xt, p.actionIn); // [B, H, D_a]
  const da = act.shape[2];
  const temb = np.broadcastTo(timeEmbedding(tau, da).reshape([b, 1, da]), [b, h, da]); // [B, H, D_a]
  return linear(nn.silu(linear(np.concatenate([act, temb], 2), p.timeMlpIn)), p.timeMlpOut).add(p.actionPos);
}

/**
 * Suffix embeddings: the state token, then the H action tokens, then `pad` zero dummy tokens.
 * -> [B, 1 + H + pad, D_a].
 */
export function embedSuffix(p: Omit<ActionParams, 'layers' | 'finalNorm' | 'actionOut'>, st: StateInputs, xt: Arr, tau: Arr, pad = 0): Arr {
  const parts = [stateToken(p, st), actionTokens(p, xt, tau)];
  const [b, , da] = parts[1].shape;
  if (pad > 0) parts.push(np.zeros([b, pad, da]));
  return np.concatenate(parts, 1); // [B, 1 + H + pad, D_a]
}

/** Attention projections of one expert: x [B, n, D] -> normed q, k, v [B, h, n, d]. */
function qkv(c: ModelConfig, lp: LayerParams, x: Arr): [Arr, Arr, Arr] {
  const hN = rmsNorm(x, lp.attnNorm, c.normEps); // [B, n, D]
  const q = splitHeads(np.matmul(hN.ref, lp.attn.wq), c.numHeads, c.headDim);
  const k = splitHeads(np.matmul(hN.ref, lp.attn.wk), c.numHeads, c.headDim);
  const v = splitHeads(np.matmul(hN, lp.attn.wv), c.numHeads, c.headDim);
  return [q, k, v];
}

/** Residual update of one expert after attention: x + o W_o, then x + MLP(norm(x)). o [B, n, h*d]. */
function finish(c: ModelConfig, lp: LayerParams, x: Arr, o: Arr): Arr {
  const y = x.add(np.matmul(o, lp.attn.wo)); // [B, n, D]
  return y.ref.add(mlp(rmsNorm(y, lp.mlpNorm, c.normEps), lp.mlp));
}

/** Velocity head: final norm of the action tokens and projection to A dims. xa [B, H, D_a] -> [B, H, A]. */
function head(c: ModelConfig, p: Pick<ActionParams, 'finalNorm' | 'actionOut'>, xa: Arr): Arr {
  return linear(rmsNorm(xa, p.finalNorm, c.normEps), p.actionOut);
}

/** The action tokens of a suffix [B, 1 + H + pad, D_a] -> [B, H, D_a]. */
function actionPart(c: ModelConfig, xa: Arr): Arr {
  const [stateTok, actTok, padTok] = np.split(xa, [1, 1 + c.actionHorizon], 1);
  tree.dispose([stateTok, padTok]);
  return actTok;
}

/**
 * The flow velocity v(xt, tau | obs) by the literal MoT: both experts in one attention per layer.
 * `pad` dummy suffix tokens (default: the config's alignment padding) do not change the result.
 */
export function velocityJoint(c: ModelConfig, params: Params, pre: PrefixInputs, st: StateInputs, xt: Arr, tau: Arr, pad = suffixPadding(c)): Arr {
  const { layers: sLayers, aim, ...sEmbed } = params.semantic;
  if (aim) tree.dispose(aim); // the aim head is a training signal only
  const { layers: aLayers, finalNorm, actionOut, ...aEmbed } = params.action;
  let [xs, valid] = embedPrefix(c, sEmbed, pre); // [B, Np, D_s], [B, Np]
  let xa = embedSuffix(aEmbed, st, xt, tau, pad); // [B, Ns, D_a]
  const np_ = xs.shape[1];
  const bias = blockBias(valid, xa.shape[1], 0, pad); // [B, 1, N, N]
  for (let l = 0; l < c.depth; l++) {
    const [qs, ks, vs] = qkv(c, sLayers[l], xs.ref);
    const [qa, ka, va] = qkv(c, aLayers[l], xa.ref);
    const q = np.concatenate([qs, qa], 2); // [B, h, N, d]  (eq. 1: concatenated along the sequence)
    const k = np.concatenate([ks, ka], 2);
    const v = np.concatenate([vs, va], 2);
    const o = mergeHeads(attention(q, k, v, bias.ref)); // [B, N, h*d]
    const [os, oa] = np.split(o, [np_], 1);
    xs = finish(c, sLayers[l], xs, os);
    xa = finish(c, aLayers[l], xa, oa);
  }
  bias.dispose();
  xs.dispose();
  return head(c, { finalNorm, actionOut }, actionPart(c, xa));
}

/**
 * The prefix keys/values of every layer, computed once per observation. Exact for the suffix
 * because prefix queries attend only to the prefix. The last layer's prefix attention output and
 * MLP feed nothing and are skipped (their parameters are released).
 */
export function prefixCache(c: ModelConfig, sem: SemanticParams, pre: PrefixInputs): PrefixCache {
  const { layers, aim, ...embed } = sem;
  if (aim) tree.dispose(aim); // the aim head reads the cache (aimReadout); it does not build it
  let [xs, valid] = embedPrefix(c, embed, pre);
  const bias = blockBias(valid.ref, 0, 0); // [B, 1, Np, Np]
  const keys: Arr[] = [];
  const values: Arr[] = [];
  for (let l = 0; l < c.depth; l++) {
    const [q, k, v] = qkv(c, layers[l], xs.ref);
    keys.push(k.ref);
    values.push(v.ref);
    if (l === c.depth - 1) {
      tree.dispose([q, k, v, layers[l].attn.wo, layers[l].mlpNorm, layers[l].mlp]);
      break;
    }
    xs = finish(c, layers[l], xs, mergeHeads(attention(q, k, v, bias.ref)));
  }
  bias.dispose();
  xs.dispose();
  return { keys, values, prefixValid: valid };
}

/**
 * The aim head's prediction (config.aimWeight) from a prefix cache (not consumed): each head's
 * learned query attends over the last layer's valid prefix keys and pools their values; a linear
 * map takes the pooled heads to the 3-d aim. -> [B, 3].
 */
export function aimReadout(c: ModelConfig, p: AimParams, cache: PrefixCache): Arr {
  const last = c.depth - 1;
  const [b, n] = cache.prefixValid.shape;
  const q = np.broadcastTo(p.query.reshape([1, c.numHeads, 1, c.headDim]), [b, c.numHeads, 1, c.headDim]);
  const bias = allowedBias(cache.prefixValid.ref.reshape([b, 1, 1, n])); // [B, 1, 1, Np]
  const pooled = attention(q, cache.keys[last].ref, cache.values[last].ref, bias); // [B, h, 1, d]
  return linear(pooled.reshape([b, c.numHeads * c.headDim]), p.out);
}

/**
 * The action expert's layers over tokens xa [B, n, D_a] that attend to the cached keys/values of
 * each layer [B, h, Nc, d] and to their own, under `bias` [B, 1, n, Nc + n]. -> [B, n, D_a].
 */
function actionLayers(c: ModelConfig, layers: LayerParams[], keys: Arr[], values: Arr[], xa: Arr, bias: Arr): Arr {
  for (let l = 0; l < c.depth; l++) {
    const [qa, ka, va] = qkv(c, layers[l], xa.ref);
    const k = np.concatenate([keys[l], ka], 2); // [B, h, N, d]
    const v = np.concatenate([values[l], va], 2);
    xa = finish(c, layers[l], xa, mergeHeads(attention(qa, k, v, bias.ref)));
  }
  bias.dispose();
  return xa;
}

/** The flow velocity from a prefix cache: only the action expert runs. -> [B, H, A]. */
export function velocityCached(c: ModelConfig, act: ActionParams, cache: PrefixCache, st: StateInputs, xt: Arr, tau: Arr): Arr {
  const { layers, finalNorm, actionOut, ...embed } = act;
  const pad = suffixPadding(c);
  const xa = embedSuffix(embed, st, xt, tau, pad); // [B, Ns, D_a]
  const prefixLen = cache.prefixValid.shape[1];
  const bias = blockBias(cache.prefixValid, xa.shape[1], prefixLen, pad); // [B, 1, Ns, N]
  return head(c, { finalNorm, actionOut }, actionPart(c, actionLayers(c, layers, cache.keys, cache.values, xa, bias)));
}

/**
 * The prefix cache extended by the state token: the state token attends to the prefix and itself
 * only, so its keys and values at every layer do not depend on the noisy chunk, and a sampler
 * computes them once per observation instead of once per Euler step. Then `suffixPadding(c)`
 * zero keys, masked, so that every attention length stays a multiple of SEQ_ALIGN.
 * -> keys/values [B, h, Np + 1 + pad, d], key validity [B, Np + 1 + pad].
 */
export function stateCache(c: ModelConfig, act: Pick<ActionParams, 'stateIn' | 'layers'>, cache: PrefixCache, st: StateInputs): PrefixCache {
  const [b, prefixLen] = cache.prefixValid.shape;
  const pad = suffixPadding(c);
  let xs = stateToken(act, st); // [B, 1, D_a]
  const bias = blockBias(cache.prefixValid.ref, 1, prefixLen); // [B, 1, 1, Np + 1]: the prefix and itself
  const keys: Arr[] = [];
  const values: Arr[] = [];
  const dummy = () => np.zeros([b, c.numHeads, pad, c.headDim]);
  act.layers.forEach((lp, l) => {
    const [q, k1, v1] = qkv(c, lp, xs.ref);
    const k = np.concatenate([cache.keys[l], k1], 2);
    const v = np.concatenate([cache.values[l], v1], 2);
    keys.push(pad > 0 ? np.concatenate([k.ref, dummy()], 2) : k.ref);
    values.push(pad > 0 ? np.concatenate([v.ref, dummy()], 2) : v.ref);
    if (l < c.depth - 1) xs = finish(c, lp, xs, mergeHeads(attention(q, k, v, bias.ref)));
    else tree.dispose([q, k, v, lp.attn.wo, lp.mlpNorm, lp.mlp]); // the last layer's output feeds nothing
  });
  tree.dispose([xs, bias]);
  const valid = np.concatenate([cache.prefixValid, np.ones([b, 1]), ...(pad > 0 ? [np.zeros([b, pad])] : [])], 1);
  return { keys, values, prefixValid: valid };
}

/**
 * The flow velocity from a `stateCache`: only the H action tokens run (they see every valid key).
 * The same function as `velocityCached`, cheaper per Euler step. -> [B, H, A].
 */
export function velocityActions(c: ModelConfig, act: ActionParams, cache: PrefixCache, xt: Arr, tau: Arr): Arr {
  const { layers, finalNorm, actionOut, stateIn, ...embed } = act;
  tree.dispose(stateIn); // the state token is in the cache
  const xa = actionTokens(embed, xt, tau); // [B, H, D_a]
  const [b, n] = cache.prefixValid.shape;
  const h = xa.shape[1];
  const bias = allowedBias(np.concatenate([cache.prefixValid, np.ones([b, h])], 1).reshape([b, 1, 1, n + h])); // [B, 1, 1, N]: every valid key
  return head(c, { finalNorm, actionOut }, actionLayers(c, layers, cache.keys, cache.values, xa, bias));
}
