/**
 * A study file: a baseline recipe, the rows that vary it (explicit rows, or the product of named
 * axes), the downstream protocol (n-shot fine-tuning on panda7, evaluation columns of tasks,
 * episodes and seeds), budgets per stage, and scales (ci, laptop) that override protocol and budgets.
 * Parsed once by zod; `expandStudy` turns it into cells and the pretraining runs they share.
 */
import { z } from 'zod';
import { EEF_MODES } from '../actions/index.ts';
import { problemsMessage, schemaProblems, UserError } from '../util/index.ts';

/** One training recipe: what a row of a table varies. */
export const recipeSchema = z.object({
  /** EEF parameterization of the action chunk, in pretraining and fine-tuning */
  eefMode: z.enum(EEF_MODES),
  /** pretraining corpus, or none (from scratch: fine-tuning starts from a fresh init) */
  corpus: z.enum(['none', 'D1', 'D2', 'D3', 'D4']),
  /** keep the semantic expert frozen while fine-tuning */
  freeze: z.boolean(),
  /** state dropout of pretraining [0.2] */
  pState: z.number().min(0).max(1),
  /** per-view dropout of pretraining [0.2] */
  pView: z.number().min(0).max(1),
  /** pretraining curriculum: two-stage (semantic expert frozen first) or stage2-only */
  curriculum: z.enum(['two-stage', 'stage2-only']),
}).strict();

/** A training recipe. */
export type Recipe = z.infer<typeof recipeSchema>;

const rowSchema = recipeSchema.partial().extend({
  /** row label, unique within its group (e.g. "Scratch", "D1") */
  label: z.string().min(1),
  /** group of rows (e.g. "Frozen VLM / EEF-Relative"); deltas compare rows of one group */
  group: z.string().default(''),
  /** label of the row of the same group this row's "(+x.x)" deltas are against */
  vs: z.string().optional(),
  /** the paper's numbers for this row, one per column then the average (tables.json) */
  paper: z.array(z.number()).optional(),
}).strict();

const columnSchema = z.object({
  /** column header (e.g. "spatial", "doors_drawers") */
  name: z.string().min(1),
  /** every task of this sim suite ... */
  suite: z.string().optional(),
  /** ... or these tasks */
  tasks: z.array(z.string()).optional(),
}).strict().refine((c) => !c.suite !== !c.tasks, { message: 'a column names exactly one of suite or tasks' });

const downstreamSchema = z.object({
  /** evaluation columns; fine-tuning uses the union of their tasks (multi-task, as the paper) */
  columns: z.array(columnSchema).min(1),
  /** use only the first N tasks of each column (small scales) */
  tasksPerColumn: z.number().int().positive().optional(),
  /** demonstrations per task for fine-tuning [5] */
  nShot: z.number().int().positive(),
  /** evaluation episodes per task */
  episodes: z.number().int().positive(),
  /** seed of the first evaluation episode; every cell uses the same seeds (pairs for the deltas) */
  evalSeed: z.number().int().min(0),
  /** end evaluation episodes after this many control steps (small scales; default: each task's budget) */
  maxSteps: z.number().int().positive().optional(),
  /** seed of the first fine-tuning demonstration (kept apart from the evaluation seeds) */
  demoSeed: z.number().int().min(0),
}).strict();

const budgetsSchema = z.object({
  /** training preset the runs start from (vlalab train --preset) */
  trainPreset: z.string().min(1),
  /** model config (default: the preset's) */
  model: z.string().optional(),
  /** optimizer steps of each pretraining run */
  pretrainSteps: z.number().int().positive(),
  /** optimizer steps of each fine-tuning run */
  finetuneSteps: z.number().int().positive(),
  /** samples per optimizer step */
  batchSize: z.number().int().positive(),
  /** checkpoint every N steps (a killed study resumes from the last one) */
  checkpointEvery: z.number().int().positive(),
  /** recorded pretraining episodes per task of a corpus part */
  corpusEpisodes: z.number().int().positive(),
  /** record only the first N tasks of each corpus part (small scales) */
  corpusTasksPerPart: z.number().int().positive().optional(),
  /** actions of each chunk executed before re-planning in evaluation (default: the preset's) */
  executeSteps: z.number().int().positive().optional(),
}).strict();

const scaleSchema = z.object({ downstream: downstreamSchema.partial().optional(), budgets: budgetsSchema.partial().optional() }).strict();

/** The study file. */
export const studySchema = z.object({
  /** study name (the report's title) */
  name: z.string().min(1),
  /** the paper's table this study mirrors (report wording), if any */
  table: z.string().optional(),
  /** recipe every row starts from */
  baseline: recipeSchema,
  /** explicit rows (each overrides the baseline) ... */
  rows: z.array(rowSchema).optional(),
  /** ... or named axes whose product gives the rows (first row is the delta reference) */
  axes: z.object(Object.fromEntries(Object.entries(recipeSchema.shape).map(([k, v]) => [k, z.array(v).min(1).optional()])) as { [K in keyof Recipe]: z.ZodOptional<z.ZodArray<(typeof recipeSchema.shape)[K]>> }).strict().optional(),
  downstream: downstreamSchema,
  budgets: budgetsSchema,
  /** training seed of every run (matched across cells) */
  seed: z.number().int().min(0).default(0),
  /** overrides of downstream and budgets by scale name (--scale) */
  scales: z.record(z.string(), scaleSchema).default({}),
  /** findings of the paper to check: `a` vs `b` rows ("group/label"), expected sign of b - a on the average */
  findings: z.array(z.object({ claim: z.string(), a: z.string(), b: z.string(), sign: z.union([z.literal(1), z.literal(-1)]) }).strict()).default([]),
}).strict();

/** A parsed study file. */
export type Study = z.infer<typeof studySchema>;
/** A study's finding to check. */
export type Finding = Study['findings'][number];

/** Parses a study (file contents or a preset) and applies scale `scale`; errors name every bad field. */
export function parseStudy(value: unknown, source: string, scale?: string): Study {
  const r = studySchema.safeParse(value);
  if (!r.success) throw new UserError(problemsMessage(source, schemaProblems(studySchema, r.error)));
  const s = r.data;
  if (!s.rows === !s.axes) throw new UserError(`${source}: give exactly one of "rows" (explicit) or "axes" (their product)`);
  if (scale === undefined) return s;
  const o = s.scales[scale];
  if (!o) throw new UserError(`${source}: no scale "${scale}"; scales: ${Object.keys(s.scales).join(', ') || '(none)'}`);
  return { ...s, downstream: { ...s.downstream, ...o.downstream }, budgets: { ...s.budgets, ...o.budgets } };
}

/** One cell of the study: a row, its recipe, its pretraining run (if any). */
export type Cell = { id: string; group: string; label: string; vs?: string; paper?: number[]; recipe: Recipe; pretrain?: string };

/** A shared pretraining run: its key (directory name) and recipe. */
export type PretrainRun = { key: string; recipe: Recipe };

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-|-$/g, '');

/** Key of the pretraining run a recipe needs (cells with equal keys share it), or undefined for scratch. */
export function pretrainKey(r: Recipe): string | undefined {
  if (r.corpus === 'none') return undefined;
  return `${r.corpus}-${r.eefMode}-ps${r.pState}-pv${r.pView}-${r.curriculum}`;
}

function axisRows(s: Study): z.infer<typeof rowSchema>[] {
  const axes = Object.entries(s.axes ?? {}) as [keyof Recipe, unknown[]][];
  let rows: Partial<Recipe>[] = [{}];
  for (const [k, values] of axes) rows = rows.flatMap((r) => values.map((v) => ({ ...r, [k]: v })));
  return rows.map((r) => ({ ...r, group: '', label: Object.values(r).map(String).join(' ') || 'baseline' }));
}

/** The cells (in row order) and the shared pretraining runs of study `s`. */
export function expandStudy(s: Study): { cells: Cell[]; pretrains: PretrainRun[] } {
  const rows = s.rows ?? axisRows(s);
  const cells: Cell[] = [];
  const ids = new Set<string>();
  for (const row of rows) {
    const { label, group, vs, paper, ...over } = row;
    const r = recipeSchema.safeParse({ ...s.baseline, ...over });
    if (!r.success) throw new UserError(problemsMessage(`study "${s.name}" row ${group ? `${group}/` : ''}${label}`, schemaProblems(recipeSchema, r.error)));
    const id = slug(group ? `${group}-${label}` : label);
    if (ids.has(id)) throw new UserError(`study "${s.name}": two rows are both "${group ? `${group}/` : ''}${label}"; give each row of a group its own label`);
    ids.add(id);
    cells.push({ id, group, label, vs: vs ?? (s.axes && cells.length > 0 ? cells[0].label : undefined), paper, recipe: r.data, pretrain: pretrainKey(r.data) });
  }
  for (const c of cells) {
    if (c.vs && !cells.some((x) => x.group === c.group && x.label === c.vs)) throw new UserError(`study "${s.name}": row ${c.group}/${c.label} compares with "${c.vs}", which is not a row of its group`);
  }
  const pretrains = new Map<string, PretrainRun>();
  for (const c of cells) if (c.pretrain && !pretrains.has(c.pretrain)) pretrains.set(c.pretrain, { key: c.pretrain, recipe: c.recipe });
  return { cells, pretrains: [...pretrains.values()] };
}
