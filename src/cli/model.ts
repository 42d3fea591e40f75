/** `vlalab model info --config NAME [--json]`: a model config's hyperparameters, sequence lengths and parameter counts per expert. */
import type { Command } from 'commander';
import { CONFIG_NAMES, type ModelConfig, getConfig, paramCounts, patchesPerView, prefixLength, stemPatch, suffixPadding } from '../model/index.ts';
import { action, printJson } from './run.ts';

/** The facts `model info` reports about one config. */
export function modelInfo(c: ModelConfig) {
  const counts = paramCounts(c);
  return {
    config: c,
    sequence: {
      imageTokensPerView: patchesPerView(c),
      prefix: prefixLength(c),
      suffix: 1 + c.actionHorizon,
      suffixPadding: suffixPadding(c),
      total: prefixLength(c) + 1 + c.actionHorizon + suffixPadding(c),
    },
    parameters: counts,
  };
}

/** 1234567 -> "1.23M". */
function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function register(program: Command): void {
  const cmd = program.command('model').description('inspect the Mixture-of-Transformers VLA configs');
  cmd
    .command('info')
    .description('hyperparameters, sequence lengths and parameter counts per expert of a model config')
    .requiredOption('--config <name>', `model config: ${CONFIG_NAMES.join(', ')}`)
    .option('--json', 'print JSON {config, sequence, parameters}')
    .action(
      action((opts: { config: string; json?: boolean }) => {
        const info = modelInfo(getConfig(opts.config));
        if (opts.json) return printJson(info);
        const c = info.config;
        const s = info.sequence;
        const p = info.parameters;
        const lines = [
          `model config "${c.name}"`,
          `  images        ${c.maxViews} views of ${c.imageSize}x${c.imageSize}, ${c.patchSize}px patches (${s.imageTokensPerView} tokens per view)`,
          ...(c.stemChannels ? [`  stem          ${stemPatch(c)}px patchify -> ${c.stemChannels[0]}${c.stemChannels.slice(1).map((ch) => `, 3x3 stride-2 conv -> ${ch}`).join('')} channels (GroupNorm, ${c.stemFilm ? 'FiLM on the instruction, ' : ''}SiLU)`] : []),
          `  instruction   ${c.maxTokens} tokens, vocabulary ${c.vocabSize}`,
          ...(c.aimWeight ? [`  aim head      predicts the EEF position at the next gripper event from the prefix (loss weight ${c.aimWeight}; training only)`] : []),
          `  layers        ${c.depth}, ${c.numHeads} heads x ${c.headDim}`,
          `  semantic      width ${c.semanticWidth}, MLP ${c.semanticMlpDim}: ${human(p.semantic)} parameters (${p.semantic})`,
          `  action        width ${c.actionWidth}, MLP ${c.actionMlpDim}: ${human(p.action)} parameters (${p.action})`,
          `  total         ${human(p.total)} parameters (${p.total})`,
          `  sequence      prefix ${s.prefix} + suffix ${s.suffix} (state + H=${c.actionHorizon} actions) + ${s.suffixPadding} padding = ${s.total}`,
          `  flow          tau ${c.tauDistribution}, ${c.sampleSteps} Euler steps`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
