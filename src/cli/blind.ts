/** `vlalab blind ...`: Grouped Blind Ensemble studies (create, serve the API, report). */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { BlindStore, parseStudy, startBlindApi, summarize } from '../eval/index.ts';
import { UserError } from '../util/index.ts';
import { action, intOption, printJson, readJsonFile } from './run.ts';

function openStore(db: string, mustExist: boolean): BlindStore {
  if (mustExist && !existsSync(db)) throw new UserError(`${db} does not exist; create the study first with \`vlalab blind create\``);
  return new BlindStore(db);
}

export function register(program: Command): void {
  const blind = program.command('blind').description('Grouped Blind Ensemble evaluation studies (paper Algorithm 1)');

  blind
    .command('create')
    .description('plan a study from its definition (models, tasks with rubrics, K, N, seed) and print the role tokens')
    .requiredOption('--study <file>', 'study definition JSON')
    .requiredOption('--db <file>', 'new SQLite database for the study')
    .option('--json', 'print JSON')
    .action(
      action((o: { study: string; db: string; json?: boolean }) => {
        if (existsSync(o.db)) throw new UserError(`${o.db} already exists; choose another --db`);
        const def = parseStudy(readJsonFile(o.study), o.study); // before the database file exists
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
    .description('serve the study API (operator: current/start/record; admin: progress/results)')
    .requiredOption('--db <file>', 'study database')
    .option('--port <n>', 'HTTP port', '8080')
    .action(
      action(async (o: { db: string; port: string }) => {
        const store = openStore(o.db, true);
        store.study();
        const api = await startBlindApi(store, intOption('--port', o.port));
        process.stdout.write(`blind study API on ${api.url} (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          const stop = () => void api.close().then(resolve);
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
          const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
          const lines = [`${p.done}/${p.total} trials recorded`, `${'model'.padEnd(20)} ${'task'.padEnd(20)} trials success  95% CI     score  95% CI`];
          for (const c of s.cells) {
            lines.push(`${c.model.padEnd(20)} ${c.task.padEnd(20)} ${String(c.trials).padStart(6)} ${pct(c.successRate).padStart(7)}  ${`${pct(c.successCi95[0])}-${pct(c.successCi95[1])}`.padEnd(10)} ${pct(c.meanScore).padStart(5)}  ${pct(c.scoreCi95[0])}-${pct(c.scoreCi95[1])}`);
          }
          lines.push('', `ranking: ${s.ranking.map((r, i) => `${i + 1}. ${r.model} (${pct(r.meanScore)})`).join(', ')}`);
          process.stdout.write(lines.join('\n') + '\n');
        } finally {
          store.close();
        }
      }),
    );
}
