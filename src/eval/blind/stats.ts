/**
 * Statistics of a blind study: per model and task the success rate with a Wilson 95% interval,
 * the mean score (% of rubric points) with a seeded percentile-bootstrap 95% interval, pairwise
 * comparisons of success by the two-sided Fisher exact test, and a ranking by mean score.
 */
import { Rng } from '../../util/index.ts';
import { wilsonInterval } from '../intervals.ts';

/** The two-sided 1 - alpha percentile interval of bootstrap statistics `stats` (sorted in place). */
function percentileInterval(stats: Float64Array, alpha: number): [number, number] {
  stats.sort();
  const at = (q: number) => stats[Math.min(stats.length - 1, Math.max(0, Math.floor(q * stats.length)))];
  return [at(alpha / 2), at(1 - alpha / 2)];
}

/** The mean of one bootstrap resample of `xs` (n draws with replacement). */
function resampledMean(xs: readonly number[], rng: Rng): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[rng.int(xs.length)];
  return s / xs.length;
}

/** Percentile bootstrap interval of the mean of `xs` (B resamples, seeded), two-sided at level 1 - alpha. */
export function bootstrapMeanInterval(xs: readonly number[], seed: number, resamples = 2000, alpha = 0.05): [number, number] {
  if (xs.length === 0) return [NaN, NaN];
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) means[b] = resampledMean(xs, rng);
  return percentileInterval(means, alpha);
}

/**
 * Percentile bootstrap interval of mean(a) - mean(b) for two independent samples: each resample
 * draws a and b with replacement on their own (B resamples, seeded), two-sided at level 1 - alpha.
 */
export function bootstrapDifferenceInterval(a: readonly number[], b: readonly number[], seed: number, resamples = 2000, alpha = 0.05): [number, number] {
  if (a.length === 0 || b.length === 0) return [NaN, NaN];
  const rng = new Rng(seed);
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) diffs[r] = resampledMean(a, rng) - resampledMean(b, rng);
  return percentileInterval(diffs, alpha);
}

function logFactorials(n: number): Float64Array {
  const f = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) f[i] = f[i - 1] + Math.log(i);
  return f;
}

/**
 * Two-sided Fisher exact test of the 2x2 table [[a, b], [c, d]] (successes / failures of two
 * models): the sum of the probabilities of all tables with the same margins that are no more likely
 * than the observed one (with a 1e-7 relative tolerance for ties).
 */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  const n = a + b + c + d;
  const lf = logFactorials(n);
  const r1 = a + b, r2 = c + d, c1 = a + c, c2 = b + d;
  const logP = (x: number) => lf[r1] + lf[r2] + lf[c1] + lf[c2] - lf[n] - lf[x] - lf[r1 - x] - lf[c1 - x] - lf[r2 - c1 + x];
  const observed = logP(a);
  let p = 0;
  for (let x = Math.max(0, c1 - r2); x <= Math.min(r1, c1); x++) {
    const lp = logP(x);
    if (lp <= observed + 1e-7 * Math.abs(observed) + 1e-12) p += Math.exp(lp);
  }
  return Math.min(1, p);
}

/** One trial's outcome. */
export type TrialOutcome = { model: string; task: string; points: number; maxPoints: number };

/** Results of one model on one task. */
export type CellResult = {
  model: string; task: string; trials: number; successes: number; successRate: number; successCi95: [number, number];
  meanScore: number; scoreCi95: [number, number];
};

/** Per model and task results, pairwise tests per task, and a ranking by mean score over all tasks. */
export function summarize(outcomes: readonly TrialOutcome[], seed = 0): {
  cells: CellResult[];
  pairwise: { task: string; a: string; b: string; p: number; test: 'fisher-exact-two-sided' }[];
  ranking: { model: string; meanScore: number }[];
} {
  const models = [...new Set(outcomes.map((o) => o.model))].sort();
  const tasks = [...new Set(outcomes.map((o) => o.task))].sort();
  const cells: CellResult[] = [];
  for (const task of tasks) {
    for (const model of models) {
      const mine = outcomes.filter((o) => o.model === model && o.task === task);
      if (mine.length === 0) continue;
      const k = mine.filter((o) => o.points >= o.maxPoints).length;
      const scores = mine.map((o) => o.points / o.maxPoints);
      cells.push({
        model, task, trials: mine.length, successes: k, successRate: k / mine.length, successCi95: wilsonInterval(k, mine.length),
        meanScore: scores.reduce((s, x) => s + x, 0) / scores.length, scoreCi95: bootstrapMeanInterval(scores, seed),
      });
    }
  }
  const pairwise = tasks.flatMap((task) => {
    const row = cells.filter((c) => c.task === task);
    return row.flatMap((x, i) => row.slice(i + 1).map((y) => ({
      task, a: x.model, b: y.model, p: fisherExact(x.successes, x.trials - x.successes, y.successes, y.trials - y.successes), test: 'fisher-exact-two-sided' as const,
    })));
  });
  const ranking = models.map((model) => {
    const mine = cells.filter((c) => c.model === model);
    return { model, meanScore: mine.reduce((s, c) => s + c.meanScore, 0) / Math.max(1, mine.length) };
  }).sort((x, y) => y.meanScore - x.meanScore);
  return { cells, pairwise, ranking };
}
