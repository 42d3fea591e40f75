/**
 * The whole training step as one traceable function, for engines that run a traced program (ORT):
 * flow-matching loss and gradients, AdamW on each trained expert (each clipped by its own norm, as
 * `trainStep` does), and the weights' moving average. The math is the model's and the optimizer's
 * own functions; this file only wires them, so both engines compute the same step.
 *
 * The program exchanges "groups" with the host, in `stepGroups` order, each one flat array: an
 * expert's leaves (in `tree.flatten` order) raveled and concatenated. So AdamW and the EMA update
 * each expert as one vector, a few dozen elementwise nodes where a list of leaves made ~24 per leaf
 * (half of a debug-sized step's nodes), and only the parameters are sliced back into leaves for the
 * forward pass. Then the batch (BATCH_INPUTS, noise x0 and tau drawn on the host) and the scalars
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

/** Batch inputs of the program, in order (the Batch fields, then the host-drawn noise). */
export const BATCH_INPUTS = ['images', 'imageMask', 'tokens', 'tokenMask', 'state', 'stateMask', 'actionMask', 'actions', 'x0', 'tau'] as const;

/** Leaf shapes of each expert in `tree.flatten` order: the layout of a flat group. */
export type GroupShapes = { S: number[][]; A: number[][] };

/** Elements of a flat group of leaves shaped `shapes`. */
export function groupSize(shapes: number[][]): number {
  return shapes.reduce((n, sh) => n + sh.reduce((a, b) => a * b, 1), 0);
}

/** The leaves of flat group `flat`: slices reshaped to `shapes`. Consumes `flat`. */
function unravel(flat: Arr, shapes: number[][]): Arr[] {
  let at = 0;
  const leaves = shapes.map((sh) => {
    const n = sh.reduce((a, b) => a * b, 1);
    const leaf = flat.ref.slice([at, at + n]).reshape(sh);
    at += n;
    return leaf;
  });
  flat.dispose();
  return leaves;
}

/** Leaves raveled and concatenated into one flat array. Consumes them. */
function ravel(leaves: Arr[]): Arr {
  return np.concatenate(leaves.map((x) => x.reshape([-1])), 0);
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
 * The step as a function of (groups in `stepGroups(k).inputs` order, each a one-element list
 * holding the flat group; batch in BATCH_INPUTS order; scalars in `stepScalars(k)` order) ->
 * [...output groups (one-element lists), [loss, gradNorm]]. `layout` holds the tree structures of
 * each expert's parameters (from `tree.flatten`) and their leaf shapes.
 */
export function stepFunction(c: ModelConfig, opt: AdamWConfig, k: StepKind, layout: { semantic: JsTreeDef; action: JsTreeDef; shapes: GroupShapes }) {
  const update = adamwUpdate(opt);
  return (groups: Arr[][], batch: Arr[], scalars: Arr[]): Arr[][] => {
    const { inputs, outputs } = stepGroups(k);
    const g = Object.fromEntries(inputs.map((name, i) => [name, groups[i][0]])) as Record<Group, Arr>;
    const s = Object.fromEntries(stepScalars(k).map((name, i) => [name, scalars[i]])) as Record<string, Arr>;
    const [images, imageMask, tokens, tokenMask, state, stateMask, actionMask, actions, x0, tau] = batch;
    const pre = { images, imageMask, tokens, tokenMask };
    const st = { state, stateMask };
    const params: Params = {
      semantic: tree.unflatten(layout.semantic, unravel(g.pS.ref, layout.shapes.S)) as SemanticParams,
      action: tree.unflatten(layout.action, unravel(g.pA.ref, layout.shapes.A)) as ActionParams,
    };
    const out: Partial<Record<Group, Arr[]>> = {};
    let gradNorm: Arr;
    let loss: Arr;
    if (k.frozen) {
      const [l, gradA] = flowLossGradFrozen(c, params, pre, st, actionMask, actions, x0, tau);
      const [pA, mA, vA, normA] = update([g.pA], [ravel(tree.flatten(gradA)[0] as Arr[])], [g.mA], [g.vA], s.lr, s.bc1A, s.bc2A);
      Object.assign(out, { pA, mA, vA });
      loss = l;
      gradNorm = normA;
    } else {
      const [l, grads] = flowLossGrad(c, params, pre, st, actionMask, actions, x0, tau);
      const [pS, mS, vS, normS] = update([g.pS], [ravel(tree.flatten(grads.semantic)[0] as Arr[])], [g.mS], [g.vS], s.lr.ref, s.bc1S, s.bc2S);
      const [pA, mA, vA, normA] = update([g.pA], [ravel(tree.flatten(grads.action)[0] as Arr[])], [g.mA], [g.vA], s.lr, s.bc1A, s.bc2A);
      Object.assign(out, { pS, mS, vS, pA, mA, vA });
      loss = l;
      gradNorm = np.sqrt(np.square(normS).add(np.square(normA)));
    }
    if (k.ema) {
      // the average moves toward the semantic weights whether or not they trained this step
      const pS = k.frozen ? [g.pS] : out.pS!.map((x) => x.ref);
      out.eS = emaUpdate([g.eS], pS, s.emaDecay.ref);
      out.eA = emaUpdate([g.eA], out.pA!.map((x) => x.ref), s.emaDecay);
    }
    if (k.frozen && !k.ema) g.pS.dispose();
    return [...outputs.map((name) => out[name]!), [loss, gradNorm]];
  };
}
