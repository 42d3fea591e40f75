/** The model layer: the MoT VLA with flow matching on jax-js, and the one entry to jax-js (backend.ts, first). */
export { initBackend, kernelLaunches, kernelMemo, kernelPreparations, jaxVersion, type ModelDevice, multiThreaded, settle, wasmBackendOf, wasmMemoryBytes } from './backend.ts';
export { jit, type JsTree, type JsTreeDef, nn, numpy, random, tree, valueAndGrad } from './backend.ts';
export { type PrefixInputs, type StateInputs } from './mot.ts';
export {
  CONFIG_NAMES,
  CONFIGS,
  type ModelConfig,
  type TauDistribution,
  getConfig,
  patchesPerView,
  stemPatch,
  prefixLength,
  SEQ_ALIGN,
  suffixPadding,
  validateConfig,
} from './config.ts';
export {
  type ActionParams,
  type AttnParams,
  type LayerParams,
  type Linear,
  type MlpParams,
  type Params,
  type SemanticParams,
  buildParams,
  initParams,
  namedLeaves,
  paramCounts,
  paramSpecs,
} from './params.ts';
export {
  type Batch,
  type HostTensor,
  type Observation,
  actionsToDevice,
  observationToDevice,
  validateBatch,
  validateObservation,
} from './batch.ts';
export { syntheticBatch } from './synthetic.ts';
export { aimPoints, chunkNoise, drawNoise, eulerCached, flowLossGrad, flowLossGradFrozen, type LossOptions, type SampleOptions, lossAndGrad, sampleActions, sampleTau } from './flow.ts';
export {
  CHECKPOINT_FILES,
  decodeParamData,
  decodeParams,
  encodeParamData,
  encodeParams,
  loadCheckpoint,
  parseModelConfig,
  saveCheckpoint,
} from './checkpoint.ts';
export { type SafeDType, type SafeTensor, decodeSafetensors, encodeSafetensors } from './safetensors.ts';
export { type PolicyCore } from './policy-core.ts';
