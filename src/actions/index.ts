export {
  type Slot,
  type SlotGroup,
  type SlotName,
  SLOT_DIMS,
  SLOT_NAMES,
  SLOTS,
  UNIFIED_DIM,
  slot,
  unifiedDimName,
} from './layout.ts';
export {
  type ControlMode,
  type Embodiment,
  type EmbodimentSpec,
  type EmbodimentSpecInput,
  type SlotBinding,
  CONTROL_MODES,
  actionFromUnified,
  actionToUnified,
  defineEmbodiment,
  embodimentSpecSchema,
  stateFromUnified,
  stateToUnified,
} from './embodiment.ts';
export { embodimentForRobotType, embodimentNames, getEmbodiment } from './registry.ts';
export { isEmbodimentFile, loadEmbodimentFile, resolveEmbodiment } from './spec-file.ts';
export {
  type EefMode,
  EEF_MODES,
  decodeChunk,
  decodePoses,
  encodeChunk,
  encodePoses,
  parseEefMode,
} from './parameterization.ts';
export {
  type FeatureStats,
  type NormMode,
  type Normalizer,
  NORM_MODES,
  MIN_SPREAD,
  featureStatsSchema,
  makeNormalizer,
  chunkNormalizers,
} from './normalization.ts';
export { type ExternalLayout, type ExternalLayoutName, type MaskedVector, EXTERNAL_LAYOUTS, convertChunk, externalLayout, fromExternal, toExternal } from './external-layouts.ts';
export { type Modality, type SpecFromModality, embodimentFromModality, modalityFromEmbodiment, modalitySchema, parseModality } from './gr00t.ts';
