/** The task catalog: the basic pick-and-place, the four LIBERO-style suites, the multi-stage tasks and the pretraining family. */
import { UserError, unknownNameMessage } from '../util/index.ts';
import { MULTISTAGE_TASKS } from './multistage.ts';
import { PRETRAIN_TASKS } from './pretrain-tasks.ts';
import { SUITE_TASKS } from './suites.ts';
import { PICK_PLACE, type TaskSpec } from './tasks.ts';

const TASKS: readonly TaskSpec[] = [PICK_PLACE, ...SUITE_TASKS, ...MULTISTAGE_TASKS, ...PRETRAIN_TASKS];

/** Every task. */
export function allTasks(): readonly TaskSpec[] {
  return TASKS;
}

/** Names of the suites, in catalog order. */
export function suiteNames(): string[] {
  return [...new Set(TASKS.map((t) => t.suite))];
}

/** The task `name`; unknown names get a "did you mean". */
export function getTask(name: string): TaskSpec {
  const t = TASKS.find((x) => x.name === name);
  if (!t) throw new UserError(unknownNameMessage('task', name, TASKS.map((x) => x.name)));
  return t;
}
