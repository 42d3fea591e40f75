/**
 * PNG encode/decode with node:zlib: 8-bit RGB out (filter 0 on every row), and 8-bit gray, gray +
 * alpha, RGB and RGBA in (all five row filters, non-interlaced), decoded to RGB.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { UserError } from './errors.ts';

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes RGB u8 pixels [height, width, 3] as a PNG file. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: ${rgb.length} bytes for ${width}x${height} RGB (expected ${width * height * 3})`);
  const stride = 3 * width;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const parts = [SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit, non-interlaced PNG to RGB u8 [height, width, 3]; `source` names it in errors. */
export function decodePng(bytes: Uint8Array, source = 'PNG'): { width: number; height: number; rgb: Uint8Array } {
  const bad = (m: string) => new UserError(`${source}: ${m}`);
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw bad('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, type = -1;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const len = view.getUint32(at);
    const t = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + len > bytes.length) throw bad(`truncated ${t} chunk`);
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (t === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      if (data[8] !== 8) throw bad(`bit depth ${data[8]} is not supported (8-bit only)`);
      type = data[9];
      if (!(type in CHANNELS)) throw bad(`colour type ${type} is not supported (gray, RGB, gray+alpha, RGBA)`);
      if (data[12] !== 0) throw bad('interlaced PNGs are not supported');
    } else if (t === 'IDAT') {
      idat.push(data);
    } else if (t === 'IEND') {
      break;
    }
    at += 12 + len;
  }
  if (type < 0) throw bad('missing IHDR chunk');
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch {
    throw bad('corrupt image data (IDAT does not inflate)');
  }
  const ch = CHANNELS[type];
  const stride = width * ch;
  if (raw.length < (stride + 1) * height) throw bad('image data is shorter than its size');
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = px.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? px.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= ch ? row[i - ch] : 0;
      const b = prev[i];
      const c = i >= ch ? prev[i - ch] : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? paeth(a, b, c) : -1;
      if (pred < 0) throw bad(`unknown row filter ${f}`);
      row[i] = (src[i] + pred) & 255;
    }
  }
  if (ch === 3) return { width, height, rgb: px };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (ch <= 2) {
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = px[i * ch];
    } else {
      rgb[3 * i] = px[4 * i];
      rgb[3 * i + 1] = px[4 * i + 1];
      rgb[3 * i + 2] = px[4 * i + 2];
    }
  }
  return { width, height, rgb };
}
