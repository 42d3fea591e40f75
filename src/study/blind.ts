/**
 * Figures 4-5: the point-scored "real-robot" evaluation of a study's models through the Grouped
 * Blind Ensemble service (eval/blind), with the simulated panda7 as the robot and the scripted
 * operator and judge. Each model (a finished cell's run) is served over the openpi protocol; the
 * dispatcher forwards the robot's sessions to the model of the next trial in the blinded queue;
 * the judge scores from the trial records. Scores are % of the rubric's points, as in the paper.
 */
import { join } from 'node:path';
import { BlindStore, bootstrapMeanInterval, driveStudy, SimOracle, simStudyDefinition, startBlindApi, startDispatcher } from '../eval/index.ts';
import { imageKeysFor, makeModelPolicy, type RunningServer, startServer } from '../serving/index.ts';
import { loadPolicyParts } from '../training/index.ts';
import { count, escapeHtml, groupedBarChartSvg, htmlPage, htmlTable, UserError, unknownNameMessage } from '../util/index.ts';

/** A figure: which cells of which study preset are compared, and the paper's bars (% of points). */
export type BlindFigure = { name: string; title: string; study: string; models: { label: string; cell: string; paper: number[] }[] };

const TASKS = ['stack-bowls', 'pick-to-drawer', 'wipe-board', 'water-plant'];

/** The paper's Figures 4 and 5 (bar labels transcribed in shared/paper/tables.json), over unfrozen cells. */
export const BLIND_FIGURES: Readonly<Record<string, BlindFigure>> = Object.freeze({
  figure4: {
    name: 'figure4', title: 'Figure 4: blind evaluation of the action spaces (pretrained, unfrozen)', study: 'table1',
    models: [
      { label: 'World-Delta', cell: 'unfrozen-vlm-world-delta-pretrain', paper: [0, 0, 0, 0, 0] },
      { label: 'World-Rel', cell: 'unfrozen-vlm-world-rel-pretrain', paper: [33, 10, 65, 70, 45] },
      { label: 'EEF-Delta', cell: 'unfrozen-vlm-eef-delta-pretrain', paper: [0, 0, 0, 0, 0] },
      { label: 'EEF-Rel', cell: 'unfrozen-vlm-eef-rel-pretrain', paper: [23, 24, 55, 77, 44] },
    ],
  },
  figure5: {
    name: 'figure5', title: 'Figure 5: blind evaluation of the pretraining mixtures (EEF-Rel, unfrozen)', study: 'table3',
    models: [
      { label: 'Scratch', cell: 'unfrozen-vlm-scratch', paper: [27, 24, 25, 48, 31] },
      { label: 'D1', cell: 'unfrozen-vlm-d1', paper: [30, 30, 55, 77, 48] },
      { label: 'D2', cell: 'unfrozen-vlm-d2', paper: [43, 26, 60, 43, 43] },
      { label: 'D3', cell: 'unfrozen-vlm-d3', paper: [23, 20, 58, 53, 39] },
      { label: 'D4', cell: 'unfrozen-vlm-d4', paper: [23, 24, 55, 77, 45] },
    ],
  },
});

/** The figure `name`; unknown names get a "did you mean". */
export function blindFigure(name: string): BlindFigure {
  const f = BLIND_FIGURES[name];
  if (!f) throw new UserError(unknownNameMessage('figure', name, Object.keys(BLIND_FIGURES)));
  return f;
}

/** One bar: a model's mean score on a task (or "avg"), % of the rubric's points, with a bootstrap 95% interval. */
export type BlindBar = { model: string; task: string; trials: number; score: number; lo: number; hi: number; paper?: number };

/**
 * Runs figure `f` on the cells in `studyDir` (each a finished run) with `trials` trials per model
 * and task, in a fresh blind study at `out`/study.db. Resolves with one bar per model and task, plus "avg".
 */
export async function runBlindFigure(f: BlindFigure, studyDir: string, o: { out: string; trials: number; tasks?: readonly string[]; seed?: number }): Promise<BlindBar[]> {
  const tasks = o.tasks ?? TASKS;
  const seed = o.seed ?? 0;
  const servers: { close(): Promise<void> }[] = [];
  const store = new BlindStore(join(o.out, 'study.db'));
  try {
    const urls: Record<string, string> = {};
    for (const m of f.models) {
      const parts = loadPolicyParts(join(studyDir, 'cells', m.cell));
      const policy = makeModelPolicy({ ...parts, imageKeys: imageKeysFor(parts.meta.cameras), seed, defaultPrompt: parts.meta.instruction });
      await policy.warmup?.();
      const server: RunningServer = await startServer(policy, { port: 0 });
      servers.push(server);
      urls[m.label] = server.url;
    }
    const tokens = store.create(simStudyDefinition({ urls, tasks, trials: o.trials, scoring: 'judge', seed, groupSize: f.models.length }));
    const api = await startBlindApi(store);
    servers.push(api);
    const dispatcher = await startDispatcher(store);
    servers.push(dispatcher);
    const r = await fetch(`${api.url}/api/admin/start`, { method: 'POST', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' }, body: '{}' });
    if (r.status !== 200) throw new Error(`blind study: start answered ${r.status} ${await r.text()}`);
    await driveStudy({ api: api.url, robot: dispatcher.url, tokens, oracle: new SimOracle(), seed, imageSize: 64 });
    const outcomes = store.outcomes();
    return f.models.flatMap((m) => [...tasks, 'avg'].map((task): BlindBar => {
      const mine = outcomes.filter((x) => x.model === m.label && (task === 'avg' || x.task === task));
      const scores = mine.map((x) => x.points / x.maxPoints);
      const [lo, hi] = bootstrapMeanInterval(scores, seed);
      const paperIndex = task === 'avg' ? TASKS.length : TASKS.indexOf(task); // the paper's avg is over its four tasks
      return { model: m.label, task, trials: mine.length, score: scores.reduce((s, x) => s + x, 0) / Math.max(1, scores.length), lo, hi, paper: task === 'avg' && tasks.length !== TASKS.length ? undefined : m.paper[paperIndex] };
    }));
  } finally {
    for (const s of servers.reverse()) await s.close();
    store.close();
  }
}

/** The figure's bars as a Markdown table (ours with interval, the paper's bar beside) and an HTML page with the chart. */
export function blindFigureReport(f: BlindFigure, bars: readonly BlindBar[]): { markdown: string; html: string; svg: string } {
  const tasks = [...new Set(bars.map((b) => b.task))];
  const cell = (b: BlindBar | undefined) => (b ? `${(100 * b.score).toFixed(0)} [${(100 * b.lo).toFixed(0)}, ${(100 * b.hi).toFixed(0)}]${b.paper === undefined ? '' : ` (paper ${b.paper})`}` : '');
  const rows = f.models.map((m) => [m.label, ...tasks.map((t) => cell(bars.find((b) => b.model === m.label && b.task === t)))]);
  const header = ['model', ...tasks];
  const trials = bars[0]?.trials ?? 0;
  const note = `Score in % of the rubric's points over ${count(trials, 'trial')} per model and task (avg: over all its tasks), with a bootstrap 95% interval, through the Grouped Blind Ensemble service (judge scoring, simulated panda7).`;
  const markdown = [`# ${f.title}`, '', note, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''].join('\n');
  const svg = groupedBarChartSvg(tasks, [
    ...f.models.map((m) => ({ name: m.label, values: tasks.map((t) => { const b = bars.find((x) => x.model === m.label && x.task === t); return b ? { value: b.score, lo: b.lo, hi: b.hi } : null; }) })),
  ], { title: f.title, yLabel: 'score', percent: true });
  return { markdown, svg, html: htmlPage(f.title, [`<h1>${escapeHtml(f.title)}</h1>`, `<p>${escapeHtml(note)}</p>`, htmlTable(header, rows), svg]) };
}
