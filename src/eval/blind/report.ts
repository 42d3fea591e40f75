/**
 * De-anonymized exports of a blind study (admin only): one row per trial, the per model and task
 * summary, as CSV or JSON, and the results chart (mean score % per model per task with bootstrap
 * 95% intervals, like the paper's Figures 4 and 5).
 */
import { groupedBarChartSvg } from '../../util/index.ts';
import { type CellResult, summarize } from './stats.ts';
import type { BlindStore, TrialStatus } from './store.ts';

/** One trial of the export. */
export type TrialExport = {
  trial: number; block: number; position: number; task: string; alias: string; model: string; status: TrialStatus;
  points: number | null; maxPoints: number; score: number | null; startedAt: string | null; endedAt: string | null; scoredAt: string | null;
};

/** Every trial, in execution order, with its model. */
export function trialExport(store: BlindStore): TrialExport[] {
  return store.trials().map((t) => ({
    trial: t.id, block: t.block, position: t.position, task: t.task, alias: t.alias, model: t.model, status: t.status,
    points: t.points, maxPoints: t.max_points, score: t.points === null ? null : t.points / t.max_points,
    startedAt: t.started_at, endedAt: t.ended_at, scoredAt: t.scored_at,
  }));
}

/** The whole study as one JSON document: definition, state, progress, trials, statistics. */
export function studyExport(store: BlindStore) {
  const { definition, state } = store.study();
  return { study: definition, state, progress: store.progress(), trials: trialExport(store), summary: summarize(store.outcomes(), definition.seed) };
}

/** RFC 4180 CSV of rows of flat values (header from the first row's keys; `columns` when no rows). */
export function toCsv(rows: readonly Record<string, unknown>[], columns = rows.length ? Object.keys(rows[0]) : []): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}

/** The per model and task summary as flat CSV rows. */
export function summaryRows(cells: readonly CellResult[]): Record<string, unknown>[] {
  return cells.map((c) => ({
    model: c.model, task: c.task, trials: c.trials, successes: c.successes, successRate: c.successRate, successLo95: c.successCi95[0], successHi95: c.successCi95[1],
    meanScore: c.meanScore, scoreLo95: c.scoreCi95[0], scoreHi95: c.scoreCi95[1],
  }));
}

/** Bar chart: mean score per model (bars) per task (clusters) with the bootstrap 95% interval. */
export function resultsChartSvg(cells: readonly CellResult[], title = 'mean score per task (95% bootstrap interval)'): string {
  const tasks = [...new Set(cells.map((c) => c.task))];
  const models = [...new Set(cells.map((c) => c.model))].sort();
  const series = models.map((model) => ({
    name: model,
    values: tasks.map((task) => {
      const c = cells.find((x) => x.model === model && x.task === task);
      return c ? { value: c.meanScore, lo: c.scoreCi95[0], hi: c.scoreCi95[1] } : null;
    }),
  }));
  return groupedBarChartSvg(tasks, series, { title, yLabel: 'score', percent: true });
}
