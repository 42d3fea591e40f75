/**
 * The byte-level instruction tokenizer: UTF-8 bytes shifted past four specials, with BOS/EOS,
 * truncated and padded to a fixed length. Deterministic, with a fixed 260-id vocabulary that
 * checkpoints store beside the weights (tokenizer.json).
 *
 *   ids: 0 PAD, 1 BOS, 2 EOS, 3 UNK, 4 + b for byte b
 */

/** Special ids and the vocabulary size. */
export const TOKENS = Object.freeze({ pad: 0, bos: 1, eos: 2, unk: 3, byteOffset: 4, vocabSize: 260 });

/** What a checkpoint stores to reproduce the tokenizer. */
export const TOKENIZER_JSON = Object.freeze({ type: 'vlalab-bytes', version: 1, ...TOKENS });

/** Token ids of `text` (BOS, bytes, EOS), unpadded. */
export function tokenize(text: string): Int32Array {
  const bytes = new TextEncoder().encode(text.trim().toLowerCase());
  const ids = new Int32Array(bytes.length + 2);
  ids[0] = TOKENS.bos;
  for (let i = 0; i < bytes.length; i++) ids[i + 1] = TOKENS.byteOffset + bytes[i];
  ids[bytes.length + 1] = TOKENS.eos;
  return ids;
}

/**
 * `text` as exactly `length` ids and a mask (1 = real token): truncated keeping BOS and ending in
 * EOS, padded with PAD.
 */
export function tokenizePadded(text: string, length: number): { ids: Int32Array; mask: Float32Array } {
  const raw = tokenize(text);
  const ids = new Int32Array(length);
  const mask = new Float32Array(length);
  const n = Math.min(raw.length, length);
  ids.set(raw.subarray(0, n));
  if (raw.length > length && length > 0) ids[length - 1] = TOKENS.eos;
  mask.fill(1, 0, n);
  return { ids, mask };
}

/** Text back from ids (specials dropped); for logs and tests. */
export function detokenize(ids: ArrayLike<number>): string {
  const bytes: number[] = [];
  for (let i = 0; i < ids.length; i++) if (ids[i] >= TOKENS.byteOffset) bytes.push(ids[i] - TOKENS.byteOffset);
  return new TextDecoder().decode(Uint8Array.from(bytes));
}
