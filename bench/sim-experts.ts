/**
 * Scripted-expert success table: every task of every suite with panda7, and pick-place on every
 * robot, over N seeds (0 .. N-1). This is the benchmark's data-quality gate (issue 3 targets:
 * >= 95% per panda7 task, >= 90% pick-place on the other robots).
 *
 *   node bench/sim-experts.ts [seeds=50] [filter: a substring of "robot suite task"] [--noise M]
 *
 * `--noise M`: the DART-style execution noise of `vlalab sim record --noise M` (seeds 1000 .. as
 * recording uses), so the table says how many recorded demonstrations a task loses.
 */
import { eefTargetIndices, executionNoise } from '../src/cli/record.ts';
import { allTasks, createEnv, robotNames } from '../src/sim/index.ts';

const args = process.argv.slice(2);
const noiseAt = args.indexOf('--noise');
const noise = noiseAt >= 0 ? Number(args[noiseAt + 1]) : 0;
const [seedsArg, filter = ''] = args.filter((_, i) => noiseAt < 0 || (i !== noiseAt && i !== noiseAt + 1));
const seeds = Number(seedsArg ?? 50);
const first = noise ? 1000 : 0;
const rows: string[] = ['| robot | suite | task | success | mean steps | budget |', '|---|---|---|---|---|---|'];
const runs = [
  ...allTasks().map((t) => ({ robot: 'panda7', task: t })),
  ...robotNames().filter((r) => r !== 'panda7').map((robot) => ({ robot, task: allTasks().find((t) => t.name === 'pick-place')! })),
].filter((r) => `${r.robot} ${r.task.suite} ${r.task.name}`.includes(filter));
const t0 = performance.now();
let worst = 1;
for (const { robot, task } of runs) {
  const env = await createEnv({ robot, task: task.name });
  let ok = 0;
  let steps = 0;
  const xyz = eefTargetIndices(env.embodiment.actionNames);
  if (noise && !xyz) throw new Error(`--noise perturbs EEF targets; ${robot} is joint-controlled`);
  for (let s = first; s < first + seeds; s++) {
    env.reset(s);
    const disturb = noise && xyz ? executionNoise(noise, s, xyz) : undefined;
    let r;
    let t = 0;
    do {
      const a = env.expertAction();
      disturb?.(t++, a);
      r = env.step(a);
    } while (!r.done);
    if (r.success) ok++;
    steps += r.steps;
  }
  env.close();
  worst = Math.min(worst, ok / seeds);
  rows.push(`| ${robot} | ${task.suite} | ${task.name} | ${ok}/${seeds} (${((100 * ok) / seeds).toFixed(0)}%) | ${(steps / seeds).toFixed(0)} | ${task.stepBudget} |`);
  process.stderr.write(`${rows[rows.length - 1]}\n`);
}
console.log(rows.join('\n'));
console.log(`\nworst task: ${(100 * worst).toFixed(0)}%; ${runs.length} rows x ${seeds} seeds in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
