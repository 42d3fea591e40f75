/**
 * `vlalab <command>`: the one entry point. Each command lives in its own file and exports
 * `register(program)`; add new ones to COMMANDS below.
 */
// the array library's entry (thread pool, kernel memo) before any command: engine/ imports jax-js itself
import '../model/index.ts';
import { Command } from 'commander';
import { register as registerActions } from './actions.ts';
import { register as registerEmbodiments } from './embodiments.ts';
import { reportError } from './run.ts';
import { register as registerServe } from './serve.ts';
import { register as registerSim } from './sim.ts';
import { register as registerRecord } from './record.ts';
import { register as registerTrain } from './train.ts';
import { register as registerEval } from './eval.ts';
import { register as registerQuickstart } from './quickstart.ts';
import { register as registerData } from './data.ts';
import { register as registerCorpus } from './corpus.ts';
import { register as registerBlind } from './blind.ts';
import { register as registerModel } from './model.ts';
import { register as registerExport } from './export.ts';
import { register as registerShards } from './shards.ts';
import { register as registerRobot } from './robot.ts';
import { register as registerStudy } from './study.ts';

const COMMANDS: ((program: Command) => void)[] = [
  registerEmbodiments,
  registerActions,
  registerServe,
  registerSim,
  registerRecord,
  registerTrain,
  registerEval,
  registerQuickstart,
  registerData,
  registerCorpus,
  registerBlind,
  registerModel,
  registerExport,
  registerShards, // adds `data shards`: after registerData
  registerRobot,
  registerStudy,
];

export function buildProgram(): Command {
  const program = new Command('vlalab')
    .description('Train, serve and evaluate vision-language-action robot policies across embodiments.')
    .version('0.1.0')
    .showHelpAfterError('(usage: `npx vlalab help`, or `npx vlalab <command> --help`)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  // every subcommand exits through reportError too, so unknown options are one line, not a trace
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  reportError(err);
}
