export { type Dataset, type DatasetInfo, type EpisodeInfo, type FeatureInfo, IMAGE_CACHE_BYTES, formatPath, openDataset } from './lerobot.ts';
export { type OpenDatasetOptions, type SkippedEpisode, VIDEO_MAX_SIDE } from './lerobot.ts';
export { type CameraSummary, type DatasetProblem, type DatasetReport, type EpisodeEntry, type FeatureSummary, inspectDataset, SUPPORTED_VERSIONS } from './inspect.ts';
export { DEFAULT_FEATURE, type FeatureColumn, featureDimNames, resolveFeatureMap } from './feature-map.ts';
export { indexVideoFiles, listVideoFiles, locateVideo, probeVideo, type VideoFileIndex, type VideoLocation, type VideoProbe } from './video-files.ts';
export { type DatasetWriter, type EpisodeFrame, createDatasetWriter } from './writer.ts';
export { type ActionMode, type HostArray, type Loader, type LoaderOptions, type NormStats, type SampleBatch, createLoader, datasetNormStats, nextGripperEvents, unifiedChunk } from './loader.ts';
export { type FullStats, type ImageStats, addToHistogram, computeStats, imageStats, quantileSorted } from './stats.ts';
export {
  BYTE_TOKENIZER, buildWordTokenizer, detokenize, padTokens, tokenize, tokenizePadded, TOKENIZER_JSON, tokenizerFromJson, TOKENS, type Tokenizer, truncationReport, truncationWarning, wordTokenizer,
} from './tokenizer.ts';
export { type IndexedDataset, type Mixture, type MixtureDraw, type MixtureEntry, MixtureIndex, checkMixturePaths, mixtureSchema, parseMixture } from './mixture.ts';
export { checkEmbodiment, type EmbodimentCheck, type SlotCheck } from './embodiment-check.ts';
export { type ConvertResult, convertToV30, poolStats, V30_DATA_PATH, V30_VIDEO_PATH } from './convert.ts';
export { createThreadLoader, type DatasetSource, type ThreadLoader, type ThreadLoaderOptions } from './loader-thread.ts';
