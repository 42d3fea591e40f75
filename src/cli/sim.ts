/** `vlalab sim ...`: the simulated benchmark: list tasks, watch the scripted expert. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { allTasks, createEnv, DOMAINS, getTask, robotNames, suiteNames } from '../sim/index.ts';
import { writeRecording } from '../eval/index.ts';
import { closestName, UserError } from '../util/index.ts';
import { action, ensureDir, intOption, printJson } from './run.ts';

/** The tasks named by --task or --suite (exactly one of them). */
export function resolveTasks(task: string | undefined, suite: string | undefined): string[] {
  if (!task === !suite) throw new UserError('pass exactly one of --task or --suite');
  const names = (s: string) => [...new Set(s.split(',').map((t) => t.trim()).filter(Boolean))];
  if (task) {
    const tasks = [...new Set(names(task).map((t) => getTask(t).name))];
    if (tasks.length === 0) throw new UserError('--task needs a task name (or several, separated by commas); see `vlalab sim tasks`');
    return tasks;
  }
  const suites = names(suite!);
  for (const s of suites.length ? suites : [suite!]) {
    if (suiteNames().includes(s)) continue;
    const best = closestName(s, suiteNames());
    throw new UserError(`no tasks in suite "${s}"${best ? `; did you mean "${best}"?` : ''}; suites: ${suiteNames().join(', ')}`);
  }
  return suites.flatMap((s) => allTasks().filter((t) => t.suite === s).map((t) => t.name));
}

export function register(program: Command): void {
  const sim = program.command('sim').description('the MuJoCo benchmark: robots, tasks, scripted experts');

  sim
    .command('tasks')
    .description('list the task suites and their tasks')
    .option('--json', 'print JSON')
    .action(
      action((opts: { json?: boolean }) => {
        const tasks = allTasks().map((t) => ({ suite: t.suite, name: t.name, instruction: t.instruction, maxPoints: t.maxPoints, stepBudget: t.stepBudget }));
        if (opts.json) return printJson({ robots: robotNames(), tasks });
        const lines = [`robots: ${robotNames().join(', ')}`, ''];
        const nameWidth = Math.max(...tasks.map((t) => t.name.length)); // one column for every suite
        for (const suite of [...new Set(tasks.map((t) => t.suite))]) {
          lines.push(`${suite}:`);
          for (const t of tasks.filter((x) => x.suite === suite)) {
            lines.push(`  ${t.name.padEnd(nameWidth)}  ${String(t.maxPoints).padStart(2)} pt  ${String(t.stepBudget).padStart(4)} steps  "${t.instruction}"`);
          }
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );

  sim
    .command('demo')
    .description('run the scripted expert on a task and write its camera frames (PNG) and a contact sheet')
    .requiredOption('--robot <name>', 'robot (see `vlalab sim tasks`)')
    .requiredOption('--task <name>', 'task name')
    .option('--seed <n>', 'episode seed', '0')
    .requiredOption('--out <dir>', 'output directory')
    .option('--size <px>', 'image side in pixels', '64')
    .option('--domain <name>', `the room's appearance: ${Object.keys(DOMAINS).join(', ')}`, 'default')
    .option('--json', 'print {"success", "points", "max_points", "steps"} as JSON')
    .action(
      action(async (opts: { robot: string; task: string; seed: string; out: string; size: string; domain: string; json?: boolean }) => {
        const seed = intOption('--seed', opts.seed);
        const size = intOption('--size', opts.size, 8);
        const env = await createEnv({ robot: opts.robot, task: opts.task, imageSize: size, domain: opts.domain });
        ensureDir(join(opts.out, 'frames'));
        try {
          let obs = env.reset(seed);
          const cams = Object.keys(obs.images);
          const frames: Record<string, Uint8Array[]> = Object.fromEntries(cams.map((c) => [c, [obs.images[c]]]));
          let r;
          do {
            r = env.step(env.expertAction());
            obs = r.obs;
            for (const c of cams) frames[c].push(obs.images[c]);
          } while (!r.done);
          writeRecording(opts.out, cams, cams.map((c) => frames[c]), size, r.success);
          const result = { success: r.success, points: r.points, max_points: r.maxPoints, steps: r.steps };
          if (opts.json) return printJson(result);
          process.stdout.write(`${opts.robot} ${opts.task} seed ${seed}: ${r.success ? 'success' : 'failure'} (${r.points}/${r.maxPoints} points) in ${r.steps} steps\n`);
          process.stdout.write(`frames in ${join(opts.out, 'frames')}, contact sheet ${join(opts.out, 'sheet.png')}\n`);
        } finally {
          env.close();
        }
      }),
    );
}
