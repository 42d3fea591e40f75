/**
 * A study's report in the paper's shape: one row per cell (grouped as the paper's tables), a column
 * per downstream suite or category plus the average, each with its success rate and Wilson 95%
 * interval, the "(+x.x)" delta against the row's reference with a paired-bootstrap 95% interval
 * (episodes paired by task and evaluation seed), the paper's numbers under ours, and whether each of
 * the paper's findings holds here (sign of the delta, and whether its interval excludes zero).
 */
import { bootstrapMeanInterval, wilsonInterval } from '../eval/index.ts';
import { escapeHtml, groupedBarChartSvg, htmlPage, htmlTable } from '../util/index.ts';
import type { CellEvaluation, EpisodeOutcome } from './runner.ts';
import type { Cell, Finding, Study } from './study.ts';

/** A rate with its 95% interval (fractions). */
export type Estimate = { value: number; lo: number; hi: number; n: number };

/** One row of the table: per column (then the average) our rate and the delta against the reference row. */
export type ReportRow = { cell: string; group: string; label: string; vs?: string; rates: Estimate[]; deltas?: Estimate[]; paper?: number[]; paperDeltas?: number[] };

/** One of the paper's findings, checked. */
export type FindingResult = Finding & {
  ours?: Estimate; paper?: number; holds?: boolean; significant?: boolean;
  /** neither row succeeded in a single episode: the study cannot tell the two apart */
  floor?: boolean;
};

/** The report's numbers (results.json). */
export type StudyResults = { name: string; columns: string[]; rows: ReportRow[]; findings: FindingResult[]; missing: string[] };

const BOOTSTRAP_SEED = 15;

function rate(eps: readonly EpisodeOutcome[]): Estimate {
  const k = eps.filter((e) => e.success).length;
  const [lo, hi] = wilsonInterval(k, eps.length);
  return { value: eps.length ? k / eps.length : NaN, lo, hi, n: eps.length };
}

/** Mean of b - a over episodes paired by (task, seed), with a percentile-bootstrap 95% interval of that mean. */
export function pairedDelta(a: readonly EpisodeOutcome[], b: readonly EpisodeOutcome[]): Estimate {
  const key = (e: EpisodeOutcome) => `${e.task}\u0000${e.seed}`;
  const byKey = new Map(a.map((e) => [key(e), e]));
  const d = b.flatMap((e) => {
    const x = byKey.get(key(e));
    return x ? [Number(e.success) - Number(x.success)] : [];
  });
  const [lo, hi] = bootstrapMeanInterval(d, BOOTSTRAP_SEED);
  return { value: d.length ? d.reduce((s, x) => s + x, 0) / d.length : NaN, lo, hi, n: d.length };
}

/** Splits a finding's row reference "group/label" (the label is after the last slash). */
function rowRef(ref: string): { group: string; label: string } {
  const i = ref.lastIndexOf('/');
  return { group: ref.slice(0, i), label: ref.slice(i + 1) };
}

/** The report's numbers from the cells' evaluations (cells without one are listed as missing). */
export function studyResults(s: Study, cells: readonly Cell[], columns: readonly { name: string; tasks: string[] }[], evals: ReadonlyMap<string, CellEvaluation>): StudyResults {
  const episodesOf = (cell: string, tasks?: readonly string[]) => (evals.get(cell)?.episodes ?? []).filter((e) => !tasks || tasks.includes(e.task));
  const find = (group: string, label: string) => cells.find((c) => c.group === group && c.label === label);
  const rows: ReportRow[] = cells.filter((c) => evals.has(c.id)).map((c) => {
    const ref = c.vs ? find(c.group, c.vs) : undefined;
    const parts = [...columns.map((col) => col.tasks), undefined];
    const row: ReportRow = { cell: c.id, group: c.group, label: c.label, vs: c.vs, rates: parts.map((t) => rate(episodesOf(c.id, t))), paper: c.paper };
    if (ref && evals.has(ref.id)) row.deltas = parts.map((t) => pairedDelta(episodesOf(ref.id, t), episodesOf(c.id, t)));
    if (ref?.paper && c.paper) row.paperDeltas = c.paper.map((v, i) => v - ref.paper![i]);
    return row;
  });
  const findings = s.findings.map((f): FindingResult => {
    const a = rowRef(f.a), b = rowRef(f.b);
    const ca = find(a.group, a.label), cb = find(b.group, b.label);
    if (!ca || !cb) throw new Error(`study "${s.name}": finding "${f.claim}" names a row that is not in the study (${!ca ? f.a : f.b})`);
    const paper = ca.paper && cb.paper ? cb.paper.at(-1)! - ca.paper.at(-1)! : undefined;
    if (!evals.has(ca.id) || !evals.has(cb.id)) return { ...f, paper };
    const ours = pairedDelta(episodesOf(ca.id), episodesOf(cb.id));
    const floor = ![...episodesOf(ca.id), ...episodesOf(cb.id)].some((e) => e.success);
    return { ...f, ours, paper, holds: Math.sign(ours.value) === f.sign, significant: f.sign > 0 ? ours.lo > 0 : ours.hi < 0, floor };
  });
  return { name: s.name, columns: [...columns.map((c) => c.name), 'avg'], rows, findings, missing: cells.filter((c) => !evals.has(c.id)).map((c) => c.id) };
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');
const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/** "42.0 [20.1, 66.3] (+3.0 [-10.0, 15.0])": our cell text. */
function cellText(r: Estimate, d?: Estimate): string {
  const base = `${pct(r.value)} [${pct(r.lo)}, ${pct(r.hi)}]`;
  return d && Number.isFinite(d.value) ? `${base} (${signed(100 * d.value)} [${signed(100 * d.lo)}, ${signed(100 * d.hi)}])` : base;
}

function tableRows(res: StudyResults): string[][] {
  const out: string[][] = [];
  let group: string | undefined;
  for (const r of res.rows) {
    const g = r.group === group ? '' : r.group;
    group = r.group;
    out.push([g, r.label, ...r.rates.map((x, i) => cellText(x, r.deltas?.[i]))]);
    if (r.paper) out.push(['', '  paper', ...r.paper.map((v, i) => (r.paperDeltas ? `${v.toFixed(1)} (${signed(r.paperDeltas[i])})` : v.toFixed(1)))]);
  }
  return out;
}

function findingRows(res: StudyResults): string[][] {
  return res.findings.map((f) => [
    f.claim,
    f.ours ? `${signed(100 * f.ours.value)} [${signed(100 * f.ours.lo)}, ${signed(100 * f.ours.hi)}]` : 'not run',
    f.paper === undefined ? '' : signed(f.paper),
    findingVerdict(f),
  ]);
}

/**
 * What a finding's result says: it holds (same sign; significant when the interval excludes 0), it
 * is contradicted (opposite sign, interval excluding 0), or this run cannot tell (the interval
 * includes 0; or neither row succeeded once, a floor where no difference can show).
 */
export function findingVerdict(f: FindingResult): string {
  if (f.holds === undefined || !f.ours) return '';
  if (f.holds) return f.significant ? 'holds (interval excludes 0)' : 'same sign, interval includes 0';
  if (f.floor) return 'not resolved: no success in either row';
  if (f.ours.lo > 0 || f.ours.hi < 0) return 'does not hold (opposite sign, interval excludes 0)';
  if (f.ours.lo === 0 && f.ours.hi === 0) return 'no difference measured';
  return `not resolved (${f.ours.value === 0 ? 'no difference' : 'opposite sign'}, interval includes 0)`;
}

const FINDINGS_HEADER = ['finding of the paper', 'ours: delta avg [95% CI]', 'paper: delta avg', 'here'];

function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** The report as Markdown; `notes` (the command, wall time, recipe) go under the title. */
export function reportMarkdown(res: StudyResults, notes: readonly string[] = []): string {
  return [
    `# ${res.name}`, '', ...notes.map((n) => `${n}  `), '',
    'Success rate in % with its Wilson 95% interval; "(+x.x [lo, hi])" is the delta against the row named by the table (scratch, or the previous mixture, or the baseline), ' +
    'with a paired-bootstrap 95% interval over episodes paired by task and evaluation seed. The paper\'s numbers are under ours.', '',
    mdTable(['', 'row', ...res.columns], tableRows(res)), '',
    ...(res.findings.length ? ['## The paper\'s findings here', '', mdTable(FINDINGS_HEADER, findingRows(res)), ''] : []),
    ...(res.missing.length ? [`Not evaluated yet: ${res.missing.join(', ')}`, ''] : []),
  ].join('\n');
}

/** Our average next to the paper's, one cluster per row. */
export function reportChartSvg(res: StudyResults): string {
  const groups = res.rows.map((r) => (r.group ? `${r.group} ${r.label}` : r.label));
  const avg = res.rows.map((r) => r.rates.at(-1)!);
  return groupedBarChartSvg(groups, [
    { name: 'ours', values: avg.map((a) => ({ value: Number.isFinite(a.value) ? a.value : 0, lo: a.lo, hi: a.hi })) },
    { name: 'paper', values: res.rows.map((r) => (r.paper ? { value: r.paper.at(-1)! / 100 } : null)) },
  ], { title: `${res.name}: average success`, yLabel: 'success', percent: true });
}

/** The report as one HTML page (tables and the chart). */
export function reportHtml(res: StudyResults, notes: readonly string[] = []): string {
  return htmlPage(res.name, [
    `<h1>${escapeHtml(res.name)}</h1>`, ...notes.map((n) => `<p>${escapeHtml(n)}</p>`),
    '<p>Success rate in % with its Wilson 95% interval; (+x.x [lo, hi]) is the delta against the reference row with a paired-bootstrap 95% interval. The paper\'s numbers are under ours.</p>',
    htmlTable(['', 'row', ...res.columns], tableRows(res)),
    ...(res.findings.length ? ['<h2>The paper\'s findings here</h2>', htmlTable(FINDINGS_HEADER, findingRows(res))] : []),
    reportChartSvg(res),
  ]);
}
