/**
 * Serving round-trip latency: `vlalab serve` runs in its own process; clients here send
 * LIBERO-sized observations (two 224x224x3 u8 images, 8-dim state, a prompt) over loopback and
 * time each request from encode to decoded reply.
 *
 *   node bench/serving-latency.ts [--policy echo] [--requests 200] [--side 224] [--clients 1,8]
 *   node bench/serving-latency.ts --serve-args "--checkpoint RUN"     # any `vlalab serve` flags
 *   node bench/serving-latency.ts --model tiny [--steps 10]           # a random-init model (panda7)
 *
 * Prints, per client count, p50/p99 round trip, the server's median infer_ms, and throughput.
 * Each of C clients sends `requests / C` requests (at least `min`, default 25) back to back after
 * `warmup` (default 5) warm-ups. --model serves a freshly initialized model of that config through
 * the real adapter (panda7, identity normalizers, byte tokens): the latency of a trained one.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { getEmbodiment, makeNormalizer, UNIFIED_DIM } from '../src/actions/index.ts';
import { getConfig, initParams } from '../src/model/index.ts';
import { makeModelPolicy, PolicyClient, startServer, testObservation } from '../src/serving/index.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const requests = Number(flag('requests', '200'));
const minPer = Number(flag('min', '25'));
const warmup = Number(flag('warmup', '5'));
const side = Number(flag('side', '224'));
const clientCounts = flag('clients', '1,8').split(',').map(Number);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

// server mode (spawned by the bench itself for --model): a random-init model behind the adapter
const serveModel = flag('serve-model', '');
if (serveModel) {
  const config = getConfig(serveModel);
  const e = getEmbodiment('panda7');
  const identity = { mean: new Array(UNIFIED_DIM).fill(0), std: new Array(UNIFIED_DIM).fill(1) };
  const policy = makeModelPolicy({
    config,
    params: initParams(config, 0),
    embodiment: e,
    parameterization: 'world-rel',
    stateNormalizer: makeNormalizer(identity, e.stateMask, 'zscore'),
    actionNormalizers: Array(config.actionHorizon).fill(makeNormalizer(identity, e.actionMask, 'zscore')),
    tokenize: (prompt) => new TextEncoder().encode(prompt),
    steps: Number(flag('steps', String(config.sampleSteps))),
  });
  const server = await startServer(policy, { port: 0 });
  process.stdout.write(`serving random-init ${serveModel} on ${server.url}\n`);
  await new Promise((resolve) => process.once('SIGINT', resolve));
  await server.close();
  process.exit(0);
}

const model = flag('model', '');
const bin = join(import.meta.dirname, '..', 'bin', 'vlalab.js');
const command = model
  ? [import.meta.filename, '--serve-model', model, '--steps', flag('steps', '10')]
  : [bin, 'serve', ...flag('serve-args', `--policy ${flag('policy', 'echo')}`).split(/\s+/).filter(Boolean), '--port', '0', '--quiet'];
const serveArgs = command.slice(1);
const server = spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /on (ws:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`vlalab serve exited (${code}) before listening`)));
});

try {
  const probe = await PolicyClient.connect(url);
  const stateDim = Number(probe.metadata.state_dim);
  await probe.close();
  const state = Array.from({ length: stateDim }, (_, i) => Math.sin(i));
  const obs = testObservation(state, { side, pixel: 128, prompt: 'put the red block in the bowl' });
  process.stdout.write(`server: ${serveArgs.join(' ')}; observation ${side}x${side}x3 u8 x2 + state[${stateDim}]\n`);
  process.stdout.write('clients  requests  p50 ms  p99 ms  server infer_ms p50  req/s\n');
  for (const c of clientCounts) {
    const clients = await Promise.all(Array.from({ length: c }, () => PolicyClient.connect(url)));
    for (const cl of clients) for (let i = 0; i < warmup; i++) await cl.infer(obs);
    const per = Math.max(minPer, Math.ceil(requests / c));
    const rtt: number[] = [];
    const infer: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (cl) => {
        for (let i = 0; i < per; i++) {
          const r = await cl.infer(obs);
          rtt.push(r.clientMs);
          infer.push(r.serverTiming.infer_ms);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `${String(c).padStart(7)}  ${String(rtt.length).padStart(8)}  ${pct(rtt, 50).toFixed(2).padStart(6)}  ${pct(rtt, 99).toFixed(2).padStart(6)}  ${pct(infer, 50).toFixed(2).padStart(18)}  ${(rtt.length / seconds).toFixed(0).padStart(5)}\n`,
    );
    await Promise.all(clients.map((cl) => cl.close()));
  }
} finally {
  server.kill('SIGINT');
}
