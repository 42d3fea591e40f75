/**
 * What a trained model needs to act, whoever loads it (training reads it from a checkpoint; serving
 * wraps it as a policy): the model, its embodiment and the training-time transforms.
 */
import type { EefMode, Embodiment, Normalizer } from '../actions/index.ts';
import type { ModelConfig } from './config.ts';
import type { Params } from './params.ts';

/** A model with the transforms it was trained with. */
export type PolicyCore = {
  config: ModelConfig;
  params: Params;
  embodiment: Embodiment;
  /** how the model's eef actions are expressed ('absolute' = no EEF decoding) */
  parameterization: EefMode | 'absolute';
  /** normalizes unified states as in training */
  stateNormalizer: Normalizer;
  /** (un)normalizes unified actions as in training, one per chunk step [H] (the same one unless trained with per-step stats) */
  actionNormalizers: readonly Normalizer[];
  /** instruction -> token ids (unpadded), the tokenizer used in training */
  tokenize: (prompt: string) => ArrayLike<number>;
};
