/**
 * A Grouped Blind Ensemble study definition (JSON, zod-validated): the model pool, the tasks with
 * their rubrics, group size K, trials per model N, who scores, rest between groups, and the seed.
 */
import { z } from 'zod';
import { problemsMessage, schemaProblems, UserError } from '../../util/index.ts';

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

/**
 * Parses a study definition; every problem at once, each naming its field, with a "did you mean"
 * for a misspelled one (`source` names the file).
 */
export function parseStudy(value: unknown, source = 'study'): StudyDefinition {
  const r = studySchema.safeParse(value);
  if (!r.success) throw new UserError(problemsMessage(source, schemaProblems(studySchema, r.error)));
  const names = r.data.tasks.map((t) => t.name);
  const dup = names.find((n, k) => names.indexOf(n) !== k);
  if (dup) throw new UserError(`${source}: tasks: the name "${dup}" is used twice`);
  return r.data;
}

/** Points of a fully successful trial of `task`. */
export function maxPoints(task: TaskDefinition): number {
  return task.rubric.reduce((s, x) => s + x.points, 0);
}

/**
 * A commented example study (JSON with comments) that `blind create` accepts as is: every field,
 * what it means, and its default.
 */
export const STUDY_TEMPLATE = `// A Grouped Blind Ensemble study (paper Algorithm 1): \`vlalab blind create --study THIS_FILE --db study.db\`.
// Comments are allowed. Fields marked [default ...] may be left out.
{
  // the study's name, shown on the admin page
  "name": "pick-place-comparison",

  // the model pool: a name (seen only in the final report) -> the WebSocket URL of the policy server that
  // runs it (openpi protocol, e.g. \`vlalab serve --checkpoint RUN --port 8000\`). The operator and judge
  // see only random 3-letter aliases, fresh for every block.
  "models": {
    "baseline": "ws://127.0.0.1:8000",
    "candidate": "ws://127.0.0.1:8001"
  },

  // the tasks; each is run on every group of models
  "tasks": [
    {
      "name": "pick-place",
      // what the operator sets up and reads to the robot
      "instruction": "put the red cube on the plate",
      // ordered rubric stages with whole points; a trial succeeds when it earns every stage
      "rubric": [
        { "name": "grasps the cube", "points": 1 },
        { "name": "cube on the plate", "points": 2 }
      ]
    }
  ],

  // K: models per group; the pool is split into random groups of at most K, and each block runs one
  // group's trials in a shuffled order (the paper uses 4-8) [default 4]
  "groupSize": 2,

  // N: trials of each model on each task
  "trialsPerModel": 10,

  // who scores: "operator" records the points at the end of each trial; "judge" scores afterwards
  // from the trial record, on the judge page [default "operator"]
  "scoring": "operator",

  // rest between groups, in seconds [default 300]
  "restSeconds": 300,

  // seed of the groups, aliases and trial order [default 0]
  "seed": 0
}
`;
