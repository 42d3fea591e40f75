/**
 * msgpack with numpy arrays, byte-compatible with openpi's `openpi_client.msgpack_numpy`:
 * an array is the map {b"__ndarray__": true, b"data": <C-order bytes>, b"dtype": "<f4",
 * b"shape": [...]} and a numpy scalar is {b"__npgeneric__": true, b"data": <item>, b"dtype": ...},
 * where the four keys are msgpack *bin* (Python `bytes`), not str. Ordinary dicts keep str keys.
 * Python decodes string-keyed array maps as plain dicts, so we neither emit nor accept them.
 *
 * Decoding and all scalar encoding are @msgpack/msgpack's; only container headers, the bin keys of
 * the array maps (that library writes every map key as a str) and array payloads (appended
 * without an extra copy) are written here.
 */
import { decode, encode } from '@msgpack/msgpack';
import { UserError } from '../util/index.ts';

/** numpy dtype strings (`arr.dtype.str`) we read and write: little-endian or single-byte only. */
export const DTYPES = Object.freeze({
  '<f4': { bytes: 4, make: (b: ArrayBuffer) => new Float32Array(b) },
  '<f8': { bytes: 8, make: (b: ArrayBuffer) => new Float64Array(b) },
  '|u1': { bytes: 1, make: (b: ArrayBuffer) => new Uint8Array(b) },
  '|i1': { bytes: 1, make: (b: ArrayBuffer) => new Int8Array(b) },
  '<u2': { bytes: 2, make: (b: ArrayBuffer) => new Uint16Array(b) },
  '<i2': { bytes: 2, make: (b: ArrayBuffer) => new Int16Array(b) },
  '<u4': { bytes: 4, make: (b: ArrayBuffer) => new Uint32Array(b) },
  '<i4': { bytes: 4, make: (b: ArrayBuffer) => new Int32Array(b) },
  '<i8': { bytes: 8, make: (b: ArrayBuffer) => new BigInt64Array(b) },
  '<u8': { bytes: 8, make: (b: ArrayBuffer) => new BigUint64Array(b) },
  '|b1': { bytes: 1, make: (b: ArrayBuffer) => new Uint8Array(b) },
});

/** A numpy dtype string we support. */
export type DType = keyof typeof DTYPES;

/** The typed array behind each dtype (`|b1` is a Uint8Array of 0/1). */
export type NdData = Float32Array | Float64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | BigInt64Array | BigUint64Array;

/** A numpy array on our side: row-major (C-order) data, its shape, its numpy dtype string. */
export type NdArray = { readonly dtype: DType; readonly shape: readonly number[]; readonly data: NdData };

/** Limits applied while decoding untrusted frames. */
export type DecodeLimits = {
  /** Largest array (bytes of data, also the cap on any declared shape's size). */
  maxArrayBytes: number;
  /** Deepest nesting of maps and lists. */
  maxDepth: number;
  /** Most dimensions in one shape. */
  maxRank: number;
};

/** Defaults: 64 MiB per array (a 4K RGB image is 25 MB), 32 levels, rank 32 (numpy allows 64). */
export const DEFAULT_LIMITS: DecodeLimits = Object.freeze({ maxArrayBytes: 64 * 2 ** 20, maxDepth: 32, maxRank: 32 });

// Bin map keys arrive through mapKeyConverter, which must return a string: we prefix them with
// a NUL so that they cannot be confused with the same text sent as a str key.
const BIN = '\u0000bin:';
const K_ND = `${BIN}__ndarray__`;
const K_GEN = `${BIN}__npgeneric__`;
const K_DATA = `${BIN}data`;
const K_DTYPE = `${BIN}dtype`;
const K_SHAPE = `${BIN}shape`;
const ARRAY_KEYS = new Set([K_ND, K_DATA, K_DTYPE, K_SHAPE]);
const SCALAR_KEYS = new Set([K_GEN, K_DATA, K_DTYPE]);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** True for a value that is an NdArray (not a plain object with the same fields by accident). */
export function isNdArray(v: unknown): v is NdArray {
  return typeof v === 'object' && v !== null && ARRAYS.has(v as object);
}
const ARRAYS = new WeakSet<object>();

/** Makes an NdArray after checking that the data length matches the shape and dtype. */
export function ndarray(dtype: DType, shape: readonly number[], data: NdData): NdArray {
  const spec = DTYPES[dtype];
  if (spec === undefined) throw new UserError(`unsupported dtype ${JSON.stringify(dtype)}; use one of ${Object.keys(DTYPES).join(' ')}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.byteLength !== n * spec.bytes || data.BYTES_PER_ELEMENT !== spec.bytes) {
    throw new UserError(`array of dtype ${dtype} and shape [${shape}] needs ${n} elements, got ${data.length} ${data.constructor.name}`);
  }
  const a: NdArray = Object.freeze({ dtype, shape: Object.freeze([...shape]), data });
  ARRAYS.add(a);
  return a;
}

/** Shorthand for a float32 array. */
export const f32 = (shape: readonly number[], data: Float32Array): NdArray => ndarray('<f4', shape, data);

function mapHeader(size: number): Uint8Array {
  if (size < 16) return Uint8Array.of(0x80 + size);
  if (size < 0x10000) return Uint8Array.of(0xde, size >> 8, size & 0xff);
  return Uint8Array.of(0xdf, size >>> 24, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff);
}

/** A short msgpack bin (bin 8: 0xc4, length, bytes). */
function binKey(text: string): Uint8Array {
  const b = utf8Encoder.encode(text);
  return Uint8Array.of(0xc4, b.length, ...b);
}
const BIN_ND = binKey('__ndarray__');
const BIN_DATA = binKey('data');
const BIN_DTYPE = binKey('dtype');
const BIN_SHAPE = binKey('shape');

function pushValue(v: unknown, out: Uint8Array[], depth: number): void {
  if (depth > 64) throw new Error('msgpack-numpy: value nested deeper than 64 levels');
  if (isNdArray(v)) {
    // same key order as numpy's packer: __ndarray__, data, dtype, shape
    const bytes = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
    out.push(mapHeader(4), BIN_ND, encode(true), BIN_DATA, binHeader(bytes.length), bytes, BIN_DTYPE, encode(v.dtype), BIN_SHAPE, encode([...v.shape]));
  } else if (Array.isArray(v)) {
    if (v.some((x) => typeof x === 'object' && x !== null)) {
      out.push(arrayHeader(v.length));
      for (const x of v) pushValue(x, out, depth + 1);
    } else out.push(encode(v));
  } else if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    out.push(mapHeader(entries.length));
    for (const [k, x] of entries) {
      out.push(encode(k));
      pushValue(x, out, depth + 1);
    }
  } else if (v instanceof Uint8Array) out.push(binHeader(v.length), v);
  else out.push(encode(v));
}

/** bin 8/16/32 header; the bytes follow uncopied (the library would copy them into its own buffer). */
function binHeader(size: number): Uint8Array {
  if (size < 0x100) return Uint8Array.of(0xc4, size);
  if (size < 0x10000) return Uint8Array.of(0xc5, size >> 8, size & 0xff);
  return Uint8Array.of(0xc6, size >>> 24, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff);
}

function arrayHeader(size: number): Uint8Array {
  if (size < 16) return Uint8Array.of(0x90 + size);
  if (size < 0x10000) return Uint8Array.of(0xdc, size >> 8, size & 0xff);
  return Uint8Array.of(0xdd, size >>> 24, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff);
}

/**
 * Encodes a value like openpi's `msgpack_numpy.packb`: NdArrays become bin-keyed array maps,
 * objects become str-keyed maps, Uint8Arrays become bin, the rest is plain msgpack.
 */
export function packb(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  pushValue(value, parts, 0);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function keyConverter(key: unknown): string | number {
  if (typeof key === 'string' || typeof key === 'number') return key;
  if (key instanceof Uint8Array) {
    try {
      return BIN + utf8.decode(key);
    } catch {
      throw new UserError('a map key is bytes that are not UTF-8; use str keys (numpy arrays use the bin keys __ndarray__, data, dtype, shape)');
    }
  }
  throw new UserError(`a map key is of type ${typeof key}; use str keys`);
}

const showKey = (k: string) => (k.startsWith(BIN) ? `b"${k.slice(BIN.length)}"` : JSON.stringify(k));

function parseShape(raw: unknown, where: string, lim: DecodeLimits, itemBytes: number): number[] {
  if (!Array.isArray(raw)) throw new UserError(`${where}: b"shape" must be a list of ints, got ${typeof raw}`);
  if (raw.length > lim.maxRank) throw new UserError(`${where}: shape has ${raw.length} dimensions; at most ${lim.maxRank} are accepted`);
  let n = itemBytes;
  for (const d of raw) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw new UserError(`${where}: shape [${raw.join(', ')}] must hold non-negative ints`);
    n *= d;
    if (n > lim.maxArrayBytes) throw new UserError(`${where}: shape [${raw.join(', ')}] declares more than ${lim.maxArrayBytes} bytes, the server's cap per array`);
  }
  return raw as number[];
}

function parseDtype(raw: unknown, where: string): DType {
  if (typeof raw !== 'string') throw new UserError(`${where}: b"dtype" must be a numpy dtype string such as "<f4", got ${typeof raw}`);
  if (Object.hasOwn(DTYPES, raw)) return raw as DType;
  if (raw.startsWith('>')) throw new UserError(`${where}: big-endian dtype "${raw}" is not supported; send little-endian (numpy: arr.astype("<${raw.slice(1)}"))`);
  throw new UserError(`${where}: unsupported dtype "${raw}"; use one of ${Object.keys(DTYPES).join(' ')}`);
}

function expectKeys(o: Record<string, unknown>, keys: Set<string>, where: string): void {
  const got = Object.keys(o);
  const missing = [...keys].filter((k) => !(k in o));
  const extra = got.filter((k) => !keys.has(k));
  if (missing.length || extra.length) {
    const parts = [missing.length ? `missing ${missing.map(showKey).join(', ')}` : '', extra.length ? `unexpected ${extra.map(showKey).join(', ')}` : ''];
    throw new UserError(`${where}: malformed numpy map (${parts.filter(Boolean).join('; ')})`);
  }
}

function toArray(o: Record<string, unknown>, where: string, lim: DecodeLimits): NdArray {
  expectKeys(o, ARRAY_KEYS, where);
  const dtype = parseDtype(o[K_DTYPE], where);
  const spec = DTYPES[dtype];
  const shape = parseShape(o[K_SHAPE], where, lim, spec.bytes);
  const raw = o[K_DATA];
  if (!(raw instanceof Uint8Array)) throw new UserError(`${where}: b"data" must be bytes (C-order array buffer), got ${typeof raw}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (raw.byteLength !== n * spec.bytes) {
    throw new UserError(`${where}: ${raw.byteLength} data bytes do not match shape [${shape.join(', ')}] of ${dtype} (${n * spec.bytes} bytes)`);
  }
  // copy: the frame's bytes are shared and typed arrays need an aligned offset
  return ndarray(dtype, shape, spec.make(raw.slice().buffer));
}

function toScalar(o: Record<string, unknown>, where: string): NdArray {
  expectKeys(o, SCALAR_KEYS, where);
  const dtype = parseDtype(o[K_DTYPE], where);
  const v = o[K_DATA];
  const data = DTYPES[dtype].make(new ArrayBuffer(DTYPES[dtype].bytes));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new UserError(`${where}: numpy scalar of dtype ${dtype} needs an int, got ${typeof v}`);
    data[0] = BigInt(v);
  } else {
    if (typeof v !== 'number' && typeof v !== 'boolean') throw new UserError(`${where}: numpy scalar of dtype ${dtype} needs a number, got ${typeof v}`);
    data[0] = Number(v);
  }
  return ndarray(dtype, [], data);
}

function convert(v: unknown, where: string, depth: number, lim: DecodeLimits): unknown {
  if (depth > lim.maxDepth) throw new UserError(`${where}: nested deeper than ${lim.maxDepth} levels`);
  if (Array.isArray(v)) return v.map((x, i) => convert(x, `${where}[${i}]`, depth + 1, lim));
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
  const o = v as Record<string, unknown>;
  if (K_ND in o) return toArray(o, where, lim);
  if (K_GEN in o) return toScalar(o, where);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (k.startsWith(BIN)) throw new UserError(`${where}: map key ${showKey(k)} is bytes; plain dicts need str keys`);
    if (k === '__ndarray__' || k === '__npgeneric__') {
      throw new UserError(`${where}: "${k}" is a str key; numpy maps need bin (bytes) keys as openpi's msgpack_numpy writes them`);
    }
    out[k] = convert(x, where === '' ? k : `${where}.${k}`, depth + 1, lim);
  }
  return out;
}

/**
 * Decodes a frame like openpi's `msgpack_numpy.unpackb`: bin-keyed array maps become NdArrays
 * (copied, aligned), numpy scalars become 0-d NdArrays. Throws a UserError saying what is wrong
 * for malformed msgpack, wrong keys, unsupported or big-endian dtypes, or data/shape mismatches.
 */
export function unpackb(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): unknown {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  let raw: unknown;
  try {
    // every element takes at least one byte, so no honest list or map is longer than the frame
    const maxLength = bytes.length;
    raw = decode(bytes, { mapKeyConverter: keyConverter, maxBinLength: lim.maxArrayBytes, maxStrLength: lim.maxArrayBytes, maxArrayLength: maxLength, maxMapLength: maxLength });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`not a valid msgpack frame: ${err instanceof Error ? err.message : String(err)}`);
  }
  return convert(raw, '', 0, lim);
}
