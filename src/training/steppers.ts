/**
 * Training engines behind one interface: `jax` runs each step as jax-js's jitted programs on its
 * wasm backend; `ort` traces the whole step once (step-program.ts), lowers it to ONNX and runs it on
 * ONNX Runtime's native kernels, keeping parameters, moments and the EMA as ORT values between
 * steps. Both draw a step's noise from the same key and compute the same math, so a run is a pure
 * function of (seed, step) on either, and their checkpoints are the same files.
 */
import { type JsTreeDef, numpy as np, random, tree } from '../model/index.ts';
import {
  type ActionParams, type Batch, buildParams, drawNoise, encodeParamData, encodeParams, type ModelConfig, namedLeaves,
  type Params, type SemanticParams, settle, type TauDistribution, validateBatch,
} from '../model/index.ts';
import { type EngineName, type OrtValue, type Program, ProgramSession, traceProgram } from '../engine/index.ts';
import { type AdamWConfig, type AdamWState } from './optimizer.ts';
import { emaStep } from './ema.ts';
import { batchInputs, chunkSizes, type Group, type GroupChunks, groupChunks, type GroupShapes, sizeOf, type StepKind, stepFunction, stepGroups, stepScalars } from './step-program.ts';

type Arr = np.Array;


/** Both experts' AdamW states. */
export type Optimizers = { semantic: AdamWState<SemanticParams>; action: AdamWState<ActionParams> };

/** A run's trainable state as jax-js trees (what init and restore produce; the stepper takes ownership). */
export type TrainState = { params: Params; optimizers: Optimizers; ema?: Params };

/** The state as checkpoint files and the optimizer step counts. */
export type Snapshot = { files: Record<string, Uint8Array>; optSteps: { semantic: number; action: number } };

/** What the training loop needs from an engine. */
export type Stepper = {
  readonly engine: EngineName;
  /**
   * One optimizer step with noise from `seed`; loss and pre-clipping gradient norm (and, where an
   * aim head trains, its error) are read when `read` (else NaN and absent). `nextSeed`, when known,
   * lets an engine draw the next step's noise meanwhile.
   */
  step(batch: Batch, seed: number, o: { frozen: boolean; lr: number; read: boolean; nextSeed?: number }): Promise<StepReading>;
  /** model.safetensors, adam-m.safetensors, adam-v.safetensors (and the EMA file) of the current state. */
  snapshot(emaFile: string): Promise<Snapshot>;
  /** The current parameters as new jax-js arrays (the caller owns them). */
  params(): Params;
  release(): Promise<void>;
};

/** What a step reports: loss, pre-clipping gradient norm and, where an aim head trains, its error. */
export type StepReading = { loss: number; gradNorm: number; aimLoss?: number };

/** Step options shared by both engines. */
export type StepperOptions = {
  config: ModelConfig; opt: AdamWConfig; tau: TauDistribution; emaDecay: number;
  /** ort: leaves up to this many elements share one exchanged array (default `SMALL_LEAF`, see step-program.ts) */
  smallLeaf?: number;
};

/** The jax-js engine: `trainStep` plus the EMA, settled once per step. */
export function jaxStepper(o: StepperOptions, state: TrainState, trainStep: JaxTrainStep): Stepper {
  let { params, optimizers, ema } = state;
  return {
    engine: 'jax',
    async step(batch, seed, s) {
      const r = trainStep(o.config, params, optimizers, batch, random.key(seed), { frozen: s.frozen, lr: s.lr, opt: o.opt, tau: o.tau });
      params = r.params;
      optimizers = r.optimizers;
      if (ema) {
        ema = emaStep(ema, params, o.emaDecay);
        await settle(ema.action.actionOut.w); // the average is one program: one output ready = all
      }
      await settle(r.gradNorm); // run this step's kernels now: jax-js is lazy, and 10 queued steps run ~3x slower
      if (!s.read) {
        tree.dispose([r.loss, r.gradNorm, r.aimLoss ?? []]);
        return { loss: NaN, gradNorm: NaN };
      }
      const reading: StepReading = { loss: (await r.loss.data())[0], gradNorm: (await r.gradNorm.data())[0] };
      if (r.aimLoss) reading.aimLoss = (await r.aimLoss.data())[0];
      return reading;
    },
    async snapshot(emaFile) {
      const c = o.config;
      const files: Record<string, Uint8Array> = {
        'model.safetensors': await encodeParams(c, params),
        'adam-m.safetensors': await encodeParams(c, { semantic: optimizers.semantic.m, action: optimizers.action.m }),
        'adam-v.safetensors': await encodeParams(c, { semantic: optimizers.semantic.v, action: optimizers.action.v }),
      };
      if (ema) files[emaFile] = await encodeParams(c, ema);
      return { files, optSteps: { semantic: optimizers.semantic.step, action: optimizers.action.step } };
    },
    params: () => tree.ref(params),
    async release() {
      tree.dispose([params, optimizers.semantic.m, optimizers.semantic.v, optimizers.action.m, optimizers.action.v, ...(ema ? [ema] : [])]);
    },
  };
}

/** The signature of `trainStep` (trainer.ts), passed in to keep the import graph one-way. */
export type JaxTrainStep = (
  c: ModelConfig, params: Params, optimizers: Optimizers, batch: Batch, key: Arr,
  o: { frozen: boolean; lr: number; opt: AdamWConfig; tau?: TauDistribution },
) => { params: Params; optimizers: Optimizers; loss: Arr; gradNorm: Arr; aimLoss?: Arr };

/** What a step program needs to know of the parameters: each expert's tree structure, leaf shapes (flatten order) and chunks. */
export type StepLayout = { semantic: JsTreeDef; action: JsTreeDef; shapes: GroupShapes; chunks: GroupChunks };

/** The layout of `params` (not consumed); `smallLeaf` as in StepperOptions. */
export function stepLayout(params: Params, smallLeaf?: number): StepLayout {
  const [leavesS, semantic] = tree.flatten(params.semantic) as [Arr[], JsTreeDef];
  const [leavesA, action] = tree.flatten(params.action) as [Arr[], JsTreeDef];
  const shapes = { S: leavesS.map((a) => a.shape), A: leavesA.map((a) => a.shape) };
  return { semantic, action, shapes, chunks: { S: groupChunks(shapes.S, smallLeaf), A: groupChunks(shapes.A, smallLeaf) } };
}

/** The step program of kind `k` traced and lowered for batches shaped like `batch` (its data is not read). */
export function traceStepProgram(c: ModelConfig, opt: AdamWConfig, k: StepKind, layout: StepLayout, batch: Pick<Batch, 'images'> & Record<string, { shape: number[] }>): Promise<Program> {
  const zeros = (shape: number[], dtype?: 'int32') => np.zeros(shape, dtype ? { dtype: np.int32 } : undefined);
  const b = batch.images.shape[0];
  const groupArgs = stepGroups(k).inputs.map((g) => {
    const e = g.endsWith('S') ? 'S' : 'A';
    return chunkSizes(layout.shapes[e], layout.chunks[e]).map((n) => zeros([n]));
  });
  const batchArgs = batchInputs(c, k).map((f) => {
    if (f === 'x0') return zeros([b, c.actionHorizon, c.actionDim]);
    if (f === 'tau') return zeros([b]);
    return zeros(batch[f].shape, f === 'tokens' ? 'int32' : undefined);
  });
  const scalarArgs = stepScalars(k).map(() => zeros([]));
  const fn = stepFunction(c, opt, k, layout);
  return traceProgram(fn, [groupArgs, batchArgs, scalarArgs], { name: `train-step-${k.frozen ? 'frozen' : 'full'}` });
}

/** A host copy of a tree's leaves (in `tree.flatten` order) raveled into `chunks` (leaf indices), as a step program exchanges them. */
async function hostGroup(t: object, chunks: number[][]): Promise<Float32Array[]> {
  const leaves: Float32Array[] = [];
  for (const x of tree.flatten(t)[0] as Arr[]) leaves.push((await x.ref.data()) as Float32Array);
  return chunks.map((ch) => {
    const out = new Float32Array(ch.reduce((n, i) => n + leaves[i].length, 0));
    let at = 0;
    for (const i of ch) {
      out.set(leaves[i], at);
      at += leaves[i].length;
    }
    return out;
  });
}

/**
 * The ONNX Runtime engine. Takes ownership of `state` (copied to the host and released); the step
 * programs (frozen, full) are traced and their sessions created on first use.
 */
export async function ortStepper(o: StepperOptions, state: TrainState, threads?: number): Promise<Stepper> {
  const c = o.config;
  const { params, optimizers, ema } = state;
  const layout = stepLayout(params, o.smallLeaf);
  const nameOf = new Map(namedLeaves(params).map(([n, a]) => [a, n]));
  const leafNames = (t: object) => (tree.flatten(t)[0] as Arr[]).map((a) => nameOf.get(a)!);
  const names = { S: leafNames(params.semantic), A: leafNames(params.action) };
  // each group a list of chunks (see step-program.ts), as host data until the first step, then ORT's outputs
  const ch = layout.chunks;
  const host: Partial<Record<Group, (Float32Array | OrtValue)[]>> = {
    pS: await hostGroup(params.semantic, ch.S), pA: await hostGroup(params.action, ch.A),
    mS: await hostGroup(optimizers.semantic.m, ch.S), mA: await hostGroup(optimizers.action.m, ch.A),
    vS: await hostGroup(optimizers.semantic.v, ch.S), vA: await hostGroup(optimizers.action.v, ch.A),
    ...(ema ? { eS: await hostGroup(ema.semantic, ch.S), eA: await hostGroup(ema.action, ch.A) } : {}),
  };
  const sizes = { S: layout.shapes.S.map(sizeOf), A: layout.shapes.A.map(sizeOf) };
  const optSteps = { semantic: optimizers.semantic.step, action: optimizers.action.step };
  const sessions = new Map<string, Promise<ProgramSession>>();
  // the next step's noise, drawn (by jax-js) while ORT runs this step
  let pending: { seed: number; batch: number; noise: ReturnType<typeof drawNoise> } | undefined;
  const noise = (seed: number, b: number) => (pending?.seed === seed && pending.batch === b ? pending.noise : drawNoise(c, b, o.tau, random.key(seed)));

  const program = (k: StepKind, batch: Batch): Promise<ProgramSession> => {
    const key = `${k.frozen}:${k.ema}:${batch.images.shape}`;
    let s = sessions.get(key);
    if (!s) {
      validateBatch(c, batch); // the program's inputs are this batch's fields, shaped as the first one
      s = traceStepProgram(c, o.opt, k, layout, batch).then((p) => ProgramSession.create(p.model, p.inputs, p.outputs, { threads }));
      sessions.set(key, s);
    }
    return s;
  };

  /** The current data of a group's leaves by parameter name (views into its chunks). */
  const groupData = (g: Group, expert: 'S' | 'A', into: Map<string, Float32Array>) => {
    host[g]!.forEach((v, j) => {
      const flat = (v instanceof Float32Array ? v : v.data) as Float32Array;
      let at = 0;
      for (const i of ch[expert][j]) {
        into.set(names[expert][i], flat.subarray(at, at + sizes[expert][i]));
        at += sizes[expert][i];
      }
    });
  };
  const snapshotGroup = (gS: Group, gA: Group): Uint8Array => {
    const data = new Map<string, Float32Array>();
    groupData(gS, 'S', data);
    groupData(gA, 'A', data);
    return encodeParamData(c, data);
  };
  tree.dispose([params, optimizers.semantic.m, optimizers.semantic.v, optimizers.action.m, optimizers.action.v, ...(ema ? [ema] : [])]);

  return {
    engine: 'ort',
    async step(batch, seed, s) {
      const k: StepKind = { frozen: s.frozen, ema: host.eS !== undefined };
      const session = await program(k, batch);
      const b = batch.images.shape[0];
      const { x0, tau } = await noise(seed, b);
      const tS = optSteps.semantic + 1;
      const tA = optSteps.action + 1;
      const scalar: Record<string, number> = {
        lr: s.lr, bc1S: 1 - o.opt.beta1 ** tS, bc2S: 1 - o.opt.beta2 ** tS, bc1A: 1 - o.opt.beta1 ** tA, bc2A: 1 - o.opt.beta2 ** tA, emaDecay: o.emaDecay,
      };
      const { inputs, outputs } = stepGroups(k);
      const values: OrtValue[] = [];
      const add = (v: Float32Array | Int32Array | OrtValue) => values.push(v instanceof Float32Array || v instanceof Int32Array ? session.value(values.length, v) : v);
      for (const g of inputs) for (const v of host[g]!) add(v);
      for (const f of batchInputs(c, k)) add(f === 'x0' ? x0 : f === 'tau' ? tau : batch[f]!.data);
      for (const name of stepScalars(k)) add(Float32Array.of(scalar[name]));
      const run = session.run(values);
      pending = s.nextSeed === undefined ? undefined : { seed: s.nextSeed, batch: b, noise: drawNoise(c, b, o.tau, random.key(s.nextSeed)) };
      const outs = await run;
      let j = 0;
      for (const g of outputs) host[g] = host[g]!.map(() => outs[j++]);
      if (!s.frozen) optSteps.semantic = tS;
      optSteps.action = tA;
      if (!s.read) return { loss: NaN, gradNorm: NaN };
      const [loss, gradNorm, aimLoss] = outs.slice(j).map((v) => (v.data as Float32Array)[0]);
      return aimLoss === undefined ? { loss, gradNorm } : { loss, gradNorm, aimLoss };
    },
    async snapshot(emaFile) {
      const files: Record<string, Uint8Array> = {
        'model.safetensors': snapshotGroup('pS', 'pA'),
        'adam-m.safetensors': snapshotGroup('mS', 'mA'),
        'adam-v.safetensors': snapshotGroup('vS', 'vA'),
      };
      if (host.eS) files[emaFile] = snapshotGroup('eS', 'eA');
      return { files, optSteps: { ...optSteps } };
    },
    params() {
      const data = new Map<string, Float32Array>();
      groupData('pS', 'S', data);
      groupData('pA', 'A', data);
      return buildParams(c, (n) => Float32Array.from(data.get(n)!));
    },
    async release() {
      for (const s of sessions.values()) await (await s).release();
      sessions.clear();
    },
  };
}
