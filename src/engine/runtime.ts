/**
 * ONNX Runtime sessions on the CPU (onnxruntime-node's native kernels): loading the runtime once,
 * with a reason when it cannot load; sessions created once per program and cached; runs that take
 * and give host arrays in the program's input and output order.
 */
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { count, UserError } from '../util/index.ts';
import type { ValueInfo } from './onnx.ts';

/** A host tensor: row-major data and its shape. */
export type HostArray = { data: Float32Array | Int32Array | Uint8Array; shape: number[] };

type OrtModule = typeof Ort;

let loaded: Promise<OrtModule | Error> | undefined;

/** The onnxruntime-node module, or the error that kept it from loading (no native binary for this platform, ...). */
export function loadOrt(): Promise<OrtModule | Error> {
  loaded ??= import('onnxruntime-node').then(
    (m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  return loaded;
}

/** Threads per session: VLALAB_THREADS when set, else every core. */
export function ortThreads(): number {
  const env = Number(process.env.VLALAB_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/** How a log line names the ORT engine: "onnxruntime, 2 threads". */
export function ortLabel(): string {
  return `onnxruntime, ${count(ortThreads(), 'thread')}`;
}

/** A tensor value as ORT holds it between runs (outputs fed back as inputs without a copy in JS). */
export type OrtValue = Ort.Tensor;

/** One program's session: `run` takes its inputs in order and returns its outputs in order. */
export class ProgramSession {
  private readonly ort: OrtModule;
  private readonly session: Ort.InferenceSession;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];

  private constructor(ort: OrtModule, session: Ort.InferenceSession, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]) {
    this.ort = ort;
    this.session = session;
    this.inputs = inputs;
    this.outputs = outputs;
  }

  /** Creates a session for an ONNX model whose graph has exactly these inputs and outputs. */
  static async create(model: Uint8Array, inputs: ValueInfo[], outputs: ValueInfo[], opts: { threads?: number } = {}): Promise<ProgramSession> {
    const ort = await loadOrt();
    if (ort instanceof Error) throw new UserError(`onnxruntime-node cannot load here (${ort.message.split('\n')[0]}); use --engine jax`);
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: opts.threads ?? ortThreads(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      // VLALAB_ORT_PROFILE=PREFIX: ORT's per-node profile, written when the session is released
      ...(process.env.VLALAB_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.VLALAB_ORT_PROFILE } : {}),
    });
    return new ProgramSession(ort, session, inputs, outputs);
  }

  /** Wraps host data as an input value of slot `i` (no copy: the array is shared with ORT). */
  value(i: number, data: HostArray['data']): OrtValue {
    const info = this.inputs[i];
    const n = info.dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new UserError(`program input ${info.name} needs ${n} values for shape [${info.dims}], got ${data.length}`);
    const typed = info.dtype === 'bool' && !(data instanceof Uint8Array) ? Uint8Array.from(data as ArrayLike<number>) : data;
    return new this.ort.Tensor(info.dtype, typed as Float32Array, info.dims);
  }

  /** Runs the program; inputs are ORT values (from `value` or earlier outputs) in input order. */
  async run(values: OrtValue[]): Promise<OrtValue[]> {
    if (values.length !== this.inputs.length) throw new Error(`program takes ${this.inputs.length} inputs, got ${values.length}`);
    const feeds: Record<string, OrtValue> = {};
    this.inputs.forEach((info, i) => (feeds[info.name] = values[i]));
    const out = await this.session.run(feeds);
    return this.outputs.map((o) => out[o.name]);
  }

  async release(): Promise<void> {
    if (process.env.VLALAB_ORT_PROFILE) this.session.endProfiling();
    await this.session.release();
  }
}

/** The engines vlalab runs models on: ONNX Runtime's native kernels, or jax-js itself (wasm; WebGPU in a browser). */
export const ENGINES = ['ort', 'jax'] as const;
/** An engine name. */
export type EngineName = (typeof ENGINES)[number];

/**
 * The engine to use for `requested` (default 'ort'): 'jax' when onnxruntime-node cannot load here,
 * with the one line to tell the user why.
 */
export async function chooseEngine(requested: EngineName = 'ort'): Promise<{ engine: EngineName; note?: string }> {
  if (requested === 'jax') return { engine: 'jax' };
  const ort = await loadOrt();
  if (!(ort instanceof Error)) return { engine: 'ort' };
  return { engine: 'jax', note: `onnxruntime-node cannot load here (${ort.message.split('\n')[0]}); running on the jax engine (jax-js wasm, several times slower)` };
}

/** Parses an --engine value. */
export function parseEngine(value: string | undefined): EngineName | undefined {
  if (value === undefined) return undefined;
  if ((ENGINES as readonly string[]).includes(value)) return value as EngineName;
  throw new UserError(`--engine must be ${ENGINES.join(' or ')}, got "${value}"`);
}
