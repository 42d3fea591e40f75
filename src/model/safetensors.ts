/**
 * The safetensors format (huggingface/safetensors): 8-byte little-endian header length n, an n-byte
 * JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}` (offsets
 * relative to the end of the header), then the raw little-endian tensor bytes.
 */
import { UserError } from '../util/index.ts';

/** Supported element types. */
export type SafeDType = 'F32' | 'I32';

/** One tensor: dtype, shape and row-major data. */
export type SafeTensor = { dtype: SafeDType; shape: number[]; data: Float32Array | Int32Array };

const BYTES: Record<SafeDType, number> = { F32: 4, I32: 4 };

/** Serializes named tensors (in the given order) and string metadata into safetensors bytes. */
export function encodeSafetensors(tensors: [string, SafeTensor][], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = n * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data to 8 bytes
  const head = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const [, t] of tensors) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength); // platform is little-endian (checked below)
    out.set(src, at);
    at += src.length;
  }
  return out;
}

/** Parses safetensors bytes; `file` names the source in error messages. */
export function decodeSafetensors(bytes: Uint8Array, file = 'safetensors'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  const bad = (m: string) => new UserError(`${file}: ${m}; the file is not a valid safetensors checkpoint (re-save it)`);
  if (bytes.length < 8) throw bad('shorter than the 8-byte header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) throw bad(`header length ${n} exceeds the file size ${bytes.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch {
    throw bad('header is not JSON');
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = e as unknown as Record<string, string>;
      continue;
    }
    if (e.dtype !== 'F32' && e.dtype !== 'I32') throw bad(`tensor ${name} has dtype ${e.dtype}; only F32 and I32 are supported`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= dataLen && end - begin === count * 4)) throw bad(`tensor ${name} has bad data_offsets [${begin}, ${end}]`);
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)); // an aligned copy (Buffer#slice would not copy)
    const data = e.dtype === 'F32' ? new Float32Array(copy.buffer, 0, count) : new Int32Array(copy.buffer, 0, count);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('safetensors: a big-endian platform is not supported');
