/** `vlalab sim ...`: the simulated benchmark: list tasks, watch the scripted expert. */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { allTasks, createEnv, getTask, robotNames, suiteNames } from '../sim/index.ts';
import { writeRecording } from '../eval/index.ts';
import { UserError } from '../util/index.ts';
import { action, printJson } from './run.ts';

/** Creates `dir` (and parents) or says why it cannot. */
export function ensureDir(dir: string): void {
  try {
    // parent by parent: Node's recursive mkdir spins forever under /proc
    const abs = resolve(dir);
    const parts = abs.split(sep).filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = sep + parts.slice(0, i).join(sep);
      if (!existsSync(p)) mkdirSync(p);
    }
    const probe = join(dir, '.vlalab-write-test');
    writeFileSync(probe, '');
    writeFileSync(probe, ''); // a second write catches read-only mounts that allow create
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UserError(`cannot write to ${dir} (${code}); choose another --out`);
  }
}

/** The tasks named by --task or --suite (exactly one of them). */
export function resolveTasks(task: string | undefined, suite: string | undefined): string[] {
  if (!task === !suite) throw new UserError('pass exactly one of --task or --suite');
  const tasks = task ? [getTask(task).name] : allTasks().filter((t) => t.suite === suite).map((t) => t.name);
  if (tasks.length === 0) throw new UserError(`no tasks in suite "${suite}"; suites: ${suiteNames().join(', ')}`);
  return tasks;
}

/** Parses a non-negative integer option or says which option is wrong. */
export function intOption(name: string, value: string, min = 0): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new UserError(`${name} must be an integer >= ${min}, got "${value}"`);
  return n;
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
        for (const suite of [...new Set(tasks.map((t) => t.suite))]) {
          lines.push(`${suite}:`);
          for (const t of tasks.filter((x) => x.suite === suite)) {
            lines.push(`  ${t.name.padEnd(28)} ${String(t.maxPoints).padStart(2)} pt  ${String(t.stepBudget).padStart(4)} steps  "${t.instruction}"`);
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
    .option('--json', 'print {"success", "points", "max_points", "steps"} as JSON')
    .action(
      action(async (opts: { robot: string; task: string; seed: string; out: string; size: string; json?: boolean }) => {
        const seed = intOption('--seed', opts.seed);
        const size = intOption('--size', opts.size, 8);
        const env = await createEnv({ robot: opts.robot, task: opts.task, imageSize: size });
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
