/**
 * Instruction tokenizers. The byte-level one: UTF-8 bytes shifted past four specials, with BOS/EOS,
 * truncated and padded to a fixed length. Deterministic, with a fixed 260-id vocabulary that
 * checkpoints store beside the weights (tokenizer.json).
 *
 *   ids: 0 PAD, 1 BOS, 2 EOS, 3 UNK, 4 + b for byte b
 *
 * and a word-level one (wordTokenizer) whose fixed word list, built from a training corpus, follows
 * those ids and is stored with the checkpoint; unknown words fall back to bytes.
 */
import { UserError } from '../util/index.ts';

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
 * EOS, padded with PAD. Bytes unless another `tokenizer` is given.
 */
export function tokenizePadded(text: string, length: number, tokenizer?: Tokenizer): { ids: Int32Array; mask: Float32Array } {
  return padTokens((tokenizer?.encode ?? tokenize)(text), length);
}

/** Text back from ids (specials dropped); for logs and tests. */
export function detokenize(ids: ArrayLike<number>): string {
  const bytes: number[] = [];
  for (let i = 0; i < ids.length; i++) if (ids[i] >= TOKENS.byteOffset) bytes.push(ids[i] - TOKENS.byteOffset);
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/**
 * An instruction tokenizer with a fixed vocabulary that a checkpoint stores (`json`) and restores
 * (tokenizerFromJson). Ids 0-259 are always the byte tokenizer's; a word tokenizer adds whole
 * words after them.
 */
export type Tokenizer = {
  readonly vocabSize: number;
  /** ids of `text` (BOS, tokens, EOS), unpadded */
  encode(text: string): Int32Array;
  /** text back (specials dropped; words separated by single spaces) */
  decode(ids: ArrayLike<number>): string;
  /** what tokenizer.json / policy.json store */
  readonly json: { type: string; version: number } & Record<string, unknown>;
};

/** The byte-level tokenizer. */
export const BYTE_TOKENIZER: Tokenizer = Object.freeze({ vocabSize: TOKENS.vocabSize, encode: tokenize, decode: detokenize, json: TOKENIZER_JSON });

const words = (text: string) => text.trim().toLowerCase().split(/\s+/).filter(Boolean);

/**
 * A word-level tokenizer over a fixed word list (ids 260 + k, in the list's order): a known word is
 * one token, any other word falls back to its bytes and a space. Short sequences make a small
 * model's language grounding far easier than bytes (11 tokens instead of 50 for an instruction).
 */
export function wordTokenizer(vocabulary: readonly string[]): Tokenizer {
  const ids = new Map(vocabulary.map((w, k) => [w, TOKENS.vocabSize + k]));
  if (ids.size !== vocabulary.length) throw new Error('tokenizer: the word list repeats a word');
  const space = TOKENS.byteOffset + 32;
  return Object.freeze({
    vocabSize: TOKENS.vocabSize + vocabulary.length,
    encode(text: string) {
      const out: number[] = [TOKENS.bos];
      for (const w of words(text)) {
        const id = ids.get(w);
        if (id !== undefined) out.push(id);
        else out.push(...Array.from(new TextEncoder().encode(w), (b) => TOKENS.byteOffset + b), space);
      }
      out.push(TOKENS.eos);
      return Int32Array.from(out);
    },
    decode(seq: ArrayLike<number>) {
      const bytes: number[] = [];
      for (let i = 0; i < seq.length; i++) {
        const id = seq[i];
        if (id >= TOKENS.vocabSize) bytes.push(...new TextEncoder().encode(`${vocabulary[id - TOKENS.vocabSize]} `));
        else if (id >= TOKENS.byteOffset) bytes.push(id - TOKENS.byteOffset);
      }
      return new TextDecoder().decode(Uint8Array.from(bytes)).replace(/\s+/g, ' ').trim();
    },
    json: Object.freeze({ type: 'vlalab-words', version: 1, ...TOKENS, vocabSize: TOKENS.vocabSize + vocabulary.length, words: [...vocabulary] }),
  });
}

/** The word tokenizer of a corpus: every word of `texts`, sorted (so the same texts give the same ids). */
export function buildWordTokenizer(texts: Iterable<string>): Tokenizer {
  const all = new Set<string>();
  for (const t of texts) for (const w of words(t)) all.add(w);
  return wordTokenizer([...all].sort());
}

/** The tokenizer a checkpoint stored. */
export function tokenizerFromJson(json: { type: string; version: number } & Record<string, unknown>, source = 'tokenizer'): Tokenizer {
  if (json.type === TOKENIZER_JSON.type) return BYTE_TOKENIZER;
  if (json.type === 'vlalab-words' && Array.isArray(json.words) && json.words.every((w) => typeof w === 'string')) return wordTokenizer(json.words as string[]);
  throw new UserError(`${source}: unknown tokenizer "${json.type}" (this vlalab reads vlalab-bytes and vlalab-words)`);
}

/** `ids` padded or truncated to `length` (truncation keeps BOS and ends in EOS), with a mask (1 = real token). */
export function padTokens(raw: Int32Array, length: number): { ids: Int32Array; mask: Float32Array } {
  const ids = new Int32Array(length);
  const mask = new Float32Array(length);
  const n = Math.min(raw.length, length);
  ids.set(raw.subarray(0, n));
  if (raw.length > length && length > 0) ids[length - 1] = TOKENS.eos;
  mask.fill(1, 0, n);
  return { ids, mask };
}

/**
 * What fixed-length tokens lose of `texts` (each distinct one once): the ones longer than `length`
 * (cut, with their token counts, longest first) and the groups of distinct texts whose cut tokens
 * are the same, which a policy cannot tell apart.
 */
export function truncationReport(texts: Iterable<string>, length: number, tokenizer: Tokenizer = BYTE_TOKENIZER): { cut: { text: string; tokens: number }[]; same: string[][] } {
  const encoded = [...new Set(texts)].map((text) => ({ text, ids: tokenizer.encode(text) }));
  const cut = encoded.filter((e) => e.ids.length > length).map((e) => ({ text: e.text, tokens: e.ids.length })).sort((a, b) => b.tokens - a.tokens);
  const byIds = new Map<string, string[]>();
  for (const { text, ids } of encoded) {
    const key = padTokens(ids, length).ids.join(',');
    byIds.set(key, [...(byIds.get(key) ?? []), text]);
  }
  return { cut, same: [...byIds.values()].filter((g) => g.length > 1) };
}

/**
 * A warning for training `model` (its `maxTokens`) on these instructions; undefined when none is cut,
 * or when there is only one (a single task's instruction has nothing to be told apart from).
 */
export function truncationWarning(texts: Iterable<string>, model: { name: string; maxTokens: number }, tokenizer: Tokenizer = BYTE_TOKENIZER): string | undefined {
  const distinct = new Set(texts);
  const { cut, same } = truncationReport(distinct, model.maxTokens, tokenizer);
  if (!cut.length || distinct.size < 2) return undefined;
  const quote = (t: string) => JSON.stringify(t);
  const lines = [`warning: ${cut.length} instruction${cut.length > 1 ? 's are' : ' is'} longer than model ${model.name}'s ${model.maxTokens} tokens and cut short (the longest: ${cut[0].tokens} tokens, ${quote(cut[0].text)})`];
  for (const g of same) lines.push(`warning: these instructions become the same tokens and the policy cannot tell them apart: ${g.map(quote).join(', ')}`);
  const fixes = ['shorter instructions', ...(tokenizer === BYTE_TOKENIZER ? ['the word tokenizer (config "tokenizer": "words")'] : []), 'a model config with more tokens (`vlalab model info --config mini`: 64)'];
  lines.push(`  ${fixes.slice(0, -1).join(', ')} or ${fixes.at(-1)} keep them whole`);
  return lines.join('\n');
}

