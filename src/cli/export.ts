/**
 * `vlalab export --onnx RUN --out policy.onnx`: a trained policy's sampler (prefix cache + Euler
 * steps, the weights it acts with baked in, noise as an input) as one standalone ONNX model that
 * any ONNX Runtime runs (Python, C++, a browser through onnxruntime-web). The model's
 * metadata_props say how to feed it: the signature, the normalization stats, the cameras, the
 * tokenizer and the action parameterization (policy.json) and the model config.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { initBackend } from '../model/index.ts';
import { POLICY_INPUTS, policySignature, tracePolicyProgram } from '../serving/index.ts';
import { loadPolicyParts } from '../training/index.ts';
import { UserError } from '../util/index.ts';
import { action, intOption, printJson } from './run.ts';

/** What each input and the output of the exported model mean (stored as metadata "vlalab.signature"). */
const MEANING: Record<string, string> = {
  images: 'camera views, RGB scaled to [-1, 1] ((u8 / 255) * 2 - 1), area-resized to S x S, in the order of policy.cameras; a missing view may hold anything',
  image_mask: '1 = the view is present, 0 = missing',
  tokens: "instruction token ids (policy.tokenizer), padded with 0 to L",
  token_mask: '1 = a real token, 0 = padding',
  state: 'the unified state (60 slots) normalized with policy.norm.state; unused slots 0',
  state_mask: "1 = the embodiment has this state dim",
  action_mask: "1 = the embodiment has this action dim",
  noise: 'standard normal noise x0 of the flow (draw it yourself; the chunk is a deterministic function of it)',
  actions: 'the normalized unified action chunk: unnormalize step h with policy.norm.actionSteps[h] when present (per-step normalization), else with policy.norm.action, then decode from policy.parameterization relative to the observed end-effector pose',
};

type Flags = { onnx: string; out: string; steps?: string; batch: string; json?: boolean };

export function register(program: Command): void {
  program
    .command('export')
    .description("export a trained policy's sampler as a standalone ONNX model (weights inside, noise as an input)")
    .requiredOption('--onnx <run>', 'a training run (its latest checkpoint; the EMA weights when kept) or a checkpoint directory')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .option('--steps <n>', "Euler steps in the model (default: the model config's)")
    .option('--batch <n>', 'observations per call (shapes are static)', '1')
    .option('--json', 'print the signature as JSON')
    .action(
      action(async (o: Flags) => {
        if (!o.out.endsWith('.onnx')) throw new UserError(`--out ${o.out}: name the file *.onnx`);
        await initBackend();
        const parts = loadPolicyParts(o.onnx);
        const c = parts.config;
        const steps = o.steps === undefined ? c.sampleSteps : intOption('--steps', o.steps, 1, 1000);
        const batch = intOption('--batch', o.batch, 1, 4096);
        const signature = policySignature(c, batch).map((v) => ({ ...v, meaning: MEANING[v.name] }));
        const metadata = {
          'vlalab.signature': JSON.stringify(signature),
          'vlalab.policy': JSON.stringify(parts.meta),
          'vlalab.model_config': JSON.stringify(c),
          'vlalab.euler_steps': String(steps),
          'vlalab.checkpoint': `${parts.dir} (step ${parts.step})`,
        };
        const exported = await tracePolicyProgram(c, parts.params, { steps, batch, metadata, doc: 'vlalab policy sampler' });
        try {
          writeFileSync(o.out, exported.model);
        } catch (err) {
          throw new UserError(`cannot write ${o.out}: ${(err as Error).message}`);
        }
        const summary = { file: o.out, bytes: exported.model.length, checkpoint: parts.dir, step: parts.step, euler_steps: steps, inputs: signature.filter((s) => (POLICY_INPUTS as readonly string[]).includes(s.name)), outputs: signature.filter((s) => s.name === 'actions') };
        if (o.json) return printJson(summary);
        const rows = signature.map((s) => `  ${s.name.padEnd(12)} ${s.dtype.padEnd(8)} [${s.dims.join(', ')}]`);
        process.stdout.write(`wrote ${o.out} (${(exported.model.length / 1e6).toFixed(1)} MB; ${parts.dir}, step ${parts.step}, ${steps} Euler steps)\n${rows.join('\n')}\nmetadata: vlalab.signature, vlalab.policy (normalization, cameras, tokenizer), vlalab.model_config\n`);
      }),
    );
}
