/**
 * Study presets table1 .. table5: the paper's Tables I-V (section V) as study files, with the
 * paper's numbers beside each row (transcribed in shared/paper/tables.json from arXiv 2602.09722v1,
 * success rates in %) and the findings the paper draws from each table. LIBERO's four suites are the
 * panda7 suites; RoboCasa's categories are the multi-stage tasks (pick_place: stack-bowls,
 * doors_drawers: pick-to-drawer, other: wipe-board and water-plant).
 */
import type { EefMode } from '../actions/index.ts';
import { UserError, unknownNameMessage } from '../util/index.ts';
import type { Finding, Recipe } from './study.ts';

const LIBERO = ['spatial', 'object', 'goal', 'long'].map((suite) => ({ name: suite, suite }));
const ROBOCASA = [
  { name: 'pick_place', tasks: ['stack-bowls'] },
  { name: 'doors_drawers', tasks: ['pick-to-drawer'] },
  { name: 'other', tasks: ['wipe-board', 'water-plant'] },
];

const BASELINE: Recipe = { eefMode: 'eef-rel', corpus: 'D4', freeze: false, pState: 0.2, pView: 0.2, curriculum: 'two-stage' };

/**
 * Scales: ci runs in the test suite in about a minute (every cell, numbers meaningless); laptop is
 * sized for Table I in under 3 hours on a 2-core CPU with `--jobs 2` (the `laptop` training preset,
 * the best recipe measured for a suite in BENCHMARKS.md; 8,000 pretraining and 4,000 fine-tuning
 * steps, a tenth of what that recipe needs on one suite: STUDY.md says what this scale can resolve).
 */
const SCALES = {
  ci: {
    downstream: { tasksPerColumn: 1, nShot: 1, episodes: 1, maxSteps: 12 },
    budgets: { trainPreset: 'debug', pretrainSteps: 4, finetuneSteps: 4, batchSize: 4, checkpointEvery: 2, corpusEpisodes: 1, corpusTasksPerPart: 1, executeSteps: 8 },
  },
  laptop: {
    downstream: { tasksPerColumn: 10, nShot: 5, episodes: 2 },
    budgets: { trainPreset: 'laptop', pretrainSteps: 8000, finetuneSteps: 4000, batchSize: 32, checkpointEvery: 2000, corpusEpisodes: 4 },
  },
};

/** Tables II/IV have 4 tasks, not 40: more episodes per task for the same evaluation time. */
const SCALES_MULTISTAGE = { ...SCALES, laptop: { ...SCALES.laptop, downstream: { ...SCALES.laptop.downstream, episodes: 10 } } };

const PROTOCOL = { nShot: 5, episodes: 10, evalSeed: 0, demoSeed: 100000 };
/** A preset's own budgets (a study file written from it without --scale) are the laptop scale's. */
const BUDGETS = SCALES.laptop.budgets;

const MODES: [EefMode, string][] = [['world-rel', 'World-Rel'], ['world-delta', 'World-Delta'], ['eef-rel', 'EEF-Rel'], ['eef-delta', 'EEF-Delta']];

// Table I (frozen and unfrozen) and Table II, [scratch, pretrain] rows per mode: columns then avg
const T1: Record<'frozen' | 'unfrozen', Record<EefMode, [number[], number[]]>> = {
  unfrozen: {
    'world-rel': [[90.8, 93.6, 78.2, 74.8, 84.4], [89.8, 86.8, 88.4, 68.8, 83.5]],
    'world-delta': [[90.4, 93.0, 82.8, 73.6, 85.0], [86.2, 92.0, 88.8, 71.0, 84.5]],
    'eef-rel': [[87.6, 93.0, 76.4, 70.6, 81.9], [86.0, 90.0, 88.6, 73.4, 84.5]],
    'eef-delta': [[87.6, 93.0, 72.0, 67.0, 79.9], [85.6, 89.8, 87.4, 66.2, 82.3]],
  },
  frozen: {
    'world-rel': [[72.2, 85.0, 75.4, 43.6, 69.1], [81.2, 89.8, 75.0, 52.6, 74.7]],
    'world-delta': [[74.2, 75.0, 75.0, 42.6, 66.7], [82.6, 89.6, 73.8, 53.2, 74.8]],
    'eef-rel': [[73.0, 84.2, 70.6, 39.6, 66.9], [79.8, 90.6, 76.6, 53.2, 75.1]],
    'eef-delta': [[73.2, 79.8, 70.4, 41.0, 66.1], [77.8, 88.2, 73.6, 48.4, 72.0]],
  },
};
const T2: Record<EefMode, [number[], number[]]> = {
  'world-rel': [[20.0, 60.0, 40.0, 38.3], [22.5, 58.3, 45.0, 40.8]],
  'world-delta': [[21.0, 62.3, 46.0, 41.8], [23.8, 60.0, 45.0, 41.7]],
  'eef-rel': [[33.0, 57.3, 47.4, 45.1], [35.3, 62.3, 54.4, 50.0]],
  'eef-delta': [[26.0, 63.7, 44.8, 43.3], [36.3, 56.7, 49.0, 46.7]],
};
const T3: Record<'frozen' | 'unfrozen', Record<string, number[]>> = {
  frozen: { Scratch: [73.0, 84.2, 70.6, 39.6, 66.9], D1: [87.6, 88.2, 78.8, 54.6, 77.3], D2: [84.4, 86.0, 77.4, 47.4, 73.8], D3: [76.0, 82.2, 79.0, 51.2, 72.1], D4: [79.8, 90.6, 76.6, 53.2, 75.1] },
  unfrozen: { Scratch: [87.6, 93.0, 76.4, 70.6, 81.9], D1: [89.2, 89.2, 92.8, 74.4, 86.4], D2: [86.2, 94.6, 88.8, 66.4, 84.0], D3: [87.4, 91.4, 86.2, 69.6, 83.7], D4: [86.0, 90.0, 88.6, 73.4, 84.5] },
};
const T4: Record<string, number[]> = { Scratch: [33.0, 57.3, 47.4, 45.1], D1: [42.0, 72.3, 54.2, 54.7], D2: [38.5, 60.5, 47.4, 48.8], D3: [36.3, 56.7, 56.0, 49.6], D4: [35.3, 62.3, 54.4, 50.0] };
const T5: [number, number, 'two-stage' | 'stage2-only', number[]][] = [
  [0.2, 0.2, 'two-stage', [86.0, 90.0, 88.6, 73.4, 84.5]],
  [0.0, 0.2, 'two-stage', [88.2, 96.0, 87.6, 69.0, 85.2]],
  [0.5, 0.2, 'two-stage', [88.8, 90.4, 86.8, 70.0, 84.0]],
  [0.2, 0.0, 'two-stage', [87.0, 92.2, 89.2, 74.0, 85.6]],
  [0.2, 0.5, 'two-stage', [85.8, 93.2, 86.6, 72.2, 84.5]],
  [0.2, 0.2, 'stage2-only', [88.2, 93.8, 87.0, 74.0, 85.8]],
];

type Row = Partial<Recipe> & { group: string; label: string; vs?: string; paper?: number[] };

function actionSpaceRows(freezes: ('frozen' | 'unfrozen')[], paper: (f: 'frozen' | 'unfrozen', m: EefMode) => [number[], number[]]): Row[] {
  return freezes.flatMap((f) => MODES.flatMap(([mode, name]) => {
    const group = `${f === 'frozen' ? 'Frozen' : 'Unfrozen'} VLM / ${name}`;
    const [scratch, pre] = paper(f, mode);
    return [
      { group, label: 'Scratch', eefMode: mode, corpus: 'none' as const, freeze: f === 'frozen', paper: scratch },
      { group, label: 'Pretrain', vs: 'Scratch', eefMode: mode, corpus: 'D4' as const, freeze: f === 'frozen', paper: pre },
    ];
  }));
}

function mixtureRows(freezes: ('frozen' | 'unfrozen')[], paper: (f: 'frozen' | 'unfrozen', label: string) => number[]): Row[] {
  return freezes.flatMap((f) => {
    const group = freezes.length > 1 ? `${f === 'frozen' ? 'Frozen' : 'Unfrozen'} VLM` : '';
    const labels = ['Scratch', 'D1', 'D2', 'D3', 'D4'];
    return labels.map((label, i) => ({
      group, label, ...(i > 0 ? { vs: labels[i - 1] } : {}), corpus: (i === 0 ? 'none' : label) as Recipe['corpus'], freeze: f === 'frozen', paper: paper(f, label),
    }));
  });
}

const f = (claim: string, a: string, b: string, sign: 1 | -1): Finding => ({ claim, a, b, sign });
const pretrainFindings = (group: (m: string) => string, modes: string[], sign: 1 | -1, what: string): Finding[] =>
  modes.map((m) => f(`${what}: pretraining ${sign > 0 ? 'helps' : 'hurts'} ${m}`, `${group(m)}/Scratch`, `${group(m)}/Pretrain`, sign));

const PRESETS: Record<string, () => Record<string, unknown>> = {
  table1: () => ({
    name: 'Table I: LIBERO-style 5-shot transfer by action space', table: 'table1', baseline: BASELINE,
    rows: actionSpaceRows(['frozen', 'unfrozen'], (fr, m) => T1[fr][m]),
    downstream: { columns: LIBERO, ...PROTOCOL }, budgets: BUDGETS, scales: SCALES,
    findings: [
      ...pretrainFindings((m) => `Unfrozen VLM / ${m}`, ['World-Rel', 'World-Delta'], -1, 'unfrozen'),
      ...pretrainFindings((m) => `Unfrozen VLM / ${m}`, ['EEF-Rel', 'EEF-Delta'], 1, 'unfrozen'),
      ...pretrainFindings((m) => `Frozen VLM / ${m}`, ['World-Rel', 'World-Delta', 'EEF-Rel', 'EEF-Delta'], 1, 'frozen'),
      f('unfrozen, from scratch: world-frame (World-Rel) beats EEF-frame (EEF-Rel)', 'Unfrozen VLM / EEF-Rel/Scratch', 'Unfrozen VLM / World-Rel/Scratch', 1),
    ],
  }),
  table2: () => ({
    name: 'Table II: multi-stage transfer by action space', table: 'table2', baseline: BASELINE,
    rows: actionSpaceRows(['unfrozen'], (_, m) => T2[m]).map((r) => ({ ...r, group: r.group.replace('Unfrozen VLM / ', '') })),
    downstream: { columns: ROBOCASA, ...PROTOCOL }, budgets: BUDGETS, scales: SCALES_MULTISTAGE,
    findings: [...pretrainFindings((m) => m, ['EEF-Rel', 'EEF-Delta', 'World-Rel'], 1, 'multi-stage'), f('multi-stage: pretrained EEF-Rel beats pretrained World-Rel', 'World-Rel/Pretrain', 'EEF-Rel/Pretrain', 1)],
  }),
  table3: () => ({
    name: 'Table III: LIBERO-style 5-shot transfer by pretraining mixture (EEF-Rel)', table: 'table3', baseline: BASELINE,
    rows: mixtureRows(['frozen', 'unfrozen'], (fr, label) => T3[fr][label]),
    downstream: { columns: LIBERO, ...PROTOCOL }, budgets: BUDGETS, scales: SCALES,
    findings: [
      f('frozen: D1 beats scratch', 'Frozen VLM/Scratch', 'Frozen VLM/D1', 1), f('unfrozen: D1 beats scratch', 'Unfrozen VLM/Scratch', 'Unfrozen VLM/D1', 1),
      f('frozen: adding EEF embodiments (D2) hurts', 'Frozen VLM/D1', 'Frozen VLM/D2', -1), f('unfrozen: adding EEF embodiments (D2) hurts', 'Unfrozen VLM/D1', 'Unfrozen VLM/D2', -1),
      f('frozen: the full mixture D4 does not surpass D1', 'Frozen VLM/D1', 'Frozen VLM/D4', -1), f('frozen: joint data (D4) recovers part of the loss over D3', 'Frozen VLM/D3', 'Frozen VLM/D4', 1),
    ],
  }),
  table4: () => ({
    name: 'Table IV: multi-stage transfer by pretraining mixture (EEF-Rel)', table: 'table4', baseline: BASELINE,
    rows: mixtureRows(['unfrozen'], (_, label) => T4[label]),
    downstream: { columns: ROBOCASA, ...PROTOCOL }, budgets: BUDGETS, scales: SCALES_MULTISTAGE,
    findings: [f('D1 beats scratch', '/Scratch', '/D1', 1), f('adding EEF embodiments (D2) hurts', '/D1', '/D2', -1), f('D4 stays below D1', '/D1', '/D4', -1)],
  }),
  table5: () => ({
    name: 'Table V: regularization and schedule (EEF-Rel, D4, unfrozen)', table: 'table5', baseline: BASELINE,
    rows: T5.map(([pState, pView, curriculum, paper], i) => ({
      group: '', label: i === 0 ? 'baseline' : `p_state ${pState}, p_view ${pView}, ${curriculum}`, ...(i > 0 ? { vs: 'baseline' } : {}), pState, pView, curriculum, paper,
    })),
    downstream: { columns: LIBERO, ...PROTOCOL }, budgets: BUDGETS, scales: SCALES,
    findings: [
      f('no view dropout is at least as good (p_view 0)', '/baseline', '/p_state 0.2, p_view 0, two-stage', 1),
      f('heavy state dropout hurts (p_state 0.5)', '/baseline', '/p_state 0.5, p_view 0.2, two-stage', -1),
      f('stage 2 only beats the two-stage curriculum', '/baseline', '/p_state 0.2, p_view 0.2, stage2-only', 1),
    ],
  }),
};

/** Names of the study presets. */
export function studyPresetNames(): string[] {
  return Object.keys(PRESETS);
}

/** The study file of preset `name` (unparsed, like a file's contents). */
export function studyPreset(name: string): Record<string, unknown> {
  const p = PRESETS[name];
  if (!p) throw new UserError(unknownNameMessage('study preset', name, studyPresetNames()));
  return p();
}
