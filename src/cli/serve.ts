/** `vlalab serve`: serve a policy over openpi's WebSocket protocol until Ctrl-C. */
import type { Command } from 'commander';
import { chooseEngine, parseEngine } from '../engine/index.ts';
import { initBackend } from '../model/index.ts';
import { DEFAULT_HOST, DEFAULT_PORT, imageKeysFor, makeModelPolicy, makeTestPolicy, type Policy, startServer, TEST_POLICY_NAMES } from '../serving/index.ts';
import { loadPolicyParts, policyEmbodiments } from '../training/index.ts';
import { API_KEY_ENV, UserError } from '../util/index.ts';
import { action, apiKeyOption, intOption } from './run.ts';

type ServeOptions = { apiKey?: string; engine?: string; checkpoint?: string; robot?: string; seed: string; steps?: string; policy?: string; port: string; host: string; stateDim: string; horizon: string; actionDim: string; delayMs: string; quiet?: boolean };

/** A trained checkpoint through the serving adapter, with the run's cameras as wire image keys. */
async function checkpointPolicy(opts: ServeOptions): Promise<{ policy: Policy; label: string }> {
  const steps = opts.steps === undefined ? undefined : intOption('--steps', opts.steps, 1, 1000);
  const seed = intOption('--seed', opts.seed, 0, 2 ** 31 - 1);
  const backend = await initBackend();
  const { engine, note } = await chooseEngine(parseEngine(opts.engine));
  if (note) process.stderr.write(`${note}\n`);
  const parts = loadPolicyParts(opts.checkpoint!, { embodiment: opts.robot });
  const policy = makeModelPolicy({
    ...parts,
    engine,
    imageKeys: imageKeysFor(parts.meta.cameras),
    seed,
    steps,
    defaultPrompt: parts.meta.instruction,
    extraMetadata: { checkpoint: parts.dir, step: parts.step, embodiments: policyEmbodiments(parts.meta).map((e) => e.embodiment), cameras: parts.meta.cameras, execute_steps: parts.meta.executeSteps, ...(parts.meta.instruction ? { instruction: parts.meta.instruction } : {}) },
  });
  // the first request would otherwise pay for tracing the sampler and creating its session
  await policy.warmup?.();
  return { policy, label: `${parts.dir} (model ${parts.config.name}, step ${parts.step}, as ${parts.embodiment.name}, ${steps ?? parts.config.sampleSteps} Euler steps, ${engine === 'ort' ? 'onnxruntime' : backend})` };
}

async function choosePolicy(opts: ServeOptions): Promise<{ policy: Policy; label: string }> {
  if ((opts.checkpoint === undefined) === (opts.policy === undefined)) {
    throw new UserError(`say what to serve: --checkpoint RUN (a trained run or checkpoint directory) or --policy ${TEST_POLICY_NAMES.join('|')} (test policies for checking a robot client's plumbing), not both`);
  }
  if (opts.checkpoint !== undefined) return checkpointPolicy(opts);
  const name = opts.policy as string;
  const policy = makeTestPolicy(name, {
    stateDim: intOption('--state-dim', opts.stateDim, 1, 60),
    actionHorizon: intOption('--horizon', opts.horizon, 1, 1000),
    actionDim: intOption('--action-dim', opts.actionDim, 1, 60),
    delayMs: intOption('--delay-ms', opts.delayMs, 0, 60_000),
  });
  return { policy, label: `test policy "${name}"` };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description("serve a policy over openpi's WebSocket protocol (metadata on connect, msgpack-numpy requests, GET /healthz)")
    .option('--checkpoint <dir>', 'a training run (its latest checkpoint) or a checkpoint directory written by `vlalab train`')
    .option('--robot <name>', 'checkpoint: the embodiment to act as, one the run was trained on (default: its first)')
    .option('--seed <n>', 'checkpoint: seed of the sampling noise (request i uses seed + i)', '0')
    .option('--steps <n>', "checkpoint: Euler steps per chunk (default: the model config's)")
    .option('--policy <name>', `built-in test policy: ${TEST_POLICY_NAMES.join(' | ')} (echo: actions[h, d] = state[d mod S] + 0.01 h + image[0,0,0]/255 + 0.001 len(prompt); zero: zeros)`)
    .option('--port <n>', 'TCP port (0 picks a free one)', String(DEFAULT_PORT))
    .option('--host <addr>', 'interface to listen on (0.0.0.0 for every interface)', DEFAULT_HOST)
    .option('--state-dim <n>', 'test policies: length of observation/state', '8')
    .option('--horizon <n>', 'test policies: actions per chunk (H)', '10')
    .option('--action-dim <n>', 'test policies: action dimension (D)', '8')
    .option('--delay-ms <n>', 'test policies: simulated inference time per request', '0')
    .option('--engine <name>', 'checkpoint: ort (ONNX Runtime, default) or jax (jax-js wasm)')
    .option('--api-key <key>', `refuse connections that do not send "Authorization: Api-Key <key>" (HTTP 401; default: $${API_KEY_ENV}, else no key)`)
    .option('--quiet', 'do not log connections on stderr')
    .action(
      action(async (opts: ServeOptions) => {
        const { policy, label } = await choosePolicy(opts);
        const port = intOption('--port', opts.port, 0, 65535);
        const apiKey = apiKeyOption(opts.apiKey);
        const server = await startServer(policy, { port, host: opts.host, apiKey, log: opts.quiet ? undefined : (line) => process.stderr.write(`${line}\n`) });
        const m = policy.metadata;
        const http = server.url.replace('ws://', 'http://');
        process.stdout.write(`serving ${label} (embodiment ${m.embodiment}, H=${m.action_horizon}, D=${m.action_dim}) on ${server.url}  health: ${http}/healthz${apiKey ? '  (clients must send its API key)' : ''}  (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          const stop = () => void server.close().then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        process.stdout.write(`stopped after ${server.served()} requests\n`);
      }),
    );
}
