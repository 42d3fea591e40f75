/**
 * `vlalab robot`: the simulated robot as the client of any openpi policy server, the blind study's
 * robot port included, so a whole blind study can be walked by hand: the operator starts a trial on
 * the operator page, this runs it, the operator records what it did.
 */
import type { Command } from 'commander';
import { evaluateInSim, serverChunkPolicy } from '../eval/index.ts';
import { robotNames } from '../sim/index.ts';
import { API_KEY_ENV, unknownNameMessage, UserError } from '../util/index.ts';
import { evaluationJson, formatEvaluation } from './eval.ts';
import { action, apiKeyOption, ensureDir, intOption, printJson } from './run.ts';
import { resolveTasks } from './sim.ts';

type RobotFlags = { apiKey?: string; server: string; robot: string; task?: string; suite?: string; episodes: string; seed: string; executeSteps?: string; imageSize: string; wait: string; record?: string; json?: boolean };

export function register(program: Command): void {
  program
    .command('robot')
    .description('be the robot: run simulated trials against any openpi policy server (vlalab serve, openpi, a blind study\'s robot port)')
    .requiredOption('--server <url>', 'the policy server (ws://host:port), e.g. the robot port of `vlalab blind serve`')
    .requiredOption('--robot <name>', 'the simulated robot (see `vlalab sim tasks`)')
    .option('--task <names>', 'a task, or several separated by commas')
    .option('--suite <names>', 'every task of a suite, or of several separated by commas')
    .option('--episodes <n>', 'episodes (trials) per task, one connection each', '1')
    .option('--seed <n>', 'seed of the first episode (episode k uses seed + k)', '0')
    .option('--execute-steps <k>', 'actions of each chunk run before asking again (default: the whole chunk)')
    .option('--image-size <px>', 'camera image size sent to the server', '64')
    .option('--wait <s>', 'when the robot port has no active trial, wait this long for the operator to start one', '0')
    .option('--record <dir>', 'save frames and a contact sheet of the first 3 episodes per task')
    .option('--api-key <key>', `the server's API key (default: $${API_KEY_ENV})`)
    .option('--json', 'print JSON')
    .action(
      action(async (o: RobotFlags) => {
        if (!robotNames().includes(o.robot)) throw new UserError(unknownNameMessage('robot', o.robot, robotNames()));
        const tasks = resolveTasks(o.task, o.suite);
        const episodes = intOption('--episodes', o.episodes, 1);
        const imageSize = intOption('--image-size', o.imageSize, 8, 512);
        const trialWaitMs = 1000 * intOption('--wait', o.wait, 0, 86_400);
        if (o.record) ensureDir(o.record);
        const log = (line: string) => { if (!o.json) process.stderr.write(`${line}\n`); };
        const policies: { close(): Promise<void> }[] = [];
        try {
          const rows = await evaluateInSim((cameras, size) => {
            const p = serverChunkPolicy(o.server, cameras, size, { trialWaitMs, apiKey: apiKeyOption(o.apiKey), onWaiting: (reason) => log(`waiting for the operator to start a trial (${reason.replace(/^bad request: /, '')})`) });
            policies.push(p);
            return p;
          }, {
            robot: o.robot, tasks, episodes, seed: intOption('--seed', o.seed), imageSize, label: 'robot', quiet: o.json, recordDir: o.record,
            executeSteps: o.executeSteps ? intOption('--execute-steps', o.executeSteps, 1) : Number.MAX_SAFE_INTEGER,
          });
          if (o.json) return printJson({ server: o.server, robot: o.robot, ...evaluationJson(rows) });
          process.stdout.write(formatEvaluation(rows, `${o.robot} against ${o.server}`));
        } finally {
          for (const p of policies) await p.close();
        }
      }),
    );
}
