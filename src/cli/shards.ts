/**
 * `vlalab data shards`: the exact batches `vlalab train` would train on, written once by vlalab's own
 * loader as raw arrays that N data-parallel ranks read without vlalab (python/vlalab_torch reads them
 * under torchrun). Format (version 1), every array little-endian and row-major:
 *
 *   DIR/index.json          written last (a directory without it is incomplete): format, version, ranks N,
 *                           steps S, batchSize B (global), rankBatch b = B / N, seed, imageEncoding, fields
 *                           {name: {dtype, shape}} (shape of one sample), datasets, files per rank
 *   DIR/config.json         {"train": TrainConfig, "model": ModelConfig} resolved, as RUN/config.json
 *   DIR/policy.json         the policy metadata every checkpoint of the run carries (embodiment, action
 *                           parameterization, normalization mode and unified stats, cameras, tokenizer)
 *   DIR/norm.json           {"datasets": [dir...], "norm": [{state, action} per dataset]}: the loader's stats
 *   DIR/rank-RRRRR/F.bin    field F of rank r: [S, b, ...shape] of fields images (u8, or f32 when a dataset's
 *                           image size differs from the model's), imageMask, tokens (i32), tokenMask, state,
 *                           stateMask, actionMask, actions (f32), sample (i64 global sample id s * B + k)
 *
 * Rank r's row (s, j) is sample k = r b + j of `batchAt(s)`: the N ranks of step s together hold that
 * step's whole global batch, disjointly. u8 views decode as the loader's pixels: x / 127.5 - 1 in float32
 * where imageMask is 1, and 0 in absent view slots.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { SampleBatch } from '../data/index.ts';
import { CONFIG_NAMES, getConfig } from '../model/index.ts';
import { PRESET_NAMES, resolveTrainConfig, type TrainConfig } from '../training/index.ts';
import { UserError, writeFileAtomic } from '../util/index.ts';
import { action, ensureDir, intOption, printJson, readJsonFile } from './run.ts';
import { openTrainingData, type TrainingData, trainingLoader } from './train.ts';

/** Version of the shard format written here. */
export const SHARD_FORMAT_VERSION = 1;

/** Element types of shard files. */
export type ShardDType = 'u8' | 'i32' | 'f32' | 'i64';

/** The batch fields in file order, with their element type (images: see imageEncoding). */
const FIELDS = ['images', 'imageMask', 'tokens', 'tokenMask', 'state', 'stateMask', 'actionMask', 'actions'] as const satisfies readonly (keyof SampleBatch)[];

const indexSchema = z.object({
  format: z.literal('vlalab-shards'),
  version: z.literal(SHARD_FORMAT_VERSION),
  ranks: z.number().int().positive(),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  rankBatch: z.number().int().positive(),
  seed: z.number().int().min(0),
  imageEncoding: z.enum(['u8', 'f32']),
  fields: z.record(z.string(), z.object({ dtype: z.enum(['u8', 'i32', 'f32', 'i64']), shape: z.array(z.number().int().min(0)) })),
  datasets: z.array(z.object({ dir: z.string(), embodiment: z.string(), frames: z.number().int() })),
  files: z.array(z.record(z.string(), z.string())),
});

/** The contents of index.json. */
export type ShardIndex = z.infer<typeof indexSchema>;

/** [-1, 1] value of each byte, as the loader computes it. */
const PIXEL = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);

/** Bytes of one sample's pixels as u8; throws if a value is not a loader pixel (or 0 in an absent view). */
function imagesToU8(images: Float32Array, imageMask: Float32Array, perView: number): Uint8Array {
  const out = new Uint8Array(images.length);
  for (let v = 0; v < imageMask.length; v++) {
    const off = v * perView;
    if (imageMask[v] === 0) {
      for (let p = off; p < off + perView; p++) if (images[p] !== 0) throw new Error(`shards: absent view ${v} holds pixel ${images[p]}, not 0`);
      continue;
    }
    for (let p = off; p < off + perView; p++) {
      const u = Math.round((images[p] + 1) * 127.5);
      if (PIXEL[u] !== images[p]) throw new Error(`shards: pixel ${images[p]} is not a byte's value; the loader resized the view (use f32 images)`);
      out[p] = u;
    }
  }
  return out;
}

/** Raw little-endian bytes of a typed array. */
const bytesOf = (a: Float32Array | Int32Array | Uint8Array | BigInt64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** What `writeShards` did. */
export type ShardSummary = { dir: string; ranks: number; steps: number; samples: number; bytes: number; seconds: number; samplesPerSec: number; mbPerSec: number };

/** Writes the shards of `config` on `data` into `out` (which must not hold shards already). */
export async function writeShards(config: TrainConfig, data: TrainingData, out: string, ranks: number): Promise<ShardSummary> {
  if (config.batchSize % ranks !== 0) throw new UserError(`--ranks ${ranks} does not divide the batch size ${config.batchSize}; pass --batch-size as a multiple of ${ranks}`);
  if (existsSync(out) && readdirSync(out).length > 0) throw new UserError(`${out} is not empty; choose another --out or delete it`);
  ensureDir(out);
  const t0 = performance.now();
  const { model, loader, meta } = await trainingLoader(config, data);
  const B = config.batchSize;
  const b = B / ranks;
  const V = model.maxViews;
  const S = model.imageSize;
  const H = model.actionHorizon;
  const A = model.actionDim;
  const u8 = data.datasets.every((d) => d.imageSize === S);
  const shapes: Record<string, { dtype: ShardDType; shape: number[] }> = {
    images: { dtype: u8 ? 'u8' : 'f32', shape: [V, S, S, 3] }, imageMask: { dtype: 'f32', shape: [V] },
    tokens: { dtype: 'i32', shape: [model.maxTokens] }, tokenMask: { dtype: 'f32', shape: [model.maxTokens] },
    state: { dtype: 'f32', shape: [A] }, stateMask: { dtype: 'f32', shape: [A] }, actionMask: { dtype: 'f32', shape: [A] },
    actions: { dtype: 'f32', shape: [H, A] }, sample: { dtype: 'i64', shape: [] },
  };
  const names = [...FIELDS, 'sample'] as const;
  const files = Array.from({ length: ranks }, (_, r) => Object.fromEntries(names.map((f) => [f, `rank-${String(r).padStart(5, '0')}/${f}.bin`])));
  for (let r = 0; r < ranks; r++) mkdirSync(join(out, `rank-${String(r).padStart(5, '0')}`));
  const fds = files.map((fs) => Object.fromEntries(names.map((f) => [f, openSync(join(out, fs[f]), 'w')])));
  let bytes = 0;
  const put = (fd: number, a: Float32Array | Int32Array | Uint8Array | BigInt64Array) => {
    bytes += writeSync(fd, bytesOf(a));
  };
  try {
    const perView = S * S * 3;
    for (let step = 0; step < config.steps; step++) {
      const batch = await loader.batchAt(step);
      for (let r = 0; r < ranks; r++) {
        for (const f of FIELDS) {
          const per = batch[f].data.length / B;
          const part = batch[f].data.subarray(r * b * per, (r + 1) * b * per);
          if (f === 'images' && u8) {
            for (let j = 0; j < b; j++) {
              const k = r * b + j;
              put(fds[r][f], imagesToU8(part.subarray(j * per, (j + 1) * per) as Float32Array, batch.imageMask.data.subarray(k * V, (k + 1) * V), perView));
            }
          } else put(fds[r][f], part);
        }
        put(fds[r].sample, BigInt64Array.from({ length: b }, (_, j) => BigInt(step * B + r * b + j)));
      }
    }
  } finally {
    for (const fs of fds) for (const fd of Object.values(fs)) closeSync(fd);
  }
  writeFileAtomic(join(out, 'config.json'), JSON.stringify({ train: config, model }, null, 2));
  writeFileAtomic(join(out, 'policy.json'), JSON.stringify(meta, null, 2));
  writeFileAtomic(join(out, 'norm.json'), JSON.stringify({ datasets: data.datasets.map((d) => d.dir), norm: loader.norm }));
  const index: ShardIndex = {
    format: 'vlalab-shards', version: SHARD_FORMAT_VERSION, ranks, steps: config.steps, batchSize: B, rankBatch: b, seed: config.seed,
    imageEncoding: u8 ? 'u8' : 'f32', fields: shapes,
    datasets: data.datasets.map((d) => ({ dir: d.dir, embodiment: d.embodiment.name, frames: d.numFrames })), files,
  };
  writeFileAtomic(join(out, 'index.json'), JSON.stringify(index, null, 2));
  const seconds = (performance.now() - t0) / 1000;
  const samples = config.steps * B;
  return { dir: out, ranks, steps: config.steps, samples, bytes, seconds, samplesPerSec: samples / seconds, mbPerSec: bytes / 1e6 / seconds };
}

/** The validated index.json of a shard directory. */
export function readShardIndex(dir: string): ShardIndex {
  const file = join(dir, 'index.json');
  if (!existsSync(file)) throw new UserError(`${file} not found; pass a directory written by \`vlalab data shards\` (one without index.json is incomplete)`);
  const r = indexSchema.safeParse(readJsonFile(file));
  if (!r.success) throw new UserError(`${file}: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}; rewrite the shards`);
  return r.data;
}

/** Rank `rank`'s rows of step `step` as a batch of b samples (u8 views decoded as the loader's pixels), with their global sample ids. */
export function readShardBatch(dir: string, step: number, rank: number): { batch: SampleBatch; samples: bigint[] } {
  const ix = readShardIndex(dir);
  if (!(step >= 0 && step < ix.steps && rank >= 0 && rank < ix.ranks)) throw new UserError(`${dir} holds steps [0, ${ix.steps}) of ranks [0, ${ix.ranks}); asked for step ${step} of rank ${rank}`);
  const b = ix.rankBatch;
  const raw = (f: string) => {
    const { dtype, shape } = ix.fields[f];
    const per = shape.reduce((x, y) => x * y, 1) * (dtype === 'u8' ? 1 : dtype === 'i64' ? 8 : 4) * b;
    const buf = readFileSync(join(dir, ix.files[rank][f])).subarray(step * per, (step + 1) * per);
    return { bytes: new Uint8Array(buf), shape: [b, ...shape], dtype };
  };
  const typed = (f: string) => {
    const { bytes, shape, dtype } = raw(f);
    return { data: dtype === 'i32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer), shape };
  };
  const out = Object.fromEntries(FIELDS.filter((f) => f !== 'images').map((f) => [f, typed(f)])) as unknown as SampleBatch;
  if (ix.imageEncoding === 'f32') out.images = typed('images') as SampleBatch['images'];
  else {
    const { bytes, shape } = raw('images');
    const per = bytes.length / (b * shape[1]);
    const data = new Float32Array(bytes.length);
    for (let p = 0; p < bytes.length; p++) data[p] = out.imageMask.data[Math.floor(p / per)] === 0 ? 0 : PIXEL[bytes[p]];
    out.images = { data, shape };
  }
  return { batch: out, samples: [...new BigInt64Array(raw('sample').bytes.buffer)] };
}

type ShardFlags = { preset: string; out: string; ranks: string; steps?: string; batchSize?: string; seed?: string; model?: string; config?: string; json?: boolean };

/** Adds `shards` to the `data` command group (registered after data.ts). */
export function register(program: Command): void {
  const data = program.commands.find((c) => c.name() === 'data') ?? program.command('data');
  data
    .command('shards')
    .argument('<mixture|dirs>', 'mixture JSON file, or dataset directories separated by commas (as `vlalab train --data`)')
    .description('write the exact training batches of a preset as raw-array shards, one set of files per data-parallel rank')
    .requiredOption('--preset <name>', `training preset: ${PRESET_NAMES.join(', ')} (its steps x batch samples are written: ~25 KB each with two 64x64 views)`)
    .requiredOption('--out <dir>', 'shard directory (index.json, config.json, policy.json, norm.json, rank-RRRRR/)')
    .option('--ranks <n>', 'data-parallel ranks N (divides the batch size)', '1')
    .option('--steps <n>', 'optimizer steps to write (default: the preset\'s)')
    .option('--batch-size <n>', 'global samples per step')
    .option('--seed <n>', 'seed of data order and dropout')
    .option('--model <name>', `model config: ${CONFIG_NAMES.join(', ')}`)
    .option('--config <file>', 'JSON file of config fields overriding the preset')
    .option('--json', 'print a JSON summary')
    .action(
      action(async (spec: string, o: ShardFlags) => {
        const file = o.config ? (readJsonFile(o.config) as Record<string, unknown>) : {};
        const opt = (name: string, v: string | undefined, min: number) => (v === undefined ? undefined : intOption(name, v, min));
        const config = resolveTrainConfig(o.preset, file, {
          steps: opt('--steps', o.steps, 1), batchSize: opt('--batch-size', o.batchSize, 1), seed: opt('--seed', o.seed, 0), model: o.model,
        });
        getConfig(config.model);
        const r = await writeShards(config, await openTrainingData(spec), o.out, intOption('--ranks', o.ranks, 1));
        if (o.json) return printJson(r);
        process.stdout.write(`wrote ${r.steps} steps x ${config.batchSize} samples for ${r.ranks} rank(s) to ${r.dir}: ${(r.bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(1)} s (${r.samplesPerSec.toFixed(0)} samples/s, ${r.mbPerSec.toFixed(1)} MB/s)\n`
          + `train: PYTHONPATH=python torchrun --standalone --nproc_per_node ${r.ranks} -m vlalab_torch.train --shards ${r.dir} --out RUN (README: Training on a cluster)\n`);
      }),
    );
}
