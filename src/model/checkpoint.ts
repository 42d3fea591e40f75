/**
 * Model checkpoints: a directory with `model.safetensors` (parameters by dotted name, e.g.
 * `semantic.layers.0.attn.wq`, float32, weights [in, out]), `config.json` (the ModelConfig) and,
 * when given, `tokenizer.json` (the vocabulary, stored opaquely for the data layer).
 */
import './backend.ts';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError, writeFileAtomic } from '../util/index.ts';
import { type ModelConfig, validateConfig } from './config.ts';
import { buildParams, namedLeaves, type Params, paramSpecs } from './params.ts';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.ts';

/** File names inside a checkpoint directory. */
export const CHECKPOINT_FILES = Object.freeze({ weights: 'model.safetensors', config: 'config.json', tokenizer: 'tokenizer.json' });

const pos = z.number().int().positive();
const configSchema = z.object({
  name: z.string(), imageSize: pos, patchSize: pos, maxViews: pos, maxTokens: pos, vocabSize: pos, depth: pos,
  numHeads: pos, headDim: pos, semanticWidth: pos, semanticMlpDim: pos, actionWidth: pos, actionMlpDim: pos,
  actionHorizon: pos, actionDim: pos, normEps: z.number().positive(), tauDistribution: z.enum(['uniform', 'beta']),
  sampleSteps: pos, stemChannels: z.array(pos).optional(), stemFilm: z.boolean().optional(), aimWeight: z.number().positive().optional(),
}).strict();

/** Parses and validates a ModelConfig from JSON (`file` names the source in errors). */
export function parseModelConfig(value: unknown, file: string): ModelConfig {
  const r = configSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}; fix the model config`);
  }
  return Object.freeze(validateConfig(r.data));
}

/** Parameters as safetensors bytes (reads every array; params are not consumed). */
export async function encodeParams(config: ModelConfig, params: Params): Promise<Uint8Array> {
  const data = new Map<string, Float32Array>();
  for (const [name, arr] of namedLeaves(params)) data.set(name, (await arr.ref.data()) as Float32Array);
  return encodeParamData(config, data);
}

/** Parameters given as host data by dotted name as safetensors bytes, in the checkpoint's fixed order. */
export function encodeParamData(config: ModelConfig, data: ReadonlyMap<string, Float32Array>): Uint8Array {
  const tensors: [string, SafeTensor][] = paramSpecs(config).map(([name, shape]) => {
    const d = data.get(name);
    if (!d) throw new Error(`encodeParamData: no data for ${name}`);
    return [name, { dtype: 'F32', shape, data: d }];
  });
  return encodeSafetensors(tensors, { format: 'vlalab', config: config.name });
}

/** Parameters from safetensors bytes as host data by dotted name, checking every name and shape against `config`. */
export function decodeParamData(config: ModelConfig, bytes: Uint8Array, file: string = CHECKPOINT_FILES.weights): Map<string, Float32Array<ArrayBuffer>> {
  const { tensors } = decodeSafetensors(bytes, file);
  const expected = paramSpecs(config);
  const names = new Set(expected.map(([n]) => n));
  const missing = expected.filter(([n]) => !tensors.has(n)).map(([n]) => n);
  if (missing.length) {
    throw new UserError(`${file}: missing ${missing.length} parameter(s) of config "${config.name}", e.g. ${missing.slice(0, 3).join(', ')}; the checkpoint was saved for another config`);
  }
  const extra = [...tensors.keys()].filter((n) => !names.has(n));
  if (extra.length) throw new UserError(`${file}: unexpected parameter(s) ${extra.slice(0, 3).join(', ')} for config "${config.name}"; the checkpoint was saved for another config`);
  for (const [name, shape] of expected) {
    const t = tensors.get(name)!;
    if (t.dtype !== 'F32') throw new UserError(`${file}: ${name} is ${t.dtype}; parameters must be F32`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(`${file}: ${name} has shape [${t.shape}] but config "${config.name}" expects [${shape}]`);
    }
  }
  return new Map(expected.map(([name]) => [name, tensors.get(name)!.data as Float32Array<ArrayBuffer>]));
}

/** Parameters from safetensors bytes, checking every expected name and shape against `config`. */
export function decodeParams(config: ModelConfig, bytes: Uint8Array, file: string = CHECKPOINT_FILES.weights): Params {
  const data = decodeParamData(config, bytes, file);
  return buildParams(config, (name) => data.get(name)!);
}

/** Writes a checkpoint directory atomically file by file; `tokenizer` (any JSON) is stored beside it. */
export async function saveCheckpoint(dir: string, config: ModelConfig, params: Params, tokenizer?: unknown): Promise<void> {
  writeFileAtomic(join(dir, CHECKPOINT_FILES.weights), await encodeParams(config, params));
  writeFileAtomic(join(dir, CHECKPOINT_FILES.config), JSON.stringify(config, null, 2) + '\n');
  if (tokenizer !== undefined) writeFileAtomic(join(dir, CHECKPOINT_FILES.tokenizer), JSON.stringify(tokenizer) + '\n');
}

/** Reads a checkpoint directory; `tokenizer` is the stored JSON or undefined. */
export function loadCheckpoint(dir: string): { config: ModelConfig; params: Params; tokenizer: unknown } {
  const file = (f: string) => join(dir, f);
  for (const f of [CHECKPOINT_FILES.weights, CHECKPOINT_FILES.config]) {
    if (!existsSync(file(f))) throw new UserError(`${file(f)} not found; pass a checkpoint directory written by vlalab`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file(CHECKPOINT_FILES.config), 'utf8'));
  } catch {
    throw new UserError(`${file(CHECKPOINT_FILES.config)} is not valid JSON; restore it from the run directory`);
  }
  const config = parseModelConfig(raw, file(CHECKPOINT_FILES.config));
  const params = decodeParams(config, readFileSync(file(CHECKPOINT_FILES.weights)), file(CHECKPOINT_FILES.weights));
  const tokPath = file(CHECKPOINT_FILES.tokenizer);
  const tokenizer = existsSync(tokPath) ? JSON.parse(readFileSync(tokPath, 'utf8')) : undefined;
  return { config, params, tokenizer };
}
