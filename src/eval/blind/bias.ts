/**
 * The protocol's own claim, measured: an operator who favours one model biases an unblinded
 * comparison, and the blinded protocol takes the bias away. Three simulated studies over the same
 * stand-in models, plan, trials and episode seeds (simulate.ts), differing only in the operator:
 *
 *   unbiased    records the simulator's points (the truth)
 *   unblinded   favours model F and is told which model runs each trial: it retries F's trials that
 *               fell short once, and credits a partial one of F's an extra rubric stage
 *   blinded     the same favouritism, but it sees only the anonymized trial, so it can aim its
 *               leniency only at what it sees: a random half of the trials (a seeded coin per
 *               trial: its guess) or every trial
 *
 * The report gives each model's mean score (% of rubric points) with a bootstrap 95% interval and
 * F's difference to every other model with a two-sample bootstrap 95% interval (stats.ts). The
 * blinded operator's choices are a function of the trial alone, so its records are the same
 * whichever model it favours; its leniency still lands more often on the model that fails more.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, UserError, unknownNameMessage } from '../../util/index.ts';
import { simModelName } from './sim-models.ts';
import { type OperatorPolicy, simulateStudy } from './simulate.ts';
import { bootstrapDifferenceInterval, bootstrapMeanInterval, type TrialOutcome } from './stats.ts';

/** Where a blinded biased operator aims its leniency: a random half of the trials (its guess), or every trial. */
export type BlindLeniency = 'half' | 'every';

/** What the favouring operator did: trials run again, and stages credited that the robot did not reach. */
export type LeniencyCount = { retries: number; credited: number };

/**
 * The operator who favours model `favour`: on a favoured trial it runs a first attempt that fell
 * short of the full points once more, and credits a partial final attempt (0 < points < max) one
 * extra point. A trial is favoured when the operator is told its model and it is `favour`; when
 * it is not told (blinded), by `blind`: every trial, or a seeded coin per trial (`seed`).
 * Counts what it did in `count`.
 */
export function favouringOperator(o: { favour: string; blind: BlindLeniency; seed: number; count?: LeniencyCount }): OperatorPolicy {
  const coin = (trial: number) => new Rng(Math.imul(o.seed * 7919 + trial, 2654435761) >>> 0).uniform() < 0.5;
  return (seen) => {
    const favoured = seen.model !== undefined ? seen.model === o.favour : o.blind === 'every' || coin(seen.trial);
    if (!favoured) return { points: seen.points };
    if (seen.attempt === 0 && seen.points < seen.maxPoints) {
      if (o.count) o.count.retries++;
      return { retry: true };
    }
    if (seen.points > 0 && seen.points < seen.maxPoints) {
      if (o.count) o.count.credited++;
      return { points: seen.points + 1 };
    }
    return { points: seen.points };
  };
}

/** The three operators of the experiment. */
export const BIAS_CONDITIONS = ['unbiased', 'unblinded', 'blinded'] as const;
/** One of BIAS_CONDITIONS. */
export type BiasCondition = (typeof BIAS_CONDITIONS)[number];

/** A mean score or difference (fractions of rubric points) with its 95% interval. */
export type ScoreEstimate = { value: number; lo: number; hi: number };

/** One condition's results: per model mean score, the favoured model's difference to each other model, and the operator's leniency. */
export type BiasConditionResult = {
  condition: BiasCondition; scores: Record<string, ScoreEstimate>; differences: Record<string, ScoreEstimate>; leniency: LeniencyCount; trials: number;
};

/** The experiment's results. */
export type BiasResult = { favour: string; models: string[]; blind: BlindLeniency; conditions: BiasConditionResult[] };

/** Options of runBiasExperiment (those of simulateStudy, plus the favoured model and the blinded operator's aim). */
export type BiasOptions = {
  /** a folder; each condition's study goes to a subfolder of its name */
  out: string;
  models: number;
  trials: number;
  tasks?: readonly string[];
  seed: number;
  /** the favoured model, one of the stand-ins' names (simModelName) */
  favour: string;
  blind?: BlindLeniency;
  latencyFloorMs?: number;
  onTrial?: (condition: BiasCondition, trial: number, points: number, seen: { task: string; of: number; maxPoints: number }) => void;
};

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Mean scores and the favoured model's differences of one study's outcomes (bootstrap seeded by `seed`). */
export function biasEstimates(outcomes: readonly TrialOutcome[], models: readonly string[], favour: string, seed: number): Pick<BiasConditionResult, 'scores' | 'differences'> {
  const scoresOf = (m: string) => outcomes.filter((x) => x.model === m).map((x) => x.points / x.maxPoints);
  const estimate = (value: number, [lo, hi]: [number, number]): ScoreEstimate => ({ value, lo, hi });
  const f = scoresOf(favour);
  const scores = Object.fromEntries(models.map((m) => [m, estimate(mean(scoresOf(m)), bootstrapMeanInterval(scoresOf(m), seed))]));
  const differences = Object.fromEntries(models.filter((m) => m !== favour).map((m) => [m, estimate(mean(f) - mean(scoresOf(m)), bootstrapDifferenceInterval(f, scoresOf(m), seed))]));
  return { scores, differences };
}

/** Runs the three studies (operator scoring; the same seed, so the same plan and episodes) and estimates each. */
export async function runBiasExperiment(o: BiasOptions): Promise<BiasResult> {
  const models = Array.from({ length: o.models }, (_, i) => simModelName(i));
  if (!models.includes(o.favour)) throw new UserError(unknownNameMessage('stand-in model', o.favour, models));
  if (models.length < 2) throw new UserError('the bias experiment needs at least two stand-in models (--models 2 or more)');
  const blind = o.blind ?? 'half';
  const conditions: BiasConditionResult[] = [];
  for (const condition of BIAS_CONDITIONS) {
    const leniency: LeniencyCount = { retries: 0, credited: 0 };
    const operator = condition === 'unbiased' ? undefined : favouringOperator({ favour: o.favour, blind, seed: o.seed, count: leniency });
    const out = join(o.out, condition);
    mkdirSync(out, { recursive: true });
    const r = await simulateStudy({
      out, models: o.models, trials: o.trials, tasks: o.tasks, scoring: 'operator', seed: o.seed,
      latencyFloorMs: o.latencyFloorMs, operator, unblinded: condition === 'unblinded',
      onTrial: o.onTrial && ((trial, points, seen) => o.onTrial!(condition, trial, points, seen)),
    });
    conditions.push({ condition, ...biasEstimates(r.outcomes, models, o.favour, o.seed), leniency, trials: r.outcomes.length });
  }
  return { favour: o.favour, models, blind, conditions };
}

const pct = (x: number) => (100 * x).toFixed(1);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${pct(x)}`;

/** The results as a Markdown table: a row per condition, each model's score, the favoured model's differences, the operator's leniency. */
export function biasTable(r: BiasResult): string {
  const others = r.models.filter((m) => m !== r.favour);
  const header = ['operator', ...r.models.map((m) => (m === r.favour ? `${m} (favoured)` : m)), ...others.map((m) => `favoured - ${m}`), 'retries', 'credited'];
  const truth = r.conditions.find((c) => c.condition === 'unbiased');
  const rows = r.conditions.map((c) => [
    c.condition === 'blinded' ? `blinded (${r.blind})` : c.condition,
    ...r.models.map((m) => `${pct(c.scores[m].value)} [${pct(c.scores[m].lo)}, ${pct(c.scores[m].hi)}]`),
    ...others.map((m) => {
      const d = c.differences[m];
      const bias = truth && c !== truth ? ` (bias ${signed(d.value - truth.differences[m].value)})` : '';
      return `${signed(d.value)} [${signed(d.lo)}, ${signed(d.hi)}]${bias}`;
    }),
    String(c.leniency.retries), String(c.leniency.credited),
  ]);
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n') + '\n';
}
