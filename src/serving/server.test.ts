import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { assertClose } from '../../test/helpers/close.ts';
import { ActionChunkBroker } from './chunk-broker.ts';
import { PolicyClient, remotePolicy, ServerError } from './client.ts';
import { f32, ndarray, type NdArray, packb, unpackb } from './msgpack-numpy.ts';
import { echoChunk, makeTestPolicy, testObservation, testObservationSpec } from './policy.ts';
import { makeObservation, observationParser } from './observation.ts';
import { CLOSE_INTERNAL_ERROR, MAX_IN_FLIGHT, type RunningServer, startServer } from './server.ts';

let server: RunningServer;
const policy = makeTestPolicy('echo', { stateDim: 8, actionHorizon: 10, actionDim: 8 });
const expected = (obs: Record<string, unknown>) => echoChunk(observationParser(testObservationSpec(8))(obs), 10, 8);

before(async () => {
  server = await startServer(policy, { port: 0 });
});
after(() => server.close());

/** Raw socket: resolves with the frames received and the close code, after sending `frames`. */
function rawExchange(frames: (Uint8Array | string)[]): Promise<{ messages: { binary: boolean; data: Buffer }[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url);
    const messages: { binary: boolean; data: Buffer }[] = [];
    ws.on('open', () => frames.forEach((f) => ws.send(f)));
    ws.on('message', (data: Buffer, binary: boolean) => {
      messages.push({ binary, data });
      if (messages.length === 1 + frames.length) ws.close();
    });
    ws.on('close', (code) => resolve({ messages, code }));
    ws.on('error', reject);
  });
}

test('GET /healthz answers 200 "OK\\n"; other plain HTTP gets 426', async () => {
  const http = server.url.replace('ws://', 'http://');
  const ok = await fetch(`${http}/healthz`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'OK\n');
  assert.equal((await fetch(`${http}/`)).status, 426);
});

test('metadata on connect, then each request answered with its own echo chunk and timings', async () => {
  const client = await PolicyClient.connect(`${server.url}/any/path`);
  assert.equal(client.metadata.action_horizon, 10);
  assert.equal(client.metadata.action_dim, 8);
  assert.deepEqual(client.metadata.observation_keys, ['observation/image', 'observation/wrist_image', 'observation/state', 'prompt']);
  for (let i = 0; i < 3; i++) {
    const obs = testObservation([i, 1, 2, 3, 4, 5, 6, 7], { pixel: 51 * i, side: 8 });
    const r = await client.infer(obs);
    assert.equal(r.actions.dtype, '<f4');
    assert.deepEqual(r.actions.shape, [10, 8]);
    assertClose(r.actions.data as Float32Array, expected(obs), 1e-6);
    assert.ok(r.serverTiming.infer_ms >= 0);
    // like openpi, prev_total_ms appears from the second request on
    assert.equal('prev_total_ms' in r.serverTiming, i > 0);
  }
  await client.close();
});

test('a bad request gets a text frame saying why and close 1011; other clients keep being served', async () => {
  const good = await PolicyClient.connect(server.url);
  const cases: [Uint8Array | string, RegExp][] = [
    ['{"not": "msgpack"}', /binary frames/],
    [Uint8Array.of(0xc1), /not a valid msgpack frame/],
    [packb([1, 2]), /must be a dict/],
    [packb({ ...testObservation([0, 0, 0, 0, 0, 0, 0, 0], { side: 4 }), 'observation/state': f32([3], new Float32Array(3)) }), /"observation\/state" must have shape \[8\], got \[3\]/],
    [packb({ ...testObservation([0, 0, 0, 0, 0, 0, 0, NaN], { side: 4 }) }), /non-finite value \(NaN\) at index 7/],
    [packb({ ...testObservation(new Array(8).fill(0), { side: 4 }), 'observation/image': ndarray('<f4', [4, 4, 3], new Float32Array(48)) }), /"observation\/image" must be uint8/],
    [packb({ 'observation/state': f32([8], new Float32Array(8)) }), /"observation\/image" is missing/],
  ];
  for (const [frame, pattern] of cases) {
    const { messages, code } = await rawExchange([frame]);
    assert.equal(messages[0].binary, true, 'metadata first');
    assert.equal(messages[1].binary, false);
    assert.match(messages[1].data.toString(), pattern);
    assert.equal(code, CLOSE_INTERNAL_ERROR);
    const obs = testObservation([7, 6, 5, 4, 3, 2, 1, 0], { side: 4 });
    assertClose((await good.infer(obs)).actions.data as Float32Array, expected(obs), 1e-6);
  }
  await good.close();
});

test('the client surfaces the server error text as a ServerError', async () => {
  const client = await PolicyClient.connect(server.url);
  await assert.rejects(client.infer({ prompt: 'no images' }), (e: unknown) => e instanceof ServerError && /observation\/image" is missing/.test(e.message));
  await assert.rejects(client.infer(testObservation(new Array(8).fill(0))), /connection closed by the server \(code 1011\)/);
  await client.close();
});

test('replies stay in order and on their own connection when requests overlap', async () => {
  const slow = await startServer(makeTestPolicy('echo', { delayMs: 3 }), { port: 0 });
  const clients = await Promise.all([0, 1, 2].map(() => PolicyClient.connect(slow.url)));
  const jobs = clients.flatMap((c, ci) =>
    [0, 1, 2, 3].map(async (k) => {
      const obs = testObservation([ci, k, 0, 0, 0, 0, 0, 0], { side: 4, prompt: 'x'.repeat(ci + k) });
      const r = await c.infer(obs);
      assertClose(r.actions.data as Float32Array, expected(obs), 1e-6);
    }),
  );
  await Promise.all(jobs);
  assert.equal(slow.served(), 12);
  await Promise.all(clients.map((c) => c.close()));
  await slow.close();
});

test('connect reports a refused port in one clear line', async () => {
  const gone = await startServer(policy, { port: 0 });
  await gone.close();
  await assert.rejects(PolicyClient.connect(gone.url), /connection refused; is the server running/);
});

test('the chunk broker executes k of H actions per query, then re-plans', async () => {
  const client = await PolicyClient.connect(server.url);
  const seen: number[] = [];
  const broker = new ActionChunkBroker(async (t: number) => {
    seen.push(t);
    const r = await client.infer(testObservation([t, 0, 0, 0, 0, 0, 0, 0], { side: 4, prompt: '' }));
    return { actions: r.actions.data as Float32Array, shape: r.actions.shape };
  }, 4);
  const firsts: number[] = [];
  for (let t = 0; t < 10; t++) firsts.push((await broker.step(t))[0]);
  assert.deepEqual(seen, [0, 4, 8]);
  assert.equal(broker.queries, 3);
  // action[h, 0] = state[0] + 0.01 h: step t executes row t - (query start)
  assertClose(Float32Array.from(firsts), Float32Array.from([0, 0.01, 0.02, 0.03, 4, 4.01, 4.02, 4.03, 8, 8.01]), 1e-5);
  broker.reset();
  await broker.step(42);
  assert.deepEqual(seen, [0, 4, 8, 42]);
  await client.close();
});

test('decoded requests are independent copies (no aliasing of the frame buffer)', () => {
  const a = unpackb(packb({ x: f32([2], Float32Array.of(1, 2)) })) as { x: NdArray };
  assert.equal(a.x.data.byteOffset, 0);
});

test('a client that floods frames without waiting for replies is cut off with 1011', async () => {
  const frame = packb(testObservation([1, 2, 3, 4, 5, 6, 7, 8], { side: 4 }));
  const { messages, code } = await rawExchange(new Array(MAX_IN_FLIGHT + 20).fill(frame));
  assert.equal(code, CLOSE_INTERNAL_ERROR);
  const text = messages.filter((m) => !m.binary).map((m) => m.data.toString());
  assert.equal(text.length, 1);
  assert.match(text[0], /more than 4 requests in flight on one connection/);
  assert.ok(messages.length - 2 <= MAX_IN_FLIGHT, `${messages.length - 2} replies before the error`);
});

test('makeObservation + predictChunk: a robot-side frame in, H rows of native actions out', async () => {
  const client = await PolicyClient.connect(server.url);
  const image = { data: new Uint8Array(6 * 4 * 3).fill(102), width: 6, height: 4 };
  const obs = makeObservation({ images: { front: image }, state: [0.5, 0, 0, 0, 0, 0, 0, 0], prompt: 'go' });
  assert.deepEqual((obs['observation/image'] as NdArray).shape, [4, 6, 3]);
  const rows = await client.predictChunk(obs);
  assert.equal(rows.length, 10);
  assert.equal(rows[3].length, 8);
  assertClose(rows[3][0], 0.5 + 0.03 + 102 / 255 + 0.002, 1e-6);
  assert.throws(() => makeObservation({ images: { front: { ...image, width: 5 } }, state: [], prompt: '' }), /camera front has 72 bytes; a 5x4 RGB frame has 60/);
  const three = makeObservation({ images: { front: image, wrist: image, side: image }, state: [0], prompt: '' });
  assert.deepEqual(Object.keys(three).filter((k) => k.includes('image')), ['observation/image', 'observation/wrist_image', 'observation/images/side']);
  await client.close();
});

test('remotePolicy: a served policy behind the Policy interface, even re-served by a proxy', async () => {
  const client = await PolicyClient.connect(server.url);
  const remote = remotePolicy(client);
  assert.equal(remote.metadata.action_horizon, 10);
  const proxy = await startServer(remote, { port: 0 });
  const viaProxy = await PolicyClient.connect(proxy.url);
  const obs = testObservation([2, 4, 6, 8, 1, 3, 5, 7], { side: 4, pixel: 17 });
  assertClose((await viaProxy.infer(obs)).actions.data as Float32Array, expected(obs), 1e-6);
  // the origin's error text travels through the proxy
  await assert.rejects(viaProxy.infer({ prompt: 'x' }), /observation\/image" is missing/);
  await viaProxy.close();
  await proxy.close();
  await client.close();
  const bare = Object.assign(Object.create(PolicyClient.prototype), { metadata: { embodiment: 'x' } }) as PolicyClient;
  assert.throws(() => remotePolicy(bare), /no valid "action_horizon".*is it a vlalab server/);
});

test('with an API key: a keyless or wrong-keyed client gets HTTP 401 before any frame, a keyed one is served; healthz stays open', async () => {
  const keyed = await startServer(policy, { port: 0, apiKey: 's3cret-key' });
  try {
    /** status of a raw upgrade with `headers`, and whether any frame arrived */
    const raw = (headers: Record<string, string>) => new Promise<{ status?: number; frames: number }>((resolve) => {
      const ws = new WebSocket(keyed.url, { headers });
      let frames = 0;
      ws.on('message', () => frames++);
      ws.on('unexpected-response', (_req, res) => { resolve({ status: res.statusCode, frames }); ws.terminate(); });
      ws.on('open', () => setTimeout(() => { resolve({ frames }); ws.close(); }, 100));
      ws.on('error', () => {});
    });
    assert.deepEqual(await raw({}), { status: 401, frames: 0 });
    assert.deepEqual(await raw({ authorization: 'Api-Key wrong' }), { status: 401, frames: 0 });
    assert.deepEqual(await raw({ authorization: 'Bearer s3cret-key' }), { status: 401, frames: 0 });
    await assert.rejects(PolicyClient.connect(keyed.url), /HTTP 401.*requires an API key/);
    const client = await PolicyClient.connect(keyed.url, { apiKey: 's3cret-key' });
    const obs = testObservation([1, 2, 3, 4, 5, 6, 7, 8], { side: 8 });
    assertClose((await client.infer(obs)).actions.data as Float32Array, expected(obs), 1e-6);
    await client.close();
    assert.equal(keyed.served(), 1);
    assert.equal((await fetch(`${keyed.url.replace('ws://', 'http://')}/healthz`)).status, 200);
  } finally {
    await keyed.close();
  }
});

test('the URL names the host the server is bound to', async () => {
  const all = await startServer(policy, { port: 0, host: '0.0.0.0' });
  try {
    assert.equal(all.url, `ws://0.0.0.0:${all.port}`);
  } finally {
    await all.close();
  }
  assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
});
