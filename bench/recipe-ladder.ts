/**
 * The recipe ladder (BENCHMARKS.md "Recipe ladder"): each row is the `laptop` preset plus the
 * levers added so far, trained on the spatial suite's demonstrations and evaluated on the same
 * held-out seeds (20 episodes per task, 200 in all), so each lever's effect is measured, not assumed.
 * Rows on other data (s1-suites: all four suites; m1-multistage) are evaluated on it, and the
 * report adds their success and points per suite (per task for the multi-stage tasks) and the mean.
 *
 *   node bench/recipe-ladder.ts run DIR [--rows r0-base,r1-aug,...] [--steps 20000]   # resumable; a row's own schedule wins
 *   node bench/recipe-ladder.ts execution DIR ROW [--variants ensemble,euler-5,...] # a finished row's weights run differently
 *   node bench/recipe-ladder.ts report DIR [--svg OUT]                               # the Markdown table (and charts into OUT)
 *
 * Each row is also compared at step 12,500 of its 20,000 (the same point of the same schedule in
 * every row) when DIR/ROW/eval-012500.json exists: `vlalab eval --checkpoint DIR/ROW/checkpoints/step-012500
 * --suite spatial --episodes 20 --json > DIR/ROW/eval-012500.json`.
 *
 * The rows are in recipe-ladder-rows.ts. `run` records each dataset once (DIR/spatial,
 * DIR/spatial-perturb), then for each row trains DIR/ROW (resuming a stopped one: rerun the same
 * command) and evaluates it into DIR/ROW/eval.json, written last, so a row with eval.json is
 * finished and never repeated. Rows may run concurrently from several `run`
 * processes (one row each, `--rows`); give each `VLALAB_THREADS=1` on a 2-core machine.
 *
 * `execution` evaluates a finished row's weights with the issue's execution levers (re-planning,
 * temporal ensembling, Euler steps) into DIR/ROW/eval-VARIANT.json, on the row's held-out seeds,
 * so the report pairs each with the row's own evaluation; and on the seeds its demonstrations were
 * recorded from (`seen`: how much of the gap is generalization to new layouts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wilsonInterval } from '../src/eval/index.ts';
import { FAILURE_MODES, type FailureMode, pickedObject } from '../src/sim/index.ts';
import { getConfig } from '../src/model/index.ts';
import { type EpisodeOutcome, pairedDelta } from '../src/study/index.ts';
import { getPreset } from '../src/training/index.ts';
import { barChartSvg, groupedBarChartSvg } from '../src/util/index.ts';
import { CLEAN, type Data, DATA, EVAL_EPISODES, type Row, ROWS, SUITES, type Variant, VARIANTS } from './recipe-ladder-rows.ts';

const root = join(import.meta.dirname, '..');

function vlalab(args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`vlalab ${args.join(' ')} failed (exit ${r.status})`);
  return r.stdout;
}

/**
 * DIR/NAME holding the row's demonstrations, recorded on first use into NAME.partial-PID (this process's own, so
 * rows started side by side never delete each other's recording) and renamed when whole; a process that finishes
 * second keeps the first one's (recordings are deterministic). Partials of processes no longer running are removed.
 */
function dataset(dir: string, d: Data): string {
  const path = join(dir, d.name);
  if (existsSync(join(path, 'meta', 'info.json'))) return path;
  for (const f of readdirSync(dir)) {
    const pid = Number(f.startsWith(`${d.name}.partial-`) ? f.slice(d.name.length + 9) : NaN);
    if (Number.isInteger(pid) && !alive(pid)) rmSync(join(dir, f), { recursive: true, force: true });
  }
  const partial = `${path}.partial-${process.pid}`;
  const relabel = d.relabel ? ['--relabel', join(dir, d.relabel)] : [];
  vlalab(['sim', 'record', '--robot', DATA.robot, '--suite', d.suite, '--episodes', String(d.episodes ?? DATA.episodes), '--noise', String(DATA.noise), ...relabel, ...d.args, '--out', partial]);
  if (existsSync(join(path, 'meta', 'info.json'))) rmSync(partial, { recursive: true, force: true });
  else renameSync(partial, path);
  return path;
}

/** Whether process `pid` is running (signal 0 tests without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A row's datasets. */
const dataOf = (row: Row): readonly Data[] => (row.data === undefined ? [CLEAN] : Array.isArray(row.data) ? row.data : [row.data as Data]);

function run(dir: string, rows: readonly Row[], steps: number): void {
  for (const row of rows) {
    const out = join(dir, row.name);
    const data = dataOf(row);
    for (const base of new Set([row.initFrom, ...data.map((d) => d.relabel)])) {
      if (base && !existsSync(join(dir, base, 'eval.json'))) throw new Error(`row ${row.name} builds on row ${base}, which is not finished: run it first (--rows ${base})`);
    }
    if (existsSync(join(out, 'eval.json'))) continue;
    if (existsSync(join(out, 'latest.json'))) vlalab(['train', '--out', out, '--resume']);
    else {
      const config = join(dir, `${row.name}.json`);
      writeFileSync(config, JSON.stringify(row.config));
      const init = row.initFrom ? ['--init-from', join(dir, row.initFrom)] : [];
      vlalab(['train', '--preset', 'laptop', '--data', data.map((d) => dataset(dir, d)).join(','), ...init, '--out', out, '--steps', String(row.steps ?? steps), '--config', config]);
    }
    // a model with an aim head is also probed: where the head points before each episode (eval --aim-probe)
    const model = getConfig(String(row.config.model ?? getPreset('laptop').model));
    const probe = model.aimWeight ? ['--aim-probe'] : [];
    const json = vlalab(['eval', '--checkpoint', out, '--suite', data[0].suite, '--episodes', String(EVAL_EPISODES), ...probe, '--json']);
    writeFileSync(join(out, 'eval.tmp'), json);
    renameSync(join(out, 'eval.tmp'), join(out, 'eval.json'));
  }
}

/** Evaluates finished row `name` under each variant not yet evaluated (DIR/ROW/eval-VARIANT.json, written last). */
function execution(dir: string, name: string, variants: readonly Variant[]): void {
  const row = ROWS.find((r) => r.name === name)!;
  const out = join(dir, name);
  if (!existsSync(join(out, 'eval.json'))) throw new Error(`row ${name} is not finished (no ${join(out, 'eval.json')}): run it first`);
  for (const v of variants) {
    const file = join(out, `eval-${v.name}.json`);
    if (existsSync(file)) continue;
    writeFileSync(`${file}.tmp`, vlalab(['eval', '--checkpoint', out, '--suite', dataOf(row)[0].suite, '--episodes', String(EVAL_EPISODES), ...v.args, '--json']));
    renameSync(`${file}.tmp`, file);
  }
}

/** Median samples/s over a run's logged steps after the first 5% (its steady state; a resumed run's restart lines included), and its wall time. */
function throughput(out: string): { samplesPerSec: number; seconds: number } {
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { samplesPerSec: number; time: number });
  const rates = lines.slice(Math.floor(lines.length / 20)).map((l) => l.samplesPerSec).sort((a, b) => a - b);
  return { samplesPerSec: rates[Math.floor(rates.length / 2)], seconds: lines[lines.length - 1].time };
}

/** Where a row was evaluated: at a common intermediate checkpoint (eval-STEP.json) and at the end (eval.json). */
const POINTS = [{ file: 'eval-012500.json', label: 'step 12,500' }, { file: 'eval.json', label: 'end' }];

/**
 * Finished rows' eval files kept in the repository (RESULTS/ROW/eval.json), so later rows pair with
 * them on another machine: copy a row's eval.json there when it is reported in BENCHMARKS.md.
 */
const RESULTS = join(import.meta.dirname, 'results', 'recipe-ladder');

/** An episode of a row's evaluation, with why it failed where `vlalab eval` said (evaluations since 2026-12-03). */
type Outcome = EpisodeOutcome & { failure?: string };

/** A row's episodes from one of its eval files, in DIR or else in RESULTS (undefined when it was not evaluated there). */
function episodes(dir: string, row: string, file: string): Outcome[] | undefined {
  const path = [join(dir, row, file), join(RESULTS, row, file)].find((f) => existsSync(f));
  if (!path) return undefined;
  const e = JSON.parse(readFileSync(path, 'utf8')) as { tasks: { task: string; max_points: number; seeds: { seed: number; success: boolean; points: number; failure?: string }[] }[] };
  return e.tasks.flatMap((t) => t.seeds.map((x) => ({ task: t.task, seed: x.seed, success: x.success, points: x.points, maxPoints: t.max_points, failure: x.failure })));
}

/** Whether the aim head pointed at the target before each episode, where the row's evaluation probed it (eval --aim-probe). */
function aimProbe(dir: string, row: string): boolean[] | undefined {
  const path = [join(dir, row, 'eval.json'), join(RESULTS, row, 'eval.json')].find((f) => existsSync(f));
  const probes = path ? (JSON.parse(readFileSync(path, 'utf8')) as { aim_probe?: { target: boolean }[] }).aim_probe : undefined;
  return probes?.map((p) => p.target);
}

/** Successes of `eps`, their rate and its Wilson 95% interval. */
function success(eps: readonly EpisodeOutcome[]): { k: number; n: number; value: number; lo: number; hi: number } {
  const k = eps.filter((e) => e.success).length;
  const [lo, hi] = wilsonInterval(k, eps.length);
  return { k, n: eps.length, value: k / eps.length, lo, hi };
}

function report(dir: string): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  // a count of episodes as the tables write it: k/n (rate, Wilson 95% interval)
  const count = (k: number, n: number) => {
    const [lo, hi] = wilsonInterval(k, n);
    return `${k}/${n} (${pct(k / n)}, ${pct(lo)}-${pct(hi)})`;
  };
  // of the episodes where the arm went for some object, those where it was the one the task needed next (sim pickedObject;
  // '-' where the evaluation predates failure modes)
  const picked = (of: readonly Outcome[]) => {
    if (of.some((e) => !e.success && !e.failure)) return '-';
    const went = of.map((e) => pickedObject(e.success, e.failure as FailureMode | undefined)).filter((p) => p !== undefined);
    return went.length ? count(went.filter((p) => p === 'target').length, went.length) : '-';
  };
  const head = POINTS.flatMap((p) => [`success at ${p.label} (Wilson 95%)`, 'vs (paired bootstrap 95%)']);
  const out = [`| row | adds | ${head.join(' | ')} | samples/s |`, `|---|---|${head.map(() => '---|').join('')}---|`];
  ROWS.forEach((row, i) => {
    if (!existsSync(join(dir, row.name, 'metrics.jsonl'))) return;
    const cells = POINTS.flatMap((p) => {
      const eps = episodes(dir, row.name, p.file);
      if (!eps) return ['-', '-'];
      const { k, n } = success(eps);
      const vs = row.vs ?? ROWS[i - 1]?.name;
      const before = vs ? episodes(dir, vs, p.file) : undefined;
      const d = before && pairedDelta(before, eps); // over the episodes both rows ran (none: '-')
      return [count(k, n), d?.n ? `${pts(d.value)} [${pts(d.lo)}, ${pts(d.hi)}] vs ${vs}` : '-'];
    });
    out.push(`| ${row.name} | ${row.adds} | ${cells.join(' | ')} | ${throughput(join(dir, row.name)).samplesPerSec.toFixed(0)} |`);
  });
  // rows beyond the spatial suite: per suite (or per multi-stage task) and per task, success with its
  // Wilson interval and the points reached (% of the maximum)
  const rate = (of: EpisodeOutcome[]) => {
    const { k, n } = success(of);
    const points = of.reduce((a, e) => a + e.points, 0) / of.reduce((a, e) => a + e.maxPoints, 0);
    return { k, n, cell: count(k, n), points: pct(points) };
  };
  const breakdown = ROWS.filter((r) => dataOf(r)[0].suite !== 'spatial').flatMap((r) => {
    const eps = episodes(dir, r.name, 'eval.json');
    if (!eps) return [];
    const suite = dataOf(r)[0].suite;
    const multistage = suite === 'multistage';
    const groups = multistage ? [...new Set(eps.map((e) => e.task))] : suite.split(',');
    const of = (g: string) => eps.filter((e) => (multistage ? e.task === g : e.task.startsWith(`${g}-`)));
    const parts = groups.map((g) => ({ g, ...rate(of(g)) }));
    const mean = parts.reduce((a, x) => a + x.k / x.n, 0) / parts.length;
    // paired with the row it is against, on the episodes that row ran too (a suite it did not run: '-';
    // the mean's cell only where it ran them all)
    const before = r.vs ? episodes(dir, r.vs, 'eval.json') : undefined;
    const vsCell = (of: EpisodeOutcome[]) => {
      const d = before && pairedDelta(before, of);
      return d?.n && (of !== eps || d.n === eps.length) ? `${pts(d.value)} [${pts(d.lo)}, ${pts(d.hi)}]` : '-';
    };
    const vsHead = before ? ` vs ${r.vs} (paired bootstrap 95%) |` : '';
    const vsCol = (of: EpisodeOutcome[]) => (before ? ` ${vsCell(of)} |` : '');
    const lines = [`### ${r.name}: ${r.adds}`, '', `| ${multistage ? 'task' : 'suite'} | full success (Wilson 95%) | points (% of the maximum) | picked the target |${vsHead}`, `|---|---|---|---|${vsHead ? '---|' : ''}`];
    for (const x of parts) lines.push(`| ${x.g} | ${x.cell} | ${x.points} | ${picked(of(x.g))} |${vsCol(of(x.g))}`);
    lines.push(`| **mean over the ${multistage ? 'tasks' : 'suites'}** | ${pct(mean)} (all: ${rate(eps).cell}) | ${rate(eps).points} | ${picked(eps)} |${vsCol(eps)}`);
    if (!multistage) {
      lines.push('', '| task | success (Wilson 95%) | points |', '|---|---|---|');
      for (const task of [...new Set(eps.map((e) => e.task))]) {
        const t = rate(eps.filter((e) => e.task === task));
        lines.push(`| ${task} | ${t.cell} | ${t.points} |`);
      }
    }
    return ['', ...lines];
  });
  // a row's weights run differently (`execution`), each paired with the row's own evaluation
  const variantTables = ROWS.flatMap((r) => {
    const base = episodes(dir, r.name, 'eval.json');
    const runs = VARIANTS.flatMap((v) => {
      const eps = episodes(dir, r.name, `eval-${v.name}.json`);
      return eps ? [{ v, eps }] : [];
    });
    if (!base || !runs.length) return [];
    const lines = [`### ${r.name} run differently`, '', '| variant | success (Wilson 95%) | vs the row (paired bootstrap 95%) |', '|---|---|---|', `| the row (execute 2, 10 Euler steps) | ${rate(base).cell} | - |`];
    for (const { v, eps } of runs) {
      const d = pairedDelta(base, eps);
      lines.push(`| ${v.name}: ${v.adds} | ${rate(eps).cell} | ${d.n ? `${pts(d.value)} [${pts(d.lo)}, ${pts(d.hi)}]` : '-'} |`);
    }
    return ['', ...lines];
  });
  // why each row's failed episodes failed, where its evaluation said (sim FailureMode), and how often it picked the target
  const why = ROWS.flatMap((r) => {
    const all = episodes(dir, r.name, 'eval.json') ?? [];
    const failed = all.filter((e) => !e.success);
    if (!failed.some((e) => e.failure)) return [];
    const share = (n: number) => `${n} (${pct(n / failed.length)})`;
    const aimed = aimProbe(dir, r.name);
    const head = aimed ? count(aimed.filter(Boolean).length, aimed.length) : '-';
    return [`| ${r.name} | ${failed.length} | ${FAILURE_MODES.map((f) => share(failed.filter((e) => e.failure === f).length)).join(' | ')} | ${picked(all)} | ${head} |`];
  });
  const whyTable = why.length
    ? ['', '### Why the episodes failed', '',
      'Picked the target: of the episodes where the arm lifted or closed on some object, those where it was the object the task needed next (`pickedObject`; Wilson 95%). '
        + 'Aim head at the target: of the episodes, those before which the aim head pointed nearest the target (`eval --aim-probe`; rows with an aim head evaluated since 2026-12-03).', '',
      `| row | failed | ${FAILURE_MODES.join(' | ')} | picked the target | aim head at the target |`, `|---|---|${FAILURE_MODES.map(() => '---|').join('')}---|---|`, ...why]
    : [];
  return `${[...out, ...breakdown, ...variantTables, ...whyTable].join('\n')}\n`;
}

/**
 * The ladder as charts, into OUT: the spatial suite's rows (success with Wilson 95% intervals, in
 * ladder order; ladder-spatial.svg) and the four-suite rows per suite (ladder-suites.svg).
 */
function charts(dir: string, out: string): string[] {
  const spatial = ROWS.filter((r) => dataOf(r)[0].suite === 'spatial').flatMap((r) => {
    const eps = episodes(dir, r.name, 'eval.json');
    return eps ? [{ label: r.name, ...success(eps) }] : [];
  });
  const suites = SUITES.suite.split(',');
  const series = ROWS.filter((r) => dataOf(r)[0].suite === SUITES.suite).flatMap((r) => {
    const eps = episodes(dir, r.name, 'eval.json');
    return eps ? [{ name: r.name, values: suites.map((g) => success(eps.filter((e) => e.task.startsWith(`${g}-`)))) }] : [];
  });
  const files = [
    { name: 'ladder-spatial.svg', svg: barChartSvg(spatial, { title: 'Recipe ladder: spatial suite, 200 held-out episodes (Wilson 95%)', yLabel: 'success', percent: true }) },
    { name: 'ladder-suites.svg', svg: groupedBarChartSvg(suites, series, { title: 'The four suites, 200 held-out episodes each (Wilson 95%)', yLabel: 'success', percent: true }) },
  ];
  mkdirSync(out, { recursive: true });
  for (const f of files) writeFileSync(join(out, f.name), f.svg);
  return files.map((f) => join(out, f.name));
}

const [command, dir, ...rest] = process.argv.slice(2);
const flag = (k: string) => {
  const i = rest.indexOf(`--${k}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
const usage = 'usage: node bench/recipe-ladder.ts run DIR [--rows a,b] [--steps N] | execution DIR ROW [--variants a,b] | report DIR [--svg OUT]';
if (!dir || !['run', 'execution', 'report'].includes(command)) {
  console.error(usage);
  process.exit(2);
}
const names = flag('rows')?.split(',');
const unknown = names?.filter((n) => !ROWS.some((r) => r.name === n)) ?? [];
if (unknown.length) {
  console.error(`unknown rows ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.name).join(', ')}`);
  process.exit(2);
}
if (command === 'run') run(dir, ROWS.filter((r) => !names || names.includes(r.name)), Number(flag('steps') ?? 20000));
else if (command === 'execution') {
  const row = rest[0];
  const picked = flag('variants')?.split(',') ?? VARIANTS.map((v) => v.name);
  const bad = [...(ROWS.some((r) => r.name === row) ? [] : [row ?? '(no row)']), ...picked.filter((n) => !VARIANTS.some((v) => v.name === n))];
  if (bad.length) {
    console.error(`${usage}\nunknown row or variant: ${bad.join(', ')}; rows: ${ROWS.map((r) => r.name).join(', ')}; variants: ${VARIANTS.map((v) => v.name).join(', ')}`);
    process.exit(2);
  }
  execution(dir, row, VARIANTS.filter((v) => picked.includes(v.name)));
} else {
  process.stdout.write(report(dir));
  const svg = flag('svg');
  if (svg) console.error(`charts: ${charts(dir, svg).join(', ')}`);
}
