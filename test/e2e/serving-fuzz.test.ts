/**
 * Robustness of the policy server on loopback: 1,200 malformed frames (random bytes, truncated
 * frames, text frames, wrong dtypes, wrong shapes, NaN/Inf, huge declared shapes, wrong types)
 * each answered with a text frame and close 1011 while a well-behaved client keeps getting its
 * own correct answers; then 8 concurrent clients each get only their own answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import WebSocket from 'ws';
import { assertClose } from '../helpers/close.ts';
import {
  CLOSE_INTERNAL_ERROR,
  DTYPES,
  type DType,
  echoChunk,
  makeTestPolicy,
  ndarray,
  observationParser,
  packb,
  PolicyClient,
  type RunningServer,
  startServer,
  testObservation,
  testObservationSpec,
} from '../../src/serving/index.ts';
import { Rng } from '../../src/util/index.ts';

const FRAMES = 1200;
const parse = observationParser(testObservationSpec(8));
const expected = (obs: Record<string, unknown>) => echoChunk(parse(obs), 10, 8);
const base = () => testObservation([1, 2, 3, 4, 5, 6, 7, 8], { side: 8 });

const bin = (s: string) => Uint8Array.of(0xc4, s.length, ...[...s].map((c) => c.charCodeAt(0)));
/** An array map with bin keys and arbitrary (possibly lying) dtype/shape/data. */
function rawArray(dtype: unknown, shape: unknown, data: Uint8Array): Uint8Array {
  const parts = [Uint8Array.of(0x84), bin('__ndarray__'), encode(true), bin('data'), encode(data), bin('dtype'), encode(dtype), bin('shape'), encode(shape)];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
/** A full observation frame whose "observation/state" value is replaced by raw msgpack bytes. */
function withRawState(state: Uint8Array): Uint8Array {
  const { 'observation/state': _, ...rest } = base();
  const head = packb({ ...rest, 'observation/state': 0 }); // the trailing 0x00 is the state value
  assert.equal(head.at(-1), 0);
  return Uint8Array.from([...head.subarray(0, -1), ...state]);
}

function malformed(rng: Rng, i: number): Uint8Array | string {
  const dtypes = Object.keys(DTYPES) as DType[];
  switch (i % 10) {
    case 0: return Uint8Array.from({ length: rng.int(200) }, () => rng.int(256));
    case 1: { const f = packb(base()); return f.subarray(0, rng.int(f.length)); }
    case 2: return `{"observation/state": [${i}]}`;
    case 3: { // wrong dtype for the state (not a float) or the image (not uint8)
      const key = rng.int(2) ? 'observation/state' : 'observation/image';
      const allowed = key === 'observation/state' ? ['<f4', '<f8'] : ['|u1'];
      const wrong = dtypes.filter((d) => !allowed.includes(d));
      const dt = wrong[rng.int(wrong.length)];
      const shape = key === 'observation/state' ? [8] : [8, 8, 3];
      const n = shape.reduce((x, y) => x * y, 1);
      return packb({ ...base(), [key]: ndarray(dt, shape, DTYPES[dt].make(new ArrayBuffer(n * DTYPES[dt].bytes))) });
    }
    case 4: return withRawState(rawArray(['>f4', '<c8', '|O', '<f2', 'float32', '', 7][rng.int(7)], [8], new Uint8Array(32)));
    case 5: { // wrong shapes: state length, image rank/channels, data length that lies
      const k = rng.int(3);
      if (k === 0) {
        const len = [0, 1, 7, 9, 60][rng.int(5)];
        return packb({ ...base(), 'observation/state': ndarray('<f4', [len], new Float32Array(len)) });
      }
      if (k === 1) return packb({ ...base(), 'observation/image': ndarray('|u1', [8, 8, 4], new Uint8Array(256)) });
      return withRawState(rawArray('<f4', [8], new Uint8Array(4 * rng.int(8))));
    }
    case 6: { // NaN or infinity in the state
      const s = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
      s[rng.int(8)] = [NaN, Infinity, -Infinity][rng.int(3)];
      return packb({ ...base(), 'observation/state': ndarray('<f4', [8], s) });
    }
    case 7: { // huge declared shapes with little data
      const shapes = [[2 ** 31], [1e9, 1e9, 3], [65536, 65536, 3], [2 ** 53], new Array(64).fill(2)];
      return withRawState(rawArray('<f4', shapes[rng.int(shapes.length)], new Uint8Array(32)));
    }
    case 8: { // wrong types for whole fields
      const bad = [{ ...base(), prompt: 42 }, { ...base(), 'observation/image': 'pixels' }, [base()], 'obs', null, { ...base(), 'observation/state': [1, 2, 3, 4, 5, 6, 7, 8] }];
      return packb(bad[rng.int(bad.length)]);
    }
    default: { // a missing required key
      const o = base();
      delete o[rng.int(2) ? 'observation/image' : 'observation/state'];
      return packb(o);
    }
  }
}

/** Opens a socket, sends one frame, returns [first reply is text, its text, close code]. */
function sendOne(url: string, frame: Uint8Array | string): Promise<{ text: string | undefined; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let text: string | undefined;
    let n = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (n++ === 0) ws.send(frame); // after the metadata frame
      else if (!isBinary) text = data.toString();
    });
    ws.on('close', (code) => resolve({ text, code }));
    ws.on('error', reject);
  });
}

async function checkAnswers(client: PolicyClient, tag: number, rounds: number): Promise<void> {
  for (let k = 0; k < rounds; k++) {
    const obs = testObservation([tag, k, tag * k, 0, 0, 0, 0, -tag], { side: 8, pixel: (tag * 37 + k) % 256, prompt: 'p'.repeat(tag) });
    const r = await client.infer(obs);
    assertClose(r.actions.data as Float32Array, expected(obs), 1e-6, `client ${tag} request ${k}`);
  }
}

test(`server answers ${FRAMES} malformed frames with an error and 1011, and stays up`, async () => {
  const server: RunningServer = await startServer(makeTestPolicy('echo'), { port: 0 });
  try {
    const rng = new Rng(7);
    const frames = Array.from({ length: FRAMES }, (_, i) => malformed(rng, i));
    const good = await PolicyClient.connect(server.url);
    const goodRun = checkAnswers(good, 3, 100);
    let next = 0;
    const worker = async () => {
      while (next < frames.length) {
        const i = next++;
        const { text, code } = await sendOne(server.url, frames[i]);
        assert.equal(code, CLOSE_INTERNAL_ERROR, `frame ${i} (kind ${i % 10}) closed with ${code}, text ${text}`);
        assert.match(text ?? '', /^bad request: /, `frame ${i} (kind ${i % 10})`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await goodRun;
    const health = await fetch(`${server.url.replace('ws://', 'http://')}/healthz`);
    assert.equal(health.status, 200);
    await checkAnswers(good, 5, 3);
    await good.close();
  } finally {
    await server.close();
  }
});

test('8 concurrent clients each get only their own correct answers', async () => {
  const server = await startServer(makeTestPolicy('echo', { delayMs: 1 }), { port: 0 });
  try {
    const clients = await Promise.all(Array.from({ length: 8 }, () => PolicyClient.connect(server.url)));
    await Promise.all(clients.map((c, i) => checkAnswers(c, i + 1, 25)));
    assert.equal(server.served(), 200);
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    await server.close();
  }
});
