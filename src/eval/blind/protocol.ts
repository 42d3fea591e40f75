/**
 * Algorithm 1 of the paper (Grouped Blind Ensemble Protocol), as a pure, seeded plan:
 *
 *   divide the model pool M into random non-overlapping groups G_1..G_m of size <= K
 *   for each task tau:
 *     for each group G_j:
 *       H <- Anonymize(G_j)                 fresh random aliases for this block
 *       Q <- Shuffle(N trials of each alias)
 *       run Q in order; rest before the next group
 *
 * The plan is a list of blocks (task, group, alias -> model, queue of aliases); the service
 * executes it trial by trial. Aliases are random 3-letter codes, unique across the whole study, so
 * an operator can never link two blocks' aliases to one model.
 */
import { Rng } from '../../util/index.ts';
import type { StudyDefinition } from './study.ts';

/** One block: a task run on one group under fresh aliases. */
export type Block = { index: number; task: string; group: number; aliases: Record<string, string>; queue: string[]; restAfter: boolean };

/** The whole plan of a study. */
export type StudyPlan = { groups: string[][]; blocks: Block[]; trials: number };

const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ'; // no I or O (read as 1 and 0)

/** The plan of `study` (deterministic in study.seed). */
export function planStudy(study: StudyDefinition): StudyPlan {
  const rng = new Rng(study.seed);
  const models = rng.shuffle(Object.keys(study.models).sort());
  const k = study.groupSize;
  // sizes as equal as possible (e.g. 10 models, K = 4 -> 4, 3, 3), none above K
  const count = Math.ceil(models.length / k);
  const groups: string[][] = [];
  let at = 0;
  for (let g = 0; g < count; g++) {
    const size = Math.floor(models.length / count) + (g < models.length % count ? 1 : 0);
    groups.push(models.slice(at, at + size));
    at += size;
  }
  const used = new Set<string>();
  const alias = () => {
    for (;;) {
      const a = Array.from({ length: 3 }, () => LETTERS[rng.int(LETTERS.length)]).join('');
      if (!used.has(a)) {
        used.add(a);
        return a;
      }
    }
  };
  const blocks: Block[] = [];
  for (const task of study.tasks) {
    groups.forEach((group, g) => {
      const aliases: Record<string, string> = {};
      for (const m of rng.shuffle([...group])) aliases[alias()] = m;
      const queue = rng.shuffle(Object.keys(aliases).flatMap((a) => Array<string>(study.trialsPerModel).fill(a)));
      blocks.push({ index: blocks.length, task: task.name, group: g, aliases, queue, restAfter: true });
    });
  }
  if (blocks.length) blocks[blocks.length - 1].restAfter = false;
  return { groups, blocks, trials: blocks.reduce((s, b) => s + b.queue.length, 0) };
}
