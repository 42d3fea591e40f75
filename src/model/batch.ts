/**
 * The batch contract between the data loader and the model: host typed arrays with shapes,
 * validated against the model config and moved to the device in one place.
 *
 * Axes: B batch, V views, S image side, L tokens, H action horizon, A = 60 unified dims.
 */
import { numpy as np } from './backend.ts';
import { UserError } from '../util/index.ts';
import type { ModelConfig } from './config.ts';
import type { PrefixInputs, StateInputs } from './mot.ts';

/** A host array: row-major data and its shape. */
export type HostTensor<T extends Float32Array | Int32Array = Float32Array> = { data: T; shape: number[] };

/** What the policy sees at one step (a batch of B observations). */
export type Observation = {
  /** [B, V, S, S, 3] RGB in [-1, 1]; a missing view may hold anything (it is masked). */
  images: HostTensor;
  /** [B, V] 1 = view present, 0 = missing. */
  imageMask: HostTensor;
  /** [B, L] int32 token ids (padded to L = config.maxTokens). */
  tokens: HostTensor<Int32Array>;
  /** [B, L] 1 = real token, 0 = padding. */
  tokenMask: HostTensor;
  /** [B, 60] normalized unified state (unused dims anything; they are masked). */
  state: HostTensor;
  /** [B, 60] 1 = the embodiment has this state dim. */
  stateMask: HostTensor;
  /** [B, 60] 1 = the embodiment has this action dim (the loss and the sampled chunk use only these). */
  actionMask: HostTensor;
};

/**
 * A training batch: an observation plus the normalized unified action chunk [B, H, 60]; for a
 * model with an aim head (config.aimWeight), each sample's aim target [B, 3] (the normalized EEF
 * position at the next gripper event) and whether it has one [B] (1/0).
 */
export type Batch = Observation & { actions: HostTensor; aim?: HostTensor; aimMask?: HostTensor };

/** Device arrays of an observation (each consumed by the model functions). */
export type DeviceObservation = { prefix: PrefixInputs; state: StateInputs; actionMask: np.Array };

function expectShape(what: string, t: HostTensor<Float32Array | Int32Array>, shape: number[], hint: string): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!same) throw new UserError(`batch.${what} has shape [${t.shape}] but the model expects [${shape}]; ${hint}`);
  if (t.data.length !== n) throw new UserError(`batch.${what} has ${t.data.length} values for shape [${shape}] (${n}); fix the loader`);
}

/** Batch size of an observation, after checking every field's shape against the config. */
export function validateObservation(c: ModelConfig, o: Observation): number {
  const b = o.images.shape[0];
  const s = c.imageSize;
  const a = c.actionDim;
  expectShape('images', o.images, [b, c.maxViews, s, s, 3], `pad to ${c.maxViews} views of ${s}x${s} (model config "${c.name}")`);
  expectShape('imageMask', o.imageMask, [b, c.maxViews], 'one flag per view slot');
  expectShape('tokens', o.tokens, [b, c.maxTokens], `pad instructions to ${c.maxTokens} tokens`);
  if (!(o.tokens.data instanceof Int32Array)) throw new UserError('batch.tokens must be an Int32Array');
  for (const t of o.tokens.data) {
    if (t < 0 || t >= c.vocabSize) throw new UserError(`batch.tokens has id ${t} outside the vocabulary [0, ${c.vocabSize}); use the model's tokenizer`);
  }
  expectShape('tokenMask', o.tokenMask, [b, c.maxTokens], 'one flag per token');
  expectShape('state', o.state, [b, a], 'use the unified state layout');
  expectShape('stateMask', o.stateMask, [b, a], 'use the embodiment state mask');
  expectShape('actionMask', o.actionMask, [b, a], 'use the embodiment action mask');
  return b;
}

/** Checks a training batch (observation + actions [B, H, 60]); returns B. */
export function validateBatch(c: ModelConfig, batch: Batch): number {
  const b = validateObservation(c, batch);
  expectShape('actions', batch.actions, [b, c.actionHorizon, c.actionDim], `chunks of H = ${c.actionHorizon} unified actions`);
  if (c.aimWeight) {
    if (!batch.aim || !batch.aimMask) throw new UserError(`model config "${c.name}" has an aim head: its batches need aim [B, 3] and aimMask [B] (the loader's \`aim\` option)`);
    expectShape('aim', batch.aim, [b, 3], 'one EEF position per sample');
    expectShape('aimMask', batch.aimMask, [b], 'one flag per sample');
  }
  return b;
}

const dev = (t: HostTensor<Float32Array | Int32Array>) => np.array(t.data as Float32Array<ArrayBuffer>, { shape: t.shape }); // copied to the device

/** Moves a validated observation to the device. */
export function observationToDevice(o: Observation): DeviceObservation {
  return {
    prefix: { images: dev(o.images), imageMask: dev(o.imageMask), tokens: dev(o.tokens), tokenMask: dev(o.tokenMask) },
    state: { state: dev(o.state), stateMask: dev(o.stateMask) },
    actionMask: dev(o.actionMask),
  };
}

/** Moves a validated batch's actions [B, H, A] to the device. */
export function actionsToDevice(batch: Batch): np.Array {
  return dev(batch.actions);
}

/** Moves a validated batch's aim targets to the device (undefined when the batch has none). */
export function aimToDevice(batch: Batch): { target: np.Array; mask: np.Array } | undefined {
  return batch.aim && batch.aimMask ? { target: dev(batch.aim), mask: dev(batch.aimMask) } : undefined;
}
