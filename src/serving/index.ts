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
