/**
 * The observation a client sends, LIBERO-style as openpi's examples do:
 *   "observation/image"        u8 [H, W, 3] RGB (third-person camera)
 *   "observation/wrist_image"  u8 [H, W, 3] RGB (optional unless the policy lists it)
 *   "observation/state"        f4 or f8 [S] native robot state
 *   "prompt"                   str, the instruction
 * Other keys are ignored (openpi clients often send extras). Validated with zod once, here.
 */
import { z } from 'zod';
import { UserError } from '../util/index.ts';
import { f32, isNdArray, type NdArray, ndarray } from './msgpack-numpy.ts';

/** What a policy expects to receive; part of the metadata sent on connect. */
export type ObservationSpec = {
  /** image keys; each must be u8 [H, W, 3] */
  imageKeys: readonly string[];
  /** image keys that may be left out */
  optionalImageKeys: readonly string[];
  /** key of the state vector */
  stateKey: string;
  /** length S of the state vector (the embodiment's native state) */
  stateDim: number;
  /** whether "prompt" (a string) is required */
  promptRequired: boolean;
};

/** A validated observation: images by key (absent optional views left out), state, prompt. */
export type PolicyObservation = {
  images: Record<string, NdArray>;
  /** [S] native state, float32 copy */
  state: Float32Array;
  prompt: string;
};

/** Largest image side accepted, pixels. */
export const MAX_IMAGE_SIDE = 4096;

/** The LIBERO keys used by openpi's LIBERO example. */
export const LIBERO_KEYS = Object.freeze({ image: 'observation/image', wristImage: 'observation/wrist_image', state: 'observation/state', prompt: 'prompt' });

/** Wire image keys for a robot's cameras: LIBERO's two keys for the first two, then observation/images/<name>. */
export function imageKeysFor(cameras: readonly string[]): string[] {
  return cameras.map((c, i) => (i === 0 ? LIBERO_KEYS.image : i === 1 ? LIBERO_KEYS.wristImage : `observation/images/${c}`));
}

const ndArray = z.custom<NdArray>(isNdArray, 'must be a numpy array (a map with bin keys __ndarray__, data, dtype, shape)');

const image = ndArray.superRefine((a, ctx) => {
  if (a.dtype !== '|u1') ctx.addIssue({ code: 'custom', message: `must be uint8 (dtype |u1), got ${a.dtype}; send np.uint8 RGB` });
  else if (a.shape.length !== 3 || a.shape[2] !== 3) ctx.addIssue({ code: 'custom', message: `must have shape [H, W, 3], got [${a.shape.join(', ')}]` });
  else if (a.shape[0] < 1 || a.shape[1] < 1 || a.shape[0] > MAX_IMAGE_SIDE || a.shape[1] > MAX_IMAGE_SIDE) {
    ctx.addIssue({ code: 'custom', message: `has size ${a.shape[0]}x${a.shape[1]}; sides must be 1..${MAX_IMAGE_SIDE}` });
  }
});

function stateSchema(dim: number) {
  return ndArray.superRefine((a, ctx) => {
    if (a.dtype !== '<f4' && a.dtype !== '<f8') ctx.addIssue({ code: 'custom', message: `must be float32 or float64, got ${a.dtype}` });
    else if (a.shape.length !== 1 || a.shape[0] !== dim) ctx.addIssue({ code: 'custom', message: `must have shape [${dim}], got [${a.shape.join(', ')}]` });
    else {
      const bad = (a.data as Float32Array | Float64Array).findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) ctx.addIssue({ code: 'custom', message: `has a non-finite value (${a.data[bad]}) at index ${bad}` });
    }
  });
}

/** Builds the zod schema for a spec (once per policy). */
function observationSchema(spec: ObservationSpec) {
  const shape: Record<string, z.ZodType> = {};
  for (const k of spec.imageKeys) shape[k] = spec.optionalImageKeys.includes(k) ? image.optional() : image;
  shape[spec.stateKey] = stateSchema(spec.stateDim);
  shape[LIBERO_KEYS.prompt] = spec.promptRequired ? z.string().max(10_000) : z.string().max(10_000).optional();
  return z.object(shape);
}

/** A parser for one spec: decoded frame -> PolicyObservation, or a UserError naming the key. */
export function observationParser(spec: ObservationSpec): (raw: unknown) => PolicyObservation {
  const schema = observationSchema(spec);
  return (raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || isNdArray(raw)) {
      throw new UserError(`the observation must be a dict with keys ${expectedKeys(spec)}; got ${Array.isArray(raw) ? 'a list' : isNdArray(raw) ? 'an array' : typeof raw}`);
    }
    const r = schema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      const key = issue.path.length ? `"${issue.path.map(String).join('.')}"` : 'the observation';
      const missing = issue.path.length === 1 && (raw as Record<string, unknown>)[String(issue.path[0])] === undefined;
      const msg = missing ? 'is missing' : issue.message;
      throw new UserError(`observation ${key} ${msg} (expected keys: ${expectedKeys(spec)})`);
    }
    const o = r.data as Record<string, unknown>;
    const images: Record<string, NdArray> = {};
    for (const k of spec.imageKeys) if (o[k] !== undefined) images[k] = o[k] as NdArray;
    const state = Float32Array.from((o[spec.stateKey] as NdArray).data as Float32Array | Float64Array);
    return { images, state, prompt: (o[LIBERO_KEYS.prompt] as string | undefined) ?? '' };
  };
}

function expectedKeys(spec: ObservationSpec): string {
  const opt = (k: string) => (spec.optionalImageKeys.includes(k) ? `${k} (optional)` : k);
  return [...spec.imageKeys.map(opt), spec.stateKey, spec.promptRequired ? LIBERO_KEYS.prompt : `${LIBERO_KEYS.prompt} (optional)`].join(', ');
}

/** An RGB frame: row-major u8 [height, width, 3]. */
export type RgbFrame = { data: Uint8Array; width: number; height: number };

/**
 * The wire observation for a client to send: one u8 [H, W, 3] array per camera under its wire key
 * (`imageKeysFor`, in the record's order: the first is observation/image, the second
 * observation/wrist_image), the native state as float32 [S], the prompt. What a robot or a
 * simulator hands to PolicyClient.infer.
 */
export function makeObservation(o: { images: Readonly<Record<string, RgbFrame>>; state: ArrayLike<number>; prompt: string }): Record<string, unknown> {
  const cameras = Object.keys(o.images);
  const keys = imageKeysFor(cameras);
  const wire: Record<string, unknown> = { [LIBERO_KEYS.state]: f32([o.state.length], Float32Array.from(o.state)), [LIBERO_KEYS.prompt]: o.prompt };
  cameras.forEach((c, i) => {
    const f = o.images[c];
    if (f.data.length !== f.width * f.height * 3) throw new UserError(`camera ${c} has ${f.data.length} bytes; a ${f.width}x${f.height} RGB frame has ${f.width * f.height * 3}`);
    wire[keys[i]] = ndarray('|u1', [f.height, f.width, 3], f.data);
  });
  return wire;
}

/** Square side x side frames of `cameras`, in that order, from their raw RGB bytes (a simulator's images). */
export function squareFrames(cameras: readonly string[], images: Readonly<Record<string, Uint8Array>>, side: number): Record<string, RgbFrame> {
  return Object.fromEntries(cameras.map((c) => [c, { data: images[c], width: side, height: side }]));
}
