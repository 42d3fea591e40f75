/**
 * A Grouped Blind Ensemble study definition (JSON, zod-validated): the model pool, the tasks with
 * their rubrics, group size K, trials per model N, who scores, rest between groups, and the seed.
 */
import { z } from 'zod';
import { UserError } from '../../util/index.ts';

const name = z.string().min(1).max(100);

/** One stage of a rubric: what must happen, and its points. */
export const stageSchema = z.object({ name, points: z.number().int().positive() }).strict();

/** A task: instruction for the operator, ordered rubric stages (success = every stage). */
export const taskSchema = z.object({ name, instruction: z.string().min(1), rubric: z.array(stageSchema).min(1) }).strict();

export const studySchema = z.object({
  name,
  /** model name -> policy server URL (ws://...) */
  models: z.record(name, z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')).refine((m) => Object.keys(m).length >= 1, 'needs at least one model'),
  tasks: z.array(taskSchema).min(1),
  /** models per group, K (the paper uses 4-8) */
  groupSize: z.number().int().min(1).max(16).default(4),
  /** trials of each model per task, N */
  trialsPerModel: z.number().int().min(1).max(1000),
  /** 'operator': the operator records outcomes; 'judge': a separate judge scores from the trial record */
  scoring: z.enum(['operator', 'judge']).default('operator'),
  /** rest between groups, seconds */
  restSeconds: z.number().int().min(0).default(300),
  seed: z.number().int().min(0).default(0),
}).strict();

export type StudyDefinition = z.output<typeof studySchema>;
export type TaskDefinition = z.output<typeof taskSchema>;

/** Parses a study definition; errors name the field (`source` names the file). */
export function parseStudy(value: unknown, source = 'study'): StudyDefinition {
  const r = studySchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const names = r.data.tasks.map((t) => t.name);
  const dup = names.find((n, k) => names.indexOf(n) !== k);
  if (dup) throw new UserError(`${source}: tasks: the name "${dup}" is used twice`);
  return r.data;
}

/** Points of a fully successful trial of `task`. */
export function maxPoints(task: TaskDefinition): number {
  return task.rubric.reduce((s, x) => s + x.points, 0);
}
