/** `vlalab blind ...`: Grouped Blind Ensemble studies (create, serve the API and dispatcher, report, simulate). */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { biasTable, BlindStore, type CellResult, parseStudy, runBiasExperiment, SIM_TASKS, STUDY_TEMPLATE, simulateStudy, startBlindApi, startDispatcher, summarize } from '../eval/index.ts';
import { API_KEY_ENV, parseJsonc, UserError } from '../util/index.ts';
import { action, apiKeyOption, ensureDir, intOption, printJson } from './run.ts';

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** The results table and ranking as text. */
function formatResults(s: { cells: CellResult[]; ranking: { model: string; meanScore: number }[] }): string {
  const lines = [`${'model'.padEnd(20)} ${'task'.padEnd(20)} trials success  95% CI     score  95% CI`];
  for (const c of s.cells) {
    lines.push(`${c.model.padEnd(20)} ${c.task.padEnd(20)} ${String(c.trials).padStart(6)} ${pct(c.successRate).padStart(7)}  ${`${pct(c.successCi95[0])}-${pct(c.successCi95[1])}`.padEnd(10)} ${pct(c.meanScore).padStart(5)}  ${pct(c.scoreCi95[0])}-${pct(c.scoreCi95[1])}`);
  }
  lines.push('', `ranking: ${s.ranking.map((r, i) => `${i + 1}. ${r.model} (${pct(r.meanScore)})`).join(', ')}`);
  return lines.join('\n') + '\n';
}

/** Reads and checks a study file (JSON, comments allowed); problems end with a pointer to the template. */
function readStudy(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file (`vlalab blind template > study.json` writes an example)' : String(code ?? err)}`);
  }
  let value: unknown;
  try {
    value = parseJsonc(text);
  } catch (err) {
    throw new UserError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseStudy(value, path);
  } catch (err) {
    if (err instanceof UserError) err.message += '\n(`vlalab blind template` prints a commented example of every field)';
    throw err;
  }
}

function openStore(db: string, mustExist: boolean): BlindStore {
  if (mustExist && !existsSync(db)) throw new UserError(`${db} does not exist; create the study first with \`vlalab blind create\``);
  return new BlindStore(db);
}

export function register(program: Command): void {
  const blind = program.command('blind').description('Grouped Blind Ensemble evaluation studies (paper Algorithm 1)');

  blind
    .command('template')
    .description('print a commented example study file (every field, its meaning and default) that `blind create` accepts as is')
    .action(action(() => void process.stdout.write(STUDY_TEMPLATE)));

  blind
    .command('create')
    .description('plan a study from its definition (models, tasks with rubrics, groupSize K, trialsPerModel N, scoring, restSeconds, seed; see `vlalab blind template`) and print the role tokens')
    .requiredOption('--study <file>', 'study definition: JSON, comments allowed (`vlalab blind template > study.json` writes an example)')
    .requiredOption('--db <file>', 'new SQLite database for the study')
    .option('--json', 'print JSON')
    .action(
      action((o: { study: string; db: string; json?: boolean }) => {
        if (existsSync(o.db)) throw new UserError(`${o.db} already exists; choose another --db`);
        const def = readStudy(o.study); // before the database file exists
        const store = openStore(o.db, false);
        try {
          const tokens = store.create(def);
          const { plan } = store.study();
          const out = { db: o.db, groups: plan.groups.length, blocks: plan.blocks.length, trials: plan.trials, tokens };
          if (o.json) return printJson(out);
          process.stdout.write(`planned ${out.trials} trials in ${out.blocks} blocks (${out.groups} groups) in ${o.db}\n` +
            `tokens (give each person only their own):\n  admin     ${tokens.admin}\n  operator  ${tokens.operator}\n  judge     ${tokens.judge}\n`);
        } finally {
          store.close();
        }
      }),
    );

  blind
    .command('serve')
    .description('serve the study API (operator, judge, admin) and the robot-facing dispatcher (openpi protocol)')
    .requiredOption('--db <file>', 'study database')
    .option('--port <n>', 'HTTP port of the API', '8080')
    .option('--robot-port <n>', 'WebSocket port the robot connects to (openpi protocol)', '9000')
    .option('--host <addr>', 'interface of both ports (0.0.0.0: all)', '127.0.0.1')
    .option('--api-key <key>', `the robot port refuses connections without "Authorization: Api-Key <key>" (HTTP 401; default: $${API_KEY_ENV}, else no key)`)
    .option('--latency-floor-ms <n>', 'every robot answer takes at least this long, so speed does not tell the models apart', '0')
    .action(
      action(async (o: { db: string; port: string; robotPort: string; host: string; latencyFloorMs: string; apiKey?: string }) => {
        const store = openStore(o.db, true);
        store.study();
        const port = intOption('--port', o.port, 0, 65535);
        const robotPort = intOption('--robot-port', o.robotPort, 0, 65535);
        const latencyFloorMs = intOption('--latency-floor-ms', o.latencyFloorMs, 0, 60_000);
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const api = await startBlindApi(store, { port, host: o.host });
        const dispatcher = await startDispatcher(store, { port: robotPort, host: o.host, latencyFloorMs, log, apiKey: apiKeyOption(o.apiKey) }).catch(async (err) => { await api.close(); throw err; });
        process.stdout.write(`blind study API on ${api.url}, robot port ${dispatcher.url} (Ctrl-C to stop)\n` +
          `pages: ${api.url}/operator  ${api.url}/judge  ${api.url}/admin (each asks for its role's token)\n`);
        await new Promise<void>((resolve) => {
          const stop = () => void Promise.all([api.close(), dispatcher.close()]).then(() => resolve());
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        store.close();
      }),
    );

  blind
    .command('report')
    .description('de-anonymized results: per model and task success with Wilson intervals, mean score with bootstrap intervals, pairwise Fisher tests, ranking')
    .requiredOption('--db <file>', 'study database')
    .option('--json', 'print JSON')
    .action(
      action((o: { db: string; json?: boolean }) => {
        const store = openStore(o.db, true);
        try {
          const s = summarize(store.outcomes(), store.study().definition.seed);
          const p = store.progress();
          if (o.json) return printJson({ progress: p, ...s });
          process.stdout.write(`${p.done}/${p.total} trials recorded${p.ended ? ` (${p.ended} more await the judge)` : ''}\n${formatResults(s)}`);
        } finally {
          store.close();
        }
      }),
    );

  blind
    .command('simulate')
    .description('run a whole blind study against the simulator: stand-in models of known quality, the dispatcher, the MuJoCo robot and a scripted operator (and judge) on the HTTP API')
    .option('--out <dir>', 'folder for the study database and trial records (default: a new temporary folder)')
    .option('--models <n>', 'stand-in models: the scripted expert with lapse hazards 0, 0.01, 0.04, 0.16, 0.64 per step', '3')
    .option('--trials <n>', 'trials per model and task (N)', '2')
    .option('--tasks <names>', 'comma-separated simulator tasks', SIM_TASKS.join(','))
    .option('--scoring <mode>', 'operator (the operator records points) or judge (a judge scores from the trial record)', 'operator')
    .option('--seed <n>', 'study seed (plan, aliases, episodes)', '0')
    .option('--api-key <key>', `the robot port refuses connections without "Authorization: Api-Key <key>" (HTTP 401; default: $${API_KEY_ENV}, else no key)`)
    .option('--latency-floor-ms <n>', 'dispatcher latency floor', '0')
    .option('--bias <model>', 'the bias experiment instead: three studies on the same trials and seeds (operator scoring) with an unbiased operator, one who favours this stand-in (e.g. sim-lapse-0.01) and is told which model runs (unblinded), and the same one blinded; prints each model\'s score and the favoured-minus-other differences with 95% intervals')
    .option('--blind-leniency <aim>', 'with --bias: where the blinded favouring operator aims its leniency, "half" (a random half of the trials) or "every" trial', 'half')
    .option('--json', 'print the de-anonymized results as JSON (last line)')
    .action(
      action(async (o: { out?: string; models: string; trials: string; tasks: string; scoring: string; seed: string; latencyFloorMs: string; json?: boolean; bias?: string; blindLeniency: string }) => {
        if (o.bias !== undefined && o.scoring !== 'operator') throw new UserError('--bias runs operator-scored studies (the operator\'s leniency is what it measures); leave out --scoring');
        if (o.blindLeniency !== 'half' && o.blindLeniency !== 'every') throw new UserError(`--blind-leniency must be "half" or "every", got "${o.blindLeniency}"`);
        if (o.scoring !== 'operator' && o.scoring !== 'judge') throw new UserError(`--scoring must be "operator" or "judge", got "${o.scoring}"`);
        const tasks = o.tasks.split(',').map((t) => t.trim()).filter(Boolean);
        if (tasks.length === 0) throw new UserError('--tasks names no task; see `vlalab sim tasks`');
        const models = intOption('--models', o.models, 1, 5);
        const trials = intOption('--trials', o.trials, 1, 50);
        const seed = intOption('--seed', o.seed);
        const latencyFloorMs = intOption('--latency-floor-ms', o.latencyFloorMs, 0, 10_000);
        // without --out the study lives in a temporary folder, removed at the end
        const out = o.out ?? mkdtempSync(join(tmpdir(), 'vlalab-blind-sim-'));
        try {
          ensureDir(out);
          if (o.out && existsSync(join(out, 'study.db'))) throw new UserError(`${join(out, 'study.db')} already exists; choose another --out`);
          if (o.bias !== undefined) {
            if (o.out && existsSync(join(out, 'unbiased'))) throw new UserError(`${join(out, 'unbiased')} already exists; choose another --out`);
            const started = performance.now();
            const r = await runBiasExperiment({
              out, models, trials, tasks, seed, latencyFloorMs, favour: o.bias, blind: o.blindLeniency,
              onTrial: o.json ? undefined : (condition, trial, points, seen) => void process.stderr.write(`${condition}: trial ${trial} of ${seen.of} (${seen.task}): ${points} of ${seen.maxPoints} points\n`),
            });
            if (o.json) return printJson({ ...r, wallSeconds: (performance.now() - started) / 1000 });
            process.stdout.write(`bias experiment: ${models} stand-ins x ${tasks.join(', ')} x ${trials} trials each, seed ${seed}, operator scoring; score = % of rubric points, [95% bootstrap interval]; bias = difference minus the unbiased one\n` +
              `${biasTable(r)}wall time ${((performance.now() - started) / 1000).toFixed(0)} s${o.out ? `; studies in ${out}/{unbiased,unblinded,blinded}` : ''}\n`);
            return;
          }
          const r = await simulateStudy({
            out, models, trials, tasks, scoring: o.scoring, seed, latencyFloorMs,
            onTrial: o.json ? undefined : (trial, points, seen) => void process.stderr.write(`trial ${trial} of ${seen.of} (${seen.task}): ${points} of ${seen.maxPoints} points\n`),
          });
          const db = o.out ? r.db : null;
          if (o.json) {
            const cells = r.results.cells.map((c) => ({ model: c.model, task: c.task, trials: c.trials, meanScorePct: 100 * c.meanScore, scoreCi95Pct: c.scoreCi95.map((x) => 100 * x), successRate: c.successRate, successCi95: c.successCi95 }));
            return printJson({ db, progress: r.progress, cells, ranking: r.results.ranking, pairwise: r.results.pairwise });
          }
          process.stdout.write(`${db ? `simulated study in ${db}` : 'simulated study (pass --out DIR to keep its database and trial records)'}\n${formatResults(r.results)}`);
        } finally {
          if (!o.out) rmSync(out, { recursive: true, force: true });
        }
      }),
    );
}
