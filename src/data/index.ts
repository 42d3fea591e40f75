export { type Dataset, type DatasetInfo, type EpisodeInfo, type FeatureInfo, IMAGE_CACHE_BYTES, formatPath, openDataset } from './lerobot.ts';
export { type DatasetWriter, type EpisodeFrame, createDatasetWriter } from './writer.ts';
export { type ActionMode, type HostArray, type Loader, type LoaderOptions, type NormStats, type SampleBatch, createLoader, datasetNormStats, unifiedChunk } from './loader.ts';
export { type FullStats, type ImageStats, addToHistogram, computeStats, imageStats, quantileSorted } from './stats.ts';
export {
  BYTE_TOKENIZER, buildWordTokenizer, detokenize, padTokens, tokenize, tokenizePadded, TOKENIZER_JSON, tokenizerFromJson, TOKENS, type Tokenizer, wordTokenizer,
} from './tokenizer.ts';
export { type IndexedDataset, type Mixture, type MixtureDraw, type MixtureEntry, MixtureIndex, checkMixturePaths, mixtureSchema, parseMixture } from './mixture.ts';
