import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { metadataFor, type Policy, PolicyClient, ServerError, startServer, testObservation, testObservationSpec } from '../../serving/index.ts';
import { UserError } from '../../util/index.ts';
import { DISPATCHER_METADATA, startDispatcher } from './dispatcher.ts';
import { frameCount, recordsDirOf } from './records.ts';
import { BlindStore } from './store.ts';

/** A policy answering chunks filled with `value`, after `delayMs`; its metadata and replies name it. */
function constantPolicy(name: string, value: number, delayMs: number): Policy {
  return {
    metadata: metadataFor(testObservationSpec(8), { embodiment: 'test', actionHorizon: 2, actionDim: 3, parameterization: 'absolute', extra: { model: name } }),
    async infer() {
      await new Promise((r) => setTimeout(r, delayMs));
      return { actions: new Float32Array(6).fill(value), shape: [2, 3], extra: { model: name } };
    },
  };
}

/** Sends one raw frame to `url` and resolves with the text answer and the close code. */
function rawExchange(url: string, frame: Uint8Array | string): Promise<{ text: string; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let text = '';
    let first = true;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (first) { first = false; ws.send(frame); return; } // the metadata frame, then our request
      if (!isBinary) text = data.toString('utf8');
    });
    ws.on('close', (code) => resolve({ text, code }));
    ws.on('error', reject);
  });
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const FLOOR_MS = 80;
const obs = () => testObservation(Float32Array.from({ length: 8 }, (_, i) => i), { side: 8 });

describe('blind dispatcher', () => {
  it('forwards each trial to its own model behind one fixed metadata frame, refuses with no active trial, and equalizes latency', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-dispatch-'));
    const fast = await startServer(constantPolicy('model-fast', 1, 0), { port: 0 });
    const slow = await startServer(constantPolicy('model-slow', 2, 40), { port: 0 });
    const dead = `ws://127.0.0.1:${await deadPort()}`;
    const store = new BlindStore(join(dir, 'study.db'));
    store.create({
      name: 'dispatch', models: { 'model-fast': fast.url, 'model-slow': slow.url, 'model-dead': dead }, trialsPerModel: 2, groupSize: 3, seed: 4,
      tasks: [{ name: 'wipe-board', instruction: 'wipe the board', rubric: [{ name: 'clean', points: 1 }] }],
    });
    const logged: string[] = [];
    const dispatcher = await startDispatcher(store, { latencyFloorMs: FLOOR_MS, recordEvery: 1, upstreamWaitMs: 50, log: (l) => logged.push(l) });
    const secrets = ['model-', fast.url, slow.url, dead, '127.0.0.1:'];
    const noSecrets = (text: string) => { for (const s of secrets) assert.ok(!text.includes(s), `the robot saw "${s}": ${text}`); };
    try {
      const idle = await PolicyClient.connect(dispatcher.url);
      assert.deepEqual(idle.metadata, { ...DISPATCHER_METADATA });
      await assert.rejects(idle.infer(obs()), (e: Error) => e instanceof ServerError && /no trial is active; the operator must start/.test(e.message));
      await idle.close();

      const valueOf: Record<string, number> = { 'model-fast': 1, 'model-slow': 2 };
      let forwarded = 0;
      for (let t = store.current(); t; t = store.current()) {
        store.start(t.id);
        if (t.id === 1) {
          assert.deepEqual(await rawExchange(dispatcher.url, new Uint8Array([0xc1, 0, 1])), { text: 'bad request: not a valid msgpack frame: Unrecognized type byte: 0xc1', code: 1011 });
          assert.match((await rawExchange(dispatcher.url, 'hello')).text, /^bad request: requests must be binary frames/);
        }
        const robot = await PolicyClient.connect(dispatcher.url);
        assert.deepEqual(robot.metadata, { ...DISPATCHER_METADATA }, 'the metadata is the same whatever model runs');
        if (t.model === 'model-dead') {
          const err = await robot.infer(obs()).then(() => undefined, (e: Error) => e);
          assert.ok(err instanceof ServerError && /internal error: the policy server behind this trial failed/.test(err.message), String(err));
          noSecrets(err.message);
        } else {
          for (let k = 0; k < 2; k++) {
            const r = await robot.infer(obs());
            assert.deepEqual(Array.from(r.actions.data as Float32Array), Array(6).fill(valueOf[t.model]), `trial ${t.id} was forwarded to ${t.model}`);
            assert.deepEqual(Object.keys(r.reply).sort(), ['actions'], 'only the actions come back: no timings, no extras');
            assert.ok(r.clientMs >= FLOOR_MS - 2, `answer after ${r.clientMs} ms, below the ${FLOOR_MS} ms floor`);
            noSecrets(JSON.stringify(robot.metadata));
            forwarded++;
          }
          assert.equal(frameCount(recordsDirOf(store.file), t.id), 2, 'each forwarded observation was recorded');
        }
        store.record(t.id, 1);
        if (t.model !== 'model-dead') {
          await assert.rejects(robot.infer(obs()), /trial \d+ has ended; reconnect/);
        }
        await robot.close();
      }
      assert.equal(forwarded, 2 * 2 * 2);
      assert.ok(logged.some((l) => l.includes('model-dead')), 'the admin log names the failing model');
      const after = await PolicyClient.connect(dispatcher.url);
      await assert.rejects(after.infer(obs()), /no trial is active/, 'still serving after every error');
      await after.close();
    } finally {
      await dispatcher.close();
      await fast.close();
      await slow.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A one-trial study of model `name` (served by `policy`) behind a dispatcher with `options`, torn down after `fn`. */
  async function withOneModelStudy(name: string, policy: Policy, options: Parameters<typeof startDispatcher>[1], fn: (c: { dispatcher: Awaited<ReturnType<typeof startDispatcher>>; store: BlindStore; url: string }) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-dispatch-'));
    const server = await startServer(policy, { port: 0 });
    const store = new BlindStore(join(dir, 'study.db'));
    store.create({ name: 'one', models: { [name]: server.url }, trialsPerModel: 1, tasks: [{ name: 't', instruction: 'i', rubric: [{ name: 's', points: 1 }] }] });
    const dispatcher = await startDispatcher(store, { upstreamWaitMs: 50, ...options });
    try {
      store.start(store.current()!.id);
      await fn({ dispatcher, store, url: server.url });
    } finally {
      await dispatcher.close();
      await server.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('passes a model\'s "bad request" reason (which key, which shape) to the robot, without the model\'s name or URL', async () => {
    let url = '';
    const strict: Policy = {
      ...constantPolicy('model-strict', 0, 0),
      async infer() {
        throw new UserError(`observation "observation.state" has shape [13] but embodiment panda7 expects [14] (model-strict at ${url})`);
      },
    };
    await withOneModelStudy('model-strict', strict, {}, async ({ dispatcher, url: u }) => {
      url = u;
      const robot = await PolicyClient.connect(dispatcher.url);
      const err = await robot.infer(obs()).then(() => undefined, (e: Error) => e);
      assert.ok(err instanceof ServerError, String(err));
      assert.match(err.message, /bad request: the policy server refused the observation: observation "observation\.state" has shape \[13\] but embodiment panda7 expects \[14\]/);
      for (const secret of ['model-strict', url, new URL(url).host]) assert.ok(!err.message.includes(secret), `the robot saw "${secret}": ${err.message}`);
      await robot.close();
    });
  });

  it('with a study key, refuses a keyless robot with HTTP 401 before any frame and serves a keyed one; names the host it is bound to', async () => {
    await withOneModelStudy('model-a', constantPolicy('model-a', 0.5, 0), { apiKey: 'robot-key', host: '0.0.0.0' }, async ({ dispatcher }) => {
      assert.equal(dispatcher.url, `ws://0.0.0.0:${dispatcher.port}`);
      const status = await new Promise<number | undefined>((resolve) => {
        const ws = new WebSocket(dispatcher.url);
        ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode); ws.terminate(); });
        ws.on('message', () => resolve(undefined));
        ws.on('error', () => {});
      });
      assert.equal(status, 401);
      const robot = await PolicyClient.connect(dispatcher.url, { apiKey: 'robot-key' });
      assert.deepEqual(robot.metadata, { ...DISPATCHER_METADATA });
      assert.deepEqual(Array.from((await robot.infer(obs())).actions.data as Float32Array), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
      await robot.close();
    });
  });
});
