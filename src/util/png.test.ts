import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { decodePng, encodePng } from './png.ts';
import { Rng } from './rng.ts';

/** A PNG whose row y uses filter y % 5 (forward filters written here independently of the decoder). */
function filteredPng(px: Uint8Array, w: number, h: number, ch: number, type: number): Uint8Array {
  const stride = w * ch;
  const raw = new Uint8Array((stride + 1) * h);
  for (let y = 0; y < h; y++) {
    const f = y % 5;
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = px[y * stride + i];
      const a = i >= ch ? px[y * stride + i - ch] : 0;
      const b = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = i >= ch && y > 0 ? px[(y - 1) * stride + i - ch] : 0;
      const p = a + b - c;
      const pae = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, pae][f];
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 255;
    }
  }
  const png = Buffer.from(encodePng(new Uint8Array(w * h * 3), w, h)); // borrow the chunk layout
  const head = png.subarray(0, 33);
  head[25] = type;
  // recompute the IHDR CRC via a fresh encode is overkill: decodePng does not check CRCs
  const idat = deflateSync(raw);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(idat.length);
  return Buffer.concat([head, len, Buffer.from('IDAT'), idat, Buffer.alloc(4), Buffer.from([0, 0, 0, 0]), Buffer.from('IEND'), Buffer.alloc(4)]);
}

describe('png', () => {
  it('round-trips RGB exactly', () => {
    const rng = new Rng(1);
    const rgb = Uint8Array.from({ length: 37 * 23 * 3 }, () => rng.int(256));
    const back = decodePng(encodePng(rgb, 37, 23));
    assert.equal(back.width, 37);
    assert.equal(back.height, 23);
    assert.deepEqual(back.rgb, rgb);
  });

  it('decodes all five row filters and RGBA / gray inputs', () => {
    const rng = new Rng(2);
    const w = 9, h = 10;
    const rgba = Uint8Array.from({ length: w * h * 4 }, () => rng.int(256));
    const a = decodePng(filteredPng(rgba, w, h, 4, 6));
    for (let i = 0; i < w * h; i++) assert.deepEqual([...a.rgb.subarray(3 * i, 3 * i + 3)], [...rgba.subarray(4 * i, 4 * i + 3)]);
    const gray = Uint8Array.from({ length: w * h }, () => rng.int(256));
    const g = decodePng(filteredPng(gray, w, h, 1, 0));
    for (let i = 0; i < w * h; i++) assert.deepEqual([...g.rgb.subarray(3 * i, 3 * i + 3)], [gray[i], gray[i], gray[i]]);
  });

  it('names the problem in a corrupt file', () => {
    assert.throws(() => decodePng(new Uint8Array([1, 2, 3]), 'x.png'), /x.png: not a PNG/);
    const png = encodePng(new Uint8Array(12), 2, 2);
    assert.throws(() => decodePng(png.subarray(0, 50), 'y.png'), /y.png: truncated IDAT/);
  });
});
