/** The serving layer: openpi-compatible WebSocket policy server, client and action-chunk broker. */
export {
  type DecodeLimits,
  type DType,
  type NdArray,
  type NdData,
  DEFAULT_LIMITS,
  DTYPES,
  f32,
  isNdArray,
  ndarray,
  packb,
  unpackb,
} from './msgpack-numpy.ts';
export {
  type ObservationSpec,
  type PolicyObservation,
  type RgbFrame,
  LIBERO_KEYS,
  MAX_IMAGE_SIDE,
  imageKeysFor,
  makeObservation,
  squareFrames,
  observationParser,
} from './observation.ts';
export {
  type Policy,
  type PolicyMetadata,
  type PolicyOutput,
  type TestPolicyName,
  type TestPolicyOptions,
  TEST_POLICY_NAMES,
  echoChunk,
  makeTestPolicy,
  metadataFor,
  testObservation,
  testObservationSpec,
} from './policy.ts';
export {
  type RunningServer,
  type ServerOptions,
  API_KEY_ENV,
  CLOSE_INTERNAL_ERROR,
  DEFAULT_HOST,
  DEFAULT_PORT,
  MAX_IN_FLIGHT,
  startServer,
} from './server.ts';
export { type ClientOptions, type InferReply, PolicyClient, remotePolicy, ServerError } from './client.ts';
export { ActionChunkBroker, type ChunkSource } from './chunk-broker.ts';
export { type ModelPolicy, type ModelPolicyParts, chunkToNative, makeModelPolicy, observationToBatch, resizeToModel } from './model-policy.ts';
export { type ChunkSampler, createSampler, POLICY_INPUTS, policySignature, requestNoise, tracePolicyProgram } from './sampler.ts';
export { apiKeyMatches, type OpenpiServerOptions, type OpenpiSession, type RunningOpenpiServer, startOpenpiServer } from './openpi-core.ts';
