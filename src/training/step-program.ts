/**
 * The whole training step as one traceable function, for engines that run a traced program (ORT):
 * flow-matching loss and gradients, AdamW on each trained expert (each clipped by its own norm, as
 * `trainStep` does), and the weights' moving average. The math is the model's and the optimizer's
 * own functions; this file only wires them, so both engines compute the same step.
 *
 * The program exchanges "groups" with the host, in `stepGroups` order, each a list of flat arrays
 * ("chunks", `groupChunks`): an expert's small leaves raveled into one, each large leaf alone. So
 * AdamW and the EMA update the small leaves as one vector, a few dozen elementwise nodes where a
 * list of leaves made ~24 per leaf (half of a debug-sized step's nodes), while a large leaf is not
 * copied in and out of a shared array; only the parameters are sliced back into leaves for the
 * forward pass. Then the batch (`batchInputs`, noise x0 and tau drawn on the host) and the scalars
 * (learning rate, bias corrections 1 - b^t per expert, EMA decay).
 */
import { type JsTreeDef, numpy as np, tree } from '../model/index.ts';
import { type ActionParams, flowLossGrad, flowLossGradFrozen, type ModelConfig, type Params, type SemanticParams } from '../model/index.ts';
import { emaUpdate } from './ema.ts';
import { type AdamWConfig, adamwUpdate } from './optimizer.ts';

type Arr = np.Array;

/** Leaf groups: params (p), AdamW moments (m, v) and EMA (e) of the semantic (S) and action (A) expert. */
export type Group = 'pS' | 'pA' | 'mS' | 'mA' | 'vS' | 'vA' | 'eS' | 'eA';

/** Which step program: stage 1 / frozen fine-tuning (semantic expert frozen) or all trained; with an EMA or not. */
export type StepKind = { frozen: boolean; ema: boolean };

/** A batch input of a step program: a Batch field, or the host-drawn noise x0 and flow time tau. */
export type BatchInput = 'images' | 'imageMask' | 'tokens' | 'tokenMask' | 'state' | 'stateMask' | 'actionMask' | 'actions' | 'aim' | 'aimMask' | 'x0' | 'tau';

/** Batch inputs of a step program, in order: the Batch fields (the aim targets only where a full step trains an aim head), then the noise. */
export function batchInputs(c: ModelConfig, k: StepKind): BatchInput[] {
  const aim: BatchInput[] = c.aimWeight && !k.frozen ? ['aim', 'aimMask'] : [];
  return ['images', 'imageMask', 'tokens', 'tokenMask', 'state', 'stateMask', 'actionMask', 'actions', ...aim, 'x0', 'tau'];
}

/** Leaf shapes of each expert in `tree.flatten` order. */
export type GroupShapes = { S: number[][]; A: number[][] };

/** Each expert's chunks: the leaf indices (into `tree.flatten` order) raveled into each exchanged array. */
export type GroupChunks = { S: number[][]; A: number[][] };

/** Leaves up to this many elements share one array; a larger one is exchanged alone (its copy into a shared array would cost more than the nodes it saves). */
export const SMALL_LEAF = 65_536;

/** Elements of an array shaped `shape`. */
export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The chunks of leaves shaped `shapes`: every leaf of at most `small` elements in one (first), then each larger leaf alone. */
export function groupChunks(shapes: number[][], small = SMALL_LEAF): number[][] {
  const merged = shapes.flatMap((sh, i) => (sizeOf(sh) <= small ? [i] : []));
  const large = shapes.flatMap((sh, i) => (sizeOf(sh) > small ? [[i]] : []));
  return merged.length ? [merged, ...large] : large;
}

/** Elements of each chunk. */
export function chunkSizes(shapes: number[][], chunks: number[][]): number[] {
  return chunks.map((ch) => ch.reduce((n, i) => n + sizeOf(shapes[i]), 0));
}

/** The leaves (in `tree.flatten` order) of a group's chunks: slices reshaped. Consumes the chunks. */
function unravel(chunks: Arr[], shapes: number[][], layout: number[][]): Arr[] {
  const leaves = new Array<Arr>(shapes.length);
  chunks.forEach((flat, j) => {
    let at = 0;
    for (const i of layout[j]) {
      const n = sizeOf(shapes[i]);
      leaves[i] = layout[j].length === 1 ? flat.ref.reshape(shapes[i]) : flat.ref.slice([at, at + n]).reshape(shapes[i]);
      at += n;
    }
    flat.dispose();
  });
  return leaves;
}

/** Leaves (in `tree.flatten` order) raveled into the group's chunks. Consumes them. */
function ravel(leaves: Arr[], layout: number[][]): Arr[] {
  return layout.map((ch) => (ch.length === 1 ? leaves[ch[0]].reshape([-1]) : np.concatenate(ch.map((i) => leaves[i].reshape([-1])), 0)));
}

/** The groups a step program reads and writes, in order. A frozen step leaves pS, mS, vS untouched (not outputs). */
export function stepGroups(k: StepKind): { inputs: Group[]; outputs: Group[] } {
  const ema: Group[] = k.ema ? ['eS', 'eA'] : [];
  if (k.frozen) return { inputs: ['pS', 'pA', 'mA', 'vA', ...ema], outputs: ['pA', 'mA', 'vA', ...ema] };
  const all: Group[] = ['pS', 'pA', 'mS', 'mA', 'vS', 'vA', ...ema];
  return { inputs: all, outputs: all };
}

/** The scalar inputs of a step program, in order. */
export function stepScalars(k: StepKind): string[] {
  return [...(k.frozen ? [] : ['bc1S', 'bc2S']), 'lr', 'bc1A', 'bc2A', ...(k.ema ? ['emaDecay'] : [])];
}

/**
 * The step as a function of (groups in `stepGroups(k).inputs` order, each the list of its chunks;
 * batch in `batchInputs(c, k)` order; scalars in `stepScalars(k)` order) -> [...output groups (lists of
 * chunks), [loss, gradNorm, and the aim error where `batchInputs` has aim targets]]. `layout` holds
 * the tree structures of each expert's parameters (from `tree.flatten`), their leaf shapes and chunks.
 */
export function stepFunction(c: ModelConfig, opt: AdamWConfig, k: StepKind, layout: { semantic: JsTreeDef; action: JsTreeDef; shapes: GroupShapes; chunks: GroupChunks }) {
  const update = adamwUpdate(opt);
  return (groups: Arr[][], batch: Arr[], scalars: Arr[]): Arr[][] => {
    const { inputs, outputs } = stepGroups(k);
    const g = Object.fromEntries(inputs.map((name, i) => [name, groups[i]])) as Record<Group, Arr[]>;
    const refs = (xs: Arr[]) => xs.map((x) => x.ref);
    const s = Object.fromEntries(stepScalars(k).map((name, i) => [name, scalars[i]])) as Record<string, Arr>;
    const input = Object.fromEntries(batchInputs(c, k).map((name, i) => [name, batch[i]])) as Record<BatchInput, Arr>;
    const { images, imageMask, tokens, tokenMask, state, stateMask, actionMask, actions, x0, tau } = input;
    const aim = input.aim ? { target: input.aim, mask: input.aimMask } : undefined;
    const pre = { images, imageMask, tokens, tokenMask };
    const st = { state, stateMask };
    const params: Params = {
      semantic: tree.unflatten(layout.semantic, unravel(refs(g.pS), layout.shapes.S, layout.chunks.S)) as SemanticParams,
      action: tree.unflatten(layout.action, unravel(refs(g.pA), layout.shapes.A, layout.chunks.A)) as ActionParams,
    };
    const out: Partial<Record<Group, Arr[]>> = {};
    let gradNorm: Arr;
    let loss: Arr;
    let aimLoss: Arr | undefined;
    if (k.frozen) {
      const [l, gradA] = flowLossGradFrozen(c, params, pre, st, actionMask, actions, x0, tau);
      const [pA, mA, vA, normA] = update(g.pA, ravel(tree.flatten(gradA)[0] as Arr[], layout.chunks.A), g.mA, g.vA, s.lr, s.bc1A, s.bc2A);
      Object.assign(out, { pA, mA, vA });
      loss = l;
      gradNorm = normA;
    } else {
      const [l, grads, aimed] = flowLossGrad(c, params, pre, st, actionMask, actions, x0, tau, aim);
      const [pS, mS, vS, normS] = update(g.pS, ravel(tree.flatten(grads.semantic)[0] as Arr[], layout.chunks.S), g.mS, g.vS, s.lr.ref, s.bc1S, s.bc2S);
      const [pA, mA, vA, normA] = update(g.pA, ravel(tree.flatten(grads.action)[0] as Arr[], layout.chunks.A), g.mA, g.vA, s.lr, s.bc1A, s.bc2A);
      Object.assign(out, { pS, mS, vS, pA, mA, vA });
      loss = l;
      aimLoss = aimed;
      gradNorm = np.sqrt(np.square(normS).add(np.square(normA)));
    }
    if (k.ema) {
      // the average moves toward the semantic weights whether or not they trained this step
      const pS = k.frozen ? g.pS : refs(out.pS!);
      out.eS = emaUpdate(g.eS, pS, s.emaDecay.ref);
      out.eA = emaUpdate(g.eA, refs(out.pA!), s.emaDecay);
    }
    if (k.frozen && !k.ema) tree.dispose(g.pS);
    return [...outputs.map((name) => out[name]!), aimLoss ? [loss, gradNorm, aimLoss] : [loss, gradNorm]];
  };
}
