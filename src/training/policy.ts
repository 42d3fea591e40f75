/**
 * What a checkpoint needs to act: besides the weights and model config, `policy.json` records the
 * embodiment, the action parameterization, the normalization mode and unified stats, the camera
 * order and the tokenizer, so that inference applies exactly the training-time transforms.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  chunkNormalizers, defineEmbodiment, EEF_MODES, type EefMode, type EmbodimentSpecInput, featureStatsSchema, getEmbodiment, makeNormalizer, NORM_MODES, type NormMode,
} from '../actions/index.ts';
import { type NormStats, padTokens, TOKENIZER_JSON, tokenizerFromJson } from '../data/index.ts';
import { decodeParams, loadCheckpoint, type PolicyCore, tree } from '../model/index.ts';
import { UserError } from '../util/index.ts';
import { CKPT_FILES, policyWeightsFile, readJsonChecked, resolveCheckpoint } from './run-state.ts';

/** File name of the policy metadata inside a checkpoint. */
export const POLICY_FILE = CKPT_FILES.policy;

/** Unified stats: the state's, the chunk actions' pooled, and each chunk step's when trained with per-step normalization. */
const normSchema = z.object({ state: featureStatsSchema, action: featureStatsSchema, actionSteps: z.array(featureStatsSchema).optional() });

/** What acting as one embodiment needs: its camera order, unified stats and a default instruction. */
const embodimentEntrySchema = z.object({
  embodiment: z.string(),
  cameras: z.array(z.string()),
  norm: normSchema,
  instruction: z.string().optional(),
});

/** One embodiment a run was trained on, as policy.json lists it. */
export type PolicyEmbodiment = z.infer<typeof embodimentEntrySchema>;

const policySchema = z.object({
  format: z.literal('vlalab-policy'),
  /** every embodiment the run was trained on, the first as the top-level fields (absent: only those) */
  embodiments: z.array(embodimentEntrySchema).min(1).optional(),
  embodiment: z.string(),
  /** the embodiment's spec when it came from a spec file rather than the registry */
  embodimentSpec: z.unknown().optional(),
  parameterization: z.enum([...EEF_MODES, 'absolute']),
  normMode: z.enum(NORM_MODES),
  cameras: z.array(z.string()),
  instruction: z.string().optional(),
  executeSteps: z.number().int().positive(),
  norm: normSchema,
  tokenizer: z.object({ type: z.string(), version: z.number() }).passthrough(),
});

/** The contents of policy.json. */
export type PolicyMeta = z.infer<typeof policySchema>;

/** policy.json for a run trained on `embodiment` with these transforms (tokenizer: bytes unless given). */
export function policyMeta(o: { embodiment: string; embodimentSpec?: unknown; parameterization: EefMode | 'absolute'; normMode: NormMode; cameras: string[]; executeSteps: number; norm: NormStats; instruction?: string; tokenizer?: PolicyMeta['tokenizer']; embodiments?: PolicyEmbodiment[] }): PolicyMeta {
  const { embodimentSpec, ...rest } = o;
  return { format: 'vlalab-policy', ...rest, ...(embodimentSpec ? { embodimentSpec } : {}), tokenizer: { ...(o.tokenizer ?? TOKENIZER_JSON) } };
}

/** The embodiments a policy can act as (the first is the default). */
export function policyEmbodiments(meta: PolicyMeta): PolicyEmbodiment[] {
  return meta.embodiments ?? [{ embodiment: meta.embodiment, cameras: meta.cameras, norm: meta.norm, instruction: meta.instruction }];
}

/** `meta` acting as `name` (default: its first embodiment); refuses, by name, an embodiment the run never saw. */
export function selectEmbodiment(meta: PolicyMeta, name: string | undefined, source: string): PolicyMeta {
  const all = policyEmbodiments(meta);
  const pick = name === undefined ? all[0] : all.find((e) => e.embodiment === name);
  if (!pick) throw new UserError(`${source} was trained on ${all.map((e) => e.embodiment).join(', ')}, never on "${name}"; pass one of those as --robot, or train on ${name}'s data`);
  return { ...meta, embodiment: pick.embodiment, cameras: pick.cameras, norm: pick.norm, instruction: pick.instruction };
}

/** A loaded policy: the model and its transforms, with the checkpoint it came from. */
export type PolicyParts = PolicyCore & {
  meta: PolicyMeta;
  step: number;
  dir: string;
};

/** The validated policy.json of a run (latest checkpoint) or of a checkpoint directory. */
export function readPolicyMeta(path: string): PolicyMeta {
  const metaFile = join(resolveCheckpoint(path).dir, POLICY_FILE);
  if (!existsSync(metaFile)) throw new UserError(`${metaFile} is missing; this checkpoint cannot act (was it written by \`vlalab train\`?)`);
  return readJsonChecked(metaFile, policySchema, 'this checkpoint cannot act; restore policy.json from the run that wrote it');
}

/**
 * Loads the policy of a run (latest checkpoint) or of a checkpoint directory, acting as
 * `o.embodiment` (default: the first it was trained on).
 */
export function loadPolicyParts(path: string, o: { embodiment?: string } = {}): PolicyParts {
  const { dir, step } = resolveCheckpoint(path);
  const metaFile = join(dir, POLICY_FILE);
  const meta = selectEmbodiment(readPolicyMeta(dir), o.embodiment, path);
  const loaded = loadCheckpoint(dir);
  const { config } = loaded;
  // act with the weights' moving average when the run kept one
  const weights = policyWeightsFile(dir, '--checkpoint');
  let params = loaded.params;
  if (weights.endsWith(CKPT_FILES.ema)) {
    tree.dispose(params);
    params = decodeParams(config, readFileSync(weights), weights);
  }
  const spec = meta.embodimentSpec as (EmbodimentSpecInput & { name?: string }) | undefined;
  const embodiment = spec?.name === meta.embodiment ? defineEmbodiment(spec, metaFile) : getEmbodiment(meta.embodiment);
  const tokenizer = tokenizerFromJson(meta.tokenizer, metaFile);
  if (tokenizer.vocabSize > config.vocabSize) throw new UserError(`${metaFile}: its tokenizer has ${tokenizer.vocabSize} ids but the model embeds ${config.vocabSize}`);
  return {
    config,
    params,
    embodiment,
    parameterization: meta.parameterization,
    stateNormalizer: makeNormalizer(meta.norm.state, embodiment.stateMask, meta.normMode),
    actionNormalizers: chunkNormalizers(meta.norm.action, meta.norm.actionSteps, embodiment.actionMask, meta.normMode, config.actionHorizon),
    // the padded form ends in EOS when truncated, like training; the adapter pads again (no-op)
    tokenize: (prompt) => {
      const { ids, mask } = padTokens(tokenizer.encode(prompt), config.maxTokens);
      return ids.subarray(0, mask.reduce((a, b) => a + b, 0));
    },
    meta,
    step,
    dir,
  };
}
