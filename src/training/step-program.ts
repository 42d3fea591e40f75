/**
 * The whole training step as one traceable function, for engines that run a traced program (ORT):
 * flow-matching loss and gradients, AdamW on each trained expert (each clipped by its own norm, as
 * `trainStep` does), and the weights' moving average. The math is the model's and the optimizer's
 * own functions; this file only wires them, so both engines compute the same step.
 *
 * The program exchanges flat leaf lists ("groups") with the host, in `stepGroups` order, then the
 * batch (BATCH_INPUTS, noise x0 and tau drawn on the host) and the scalars (learning rate, bias
 * corrections 1 - b^t per expert, EMA decay).
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
 * The step as a function of (groups in `stepGroups(k).inputs` order, batch in BATCH_INPUTS order,
 * scalars in `stepScalars(k)` order) -> [...output groups, [loss, gradNorm]]. `defs` are the
 * tree structures of one expert's parameters (from `tree.flatten`).
 */
export function stepFunction(c: ModelConfig, opt: AdamWConfig, k: StepKind, defs: { semantic: JsTreeDef; action: JsTreeDef }) {
  const update = adamwUpdate(opt);
  return (groups: Arr[][], batch: Arr[], scalars: Arr[]): Arr[][] => {
    const { inputs, outputs } = stepGroups(k);
    const g = Object.fromEntries(inputs.map((name, i) => [name, groups[i]])) as Record<Group, Arr[]>;
    const s = Object.fromEntries(stepScalars(k).map((name, i) => [name, scalars[i]])) as Record<string, Arr>;
    const [images, imageMask, tokens, tokenMask, state, stateMask, actionMask, actions, x0, tau] = batch;
    const pre = { images, imageMask, tokens, tokenMask };
    const st = { state, stateMask };
    const params: Params = { semantic: tree.unflatten(defs.semantic, g.pS) as SemanticParams, action: tree.unflatten(defs.action, g.pA) as ActionParams };
    const out: Partial<Record<Group, Arr[]>> = {};
    let gradNorm: Arr;
    let loss: Arr;
    if (k.frozen) {
      const [l, gradA] = flowLossGradFrozen(c, tree.ref(params), pre, st, actionMask, actions, x0, tau);
      const [pA, mA, vA, normA] = update(g.pA, tree.flatten(gradA)[0] as Arr[], g.mA, g.vA, s.lr, s.bc1A, s.bc2A);
      Object.assign(out, { pA, mA, vA });
      loss = l;
      gradNorm = normA;
    } else {
      const [l, grads] = flowLossGrad(c, tree.ref(params), pre, st, actionMask, actions, x0, tau);
      const [pS, mS, vS, normS] = update(g.pS, tree.flatten(grads.semantic)[0] as Arr[], g.mS, g.vS, s.lr.ref, s.bc1S, s.bc2S);
      const [pA, mA, vA, normA] = update(g.pA, tree.flatten(grads.action)[0] as Arr[], g.mA, g.vA, s.lr, s.bc1A, s.bc2A);
      Object.assign(out, { pS, mS, vS, pA, mA, vA });
      loss = l;
      gradNorm = np.sqrt(np.square(normS).add(np.square(normA)));
    }
    if (k.ema) {
      // the average moves toward the semantic weights whether or not they trained this step
      const pS = k.frozen ? g.pS : out.pS!.map((x) => x.ref);
      out.eS = emaUpdate(g.eS, pS, s.emaDecay.ref);
      out.eA = emaUpdate(g.eA, out.pA!.map((x) => x.ref), s.emaDecay);
    }
    if (k.frozen && !k.ema) tree.dispose(g.pS);
    return [...outputs.map((name) => out[name]!), [loss, gradNorm]];
  };
}
