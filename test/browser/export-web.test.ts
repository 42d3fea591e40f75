/**
 * The exported policy in a browser: Chromium (playwright-core, Debian's chromium) loads the .onnx
 * that `vlalab export` writes with onnxruntime-web's wasm backend and samples the same chunk as
 * onnxruntime-node.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { chromium } from 'playwright-core';
import { type Observation, syntheticBatch } from '../../src/model/index.ts';
import { createSampler, requestNoise, tracePolicyProgram } from '../../src/serving/index.ts';
import { loadPolicyParts } from '../../src/training/index.ts';
import { maxAbsDiff } from '../helpers/close.ts';
import { exportedInputs, policyCheckpoint } from '../helpers/policy-fixture.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const skip = CHROMIUM ? false : 'chromium is not installed (apt-get install chromium); the browser tests need it';
const ORT_WEB = join(import.meta.dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');

let dir: string;
let server: Server;
let base: string;
const files = new Map<string, { body: Buffer | string; type: string }>();

before(async () => {
  ({ dir } = await policyCheckpoint());
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const f = files.get(path) ?? (path.startsWith('/ort/') && /^[\w.-]+$/.test(path.slice(5)) && existsSync(join(ORT_WEB, path.slice(5)))
      ? { body: readFileSync(join(ORT_WEB, path.slice(5))), type: path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' } : undefined);
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f.type }).end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('onnxruntime-web in Chromium samples the chunk onnxruntime-node samples', { skip }, async () => {
  const parts = loadPolicyParts(dir);
  const c = parts.config;
  const program = await tracePolicyProgram(c, parts.params, { steps: 3, batch: 1 });
  const seed = 9;
  const noise = await requestNoise(c, 1, seed);
  files.set('/', { body: '<!doctype html><title>export</title>', type: 'text/html' });
  files.set('/policy.onnx', { body: Buffer.from(program.model), type: 'application/octet-stream' });
  files.set('/inputs.json', { body: JSON.stringify(exportedInputs(c, 2, noise)), type: 'application/json' });

  const node = await createSampler(c, parts.params, { engine: 'ort', steps: 3 });
  const want = await node.sample(syntheticBatch(c, 1, 2) as Observation, seed);
  await node.release();

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const got = await page.evaluate(async () => {
      const ort = await import('/ort/ort.wasm.min.mjs' as string);
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.wasm.numThreads = 1;
      const model = new Uint8Array(await (await fetch('/policy.onnx')).arrayBuffer());
      const inputs = await (await fetch('/inputs.json')).json();
      const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
      const feeds: Record<string, unknown> = {};
      for (const [k, t] of Object.entries(inputs as Record<string, { data: number[]; dims: number[]; dtype: string }>)) {
        feeds[k] = new ort.Tensor(t.dtype, t.dtype === 'int32' ? Int32Array.from(t.data) : Float32Array.from(t.data), t.dims);
      }
      const out = await session.run(feeds);
      return Array.from(out.actions.data as Float32Array);
    });
    assert.equal(got.length, want.length);
    assert.ok(maxAbsDiff(got, want) <= 1e-4 * Math.max(1, ...Array.from(want, Math.abs)), `max diff ${maxAbsDiff(got, want)}`);
  } finally {
    await browser.close();
  }
});
