import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { UserError } from '../util/index.ts';
import { DTYPES, type DType, f32, isNdArray, type NdArray, ndarray, packb, unpackb } from './msgpack-numpy.ts';

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const bin = (s: string) => [0xc4, s.length, ...ascii(s)];
const str = (s: string) => [0xa0 + s.length, ...ascii(s)];

// What openpi's msgpack_numpy.packb({"a": np.array([1, 2], np.float32)}) writes, byte by byte.
const GOLDEN = [
  0x81, ...str('a'),
  0x84, ...bin('__ndarray__'), 0xc3,
  ...bin('data'), 0xc4, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40,
  ...bin('dtype'), ...str('<f4'),
  ...bin('shape'), 0x91, 2,
];

test('packb writes the exact bytes of openpi msgpack_numpy (bin keys, key order)', () => {
  assert.deepEqual([...packb({ a: f32([2], Float32Array.of(1, 2)) })], GOLDEN);
});

test('unpackb reads openpi bytes into an NdArray', () => {
  const v = unpackb(Uint8Array.from(GOLDEN)) as { a: NdArray };
  assert.ok(isNdArray(v.a));
  assert.equal(v.a.dtype, '<f4');
  assert.deepEqual(v.a.shape, [2]);
  assert.deepEqual([...(v.a.data as Float32Array)], [1, 2]);
});

test('every dtype round-trips, including 0-d and empty arrays, inside nested lists and dicts', () => {
  for (const dtype of Object.keys(DTYPES) as DType[]) {
    const spec = DTYPES[dtype];
    const data = spec.make(new ArrayBuffer(6 * spec.bytes));
    for (let i = 0; i < 6; i++) (data as unknown as (number | bigint)[])[i] = data instanceof BigInt64Array || data instanceof BigUint64Array ? BigInt(i) : i % 2;
    const a = ndarray(dtype, [2, 3], data);
    const back = unpackb(packb({ x: [a, { y: a }], n: 3, s: 'hi', b: Uint8Array.of(1, 2), z: null })) as { x: [NdArray, { y: NdArray }]; n: number; s: string; b: Uint8Array; z: null };
    for (const got of [back.x[0], back.x[1].y]) {
      assert.equal(got.dtype, dtype);
      assert.deepEqual(got.shape, [2, 3]);
      assert.deepEqual([...got.data], [...data], dtype);
    }
    assert.equal(back.n, 3);
    assert.equal(back.s, 'hi');
    assert.deepEqual([...back.b], [1, 2]);
    assert.equal(back.z, null);
  }
  const scalar = unpackb(packb(ndarray('<f8', [], Float64Array.of(2.5)))) as NdArray;
  assert.deepEqual(scalar.shape, []);
  assert.equal(scalar.data[0], 2.5);
  const empty = unpackb(packb(ndarray('|u1', [0, 3], new Uint8Array(0)))) as NdArray;
  assert.deepEqual(empty.shape, [0, 3]);
});

test('numpy scalars ({b"__npgeneric__": True, ...}) decode to 0-d arrays', () => {
  // msgpack_numpy.packb(np.float32(0.5)) with the key bytes written out
  const frame = Uint8Array.from([0x83, ...bin('__npgeneric__'), 0xc3, ...bin('data'), 0xcb, ...new Uint8Array(Float64Array.of(0.5).buffer).reverse(), ...bin('dtype'), ...str('<f4')]);
  const v = unpackb(frame) as NdArray;
  assert.equal(v.dtype, '<f4');
  assert.deepEqual(v.shape, []);
  assert.equal(v.data[0], 0.5);
  const big = Uint8Array.from([0x83, ...bin('__npgeneric__'), 0xc3, ...bin('data'), 0x07, ...bin('dtype'), ...str('<i8')]);
  assert.equal((unpackb(big) as NdArray).data[0], 7n);
});

const rejects = (frame: Uint8Array<ArrayBufferLike> | number[], pattern: RegExp) =>
  assert.throws(() => unpackb(frame instanceof Uint8Array ? frame : Uint8Array.from(frame)), (e: unknown) => e instanceof UserError && pattern.test(e.message));

/** An array map with the given fields (bin keys), each value already msgpack-encoded. */
function arrayMap(fields: Record<string, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x80 + Object.keys(fields).length)];
  for (const [k, v] of Object.entries(fields)) parts.push(Uint8Array.from(bin(k)), v);
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
const okFields = () => ({ __ndarray__: encode(true), data: encode(new Uint8Array(8)), dtype: encode('<f4'), shape: encode([2]) });

test('malformed arrays are rejected with a message that says what is wrong', () => {
  rejects(arrayMap({ ...okFields(), dtype: encode('>f4') }), /big-endian dtype ">f4".*astype\("<f4"\)/);
  rejects(arrayMap({ ...okFields(), dtype: encode('<c8') }), /unsupported dtype "<c8"/);
  rejects(arrayMap({ ...okFields(), dtype: encode('|O') }), /unsupported dtype/);
  rejects(arrayMap({ ...okFields(), shape: encode([3]) }), /8 data bytes do not match shape \[3\] of <f4 \(12 bytes\)/);
  rejects(arrayMap({ ...okFields(), shape: encode([-1]) }), /non-negative ints/);
  rejects(arrayMap({ ...okFields(), shape: encode([1.5]) }), /non-negative ints/);
  rejects(arrayMap({ ...okFields(), shape: encode([1e6, 1e6, 1e6]) }), /declares more than \d+ bytes/);
  rejects(arrayMap({ ...okFields(), shape: encode(new Array(40).fill(1)) }), /40 dimensions/);
  rejects(arrayMap({ ...okFields(), data: encode('abcdefgh') }), /b"data" must be bytes/);
  const { shape: _, ...noShape } = okFields();
  rejects(arrayMap(noShape), /missing b"shape"/);
  rejects(arrayMap({ ...okFields(), extra: encode(1) }), /unexpected b"extra"/);
  rejects(encode({ __ndarray__: true, data: new Uint8Array(8), dtype: '<f4', shape: [2] }), /"__ndarray__" is a str key; numpy maps need bin/);
  rejects(Uint8Array.from([0x81, ...bin('k'), 0x01]), /map key b"k" is bytes/);
  rejects([0xc1], /not a valid msgpack frame/);
  rejects([0xdd, 0xff, 0xff, 0xff, 0xff], /not a valid msgpack frame/);
  rejects([0xc6, 0x7f, 0xff, 0xff, 0xff], /not a valid msgpack frame/);
  rejects(new Array(100).fill(0x91).concat([1]), /nested deeper than 32/);
});

test('payloads at the bin 8/16/32 size boundaries round-trip (bytes and arrays)', () => {
  for (const n of [255, 256, 65535, 65536, 70000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
    const back = unpackb(packb({ b: bytes, a: ndarray('|u1', [n], bytes) })) as { b: Uint8Array; a: NdArray };
    assert.deepEqual(back.b, bytes, `bytes of length ${n}`);
    assert.deepEqual(back.a.data, bytes, `array of length ${n}`);
    // the same bytes as the library's own bin encoding
    assert.deepEqual(packb(bytes), encode(bytes));
  }
});
