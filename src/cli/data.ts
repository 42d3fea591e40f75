/** `vlalab data ...`: inspect LeRobot datasets and dataset mixtures. */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Command } from 'commander';
import { checkMixturePaths, computeStats, convertToV30, type DatasetInfo, type FullStats, inspectDataset, MixtureIndex, openDataset, parseMixture, resolveFeatureMap } from '../data/index.ts';
import { datasetInfo, formatInfo } from './data-info.ts';
import { barChartSvg, count, UserError, writeFileAtomic } from '../util/index.ts';
import { action, printJson, readJsonFile } from './run.ts';

/** meta/info.json of a dataset directory, with a clear error when it is not one. */
function readInfo(dir: string): DatasetInfo {
  return readJsonFile(join(dir, 'meta', 'info.json')) as DatasetInfo;
}

/** Rows of the mixture table (paper Table VII): category, dataset, S, N_raw, N_eff, share. */
export function mixtureTable(file: string): { name: string; rows: { category: string; dataset: string; frame_step_size: number; n_raw: number; n_eff: number; share: number }[] } {
  const m = parseMixture(readJsonFile(file), file);
  checkMixturePaths(m, file);
  const totals = m.datasets.map((d) => Number(readInfo(d.path).total_frames));
  const idx = new MixtureIndex(m.datasets.map((d, i) => ({ name: d.path, episodeLengths: [totals[i]], frameStep: d.frame_step_size, weight: d.weight })));
  return {
    name: m.name,
    rows: m.datasets.map((d, i) => ({ category: d.category, dataset: d.path, frame_step_size: d.frame_step_size, n_raw: idx.stats[i].nRaw, n_eff: idx.stats[i].nEff, share: idx.stats[i].share })),
  };
}

/** A dataset path for a table column of `width`: relative to the working directory when shorter, else whole trailing folders after ".../". */
export function shortPath(path: string, width: number): string {
  const rel = relative(process.cwd(), path);
  const p = rel && rel.length < path.length ? rel : path;
  if (p.length <= width) return p;
  const parts = p.split(sep);
  let tail = parts.pop()!;
  while (parts.length && `...${sep}${parts[parts.length - 1]}${sep}${tail}`.length <= width) tail = `${parts.pop()}${sep}${tail}`;
  return `...${sep}${tail}`;
}

/** Refuses a corpus folder (datasets + mixture.json) where one dataset is expected, pointing to the mixture. */
function checkNotCorpus(dir: string): void {
  if (existsSync(join(dir, 'meta', 'info.json')) || !existsSync(join(dir, 'mixture.json'))) return;
  throw new UserError(`${dir} is a corpus (several datasets and ${join(dir, 'mixture.json')}), not one dataset: see it with \`vlalab data mix ${join(dir, 'mixture.json')}\`, or pass one of its dataset folders`);
}

export function register(program: Command): void {
  const data = program.command('data').description('inspect LeRobot datasets (v3.0, v2.1) and mixtures');

  data
    .command('info')
    .argument('<dir>', 'dataset directory')
    .description('describe any LeRobot dataset (v3.0, v2.1): version, robot_type, episodes, frames, tasks, features, cameras, problems')
    .option('--embodiment <name|file.json>', 'also check the mapping of a registered embodiment or a spec file')
    .option('--json', 'print JSON')
    .action(
      action(async (dir: string, o: { embodiment?: string; json?: boolean }) => {
        checkNotCorpus(dir);
        const out = await datasetInfo(dir, o.embodiment);
        if (o.json) return printJson(out);
        process.stdout.write(formatInfo(out));
      }),
    );

  data
    .command('validate')
    .argument('<dir>', 'dataset directory')
    .description('list every problem of a dataset with its file (missing files, totals that disagree, misplaced videos); exits 1 when there is one')
    .option('--json', 'print JSON {"problems": [{"file", "message"}]}')
    .action(
      action(async (dir: string, o: { json?: boolean }) => {
        const r = await inspectDataset(dir);
        if (o.json) printJson({ dir, codebase_version: r.codebase_version, problems: r.problems });
        else if (r.problems.length) process.stdout.write(r.problems.map((p) => `${p.file}: ${p.message}\n`).join(''));
        else process.stdout.write(`${dir}: no problems (LeRobot ${r.codebase_version}, ${r.episodes.length} episodes, ${r.frames} frames)\n`);
        if (r.problems.length) {
          process.stderr.write(`vlalab: ${dir}: ${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}\n`);
          process.exitCode = 1;
        }
      }),
    );

  data
    .command('convert')
    .argument('<dir>', 'LeRobot v2.1 dataset directory')
    .description('convert a LeRobot v2.1 dataset to v3.0 (same frames, tasks, stats and videos)')
    .requiredOption('--to <version>', 'target version: v3.0')
    .requiredOption('--out <dir>', 'directory of the new dataset')
    .option('--json', 'print JSON')
    .action(
      action(async (dir: string, o: { to: string; out: string; json?: boolean }) => {
        if (o.to !== 'v3.0') throw new UserError(`--to ${o.to}: vlalab converts to v3.0 only (from v2.1)`);
        const r = await convertToV30(dir, o.out);
        if (o.json) return printJson(r);
        process.stdout.write(`${o.out}: LeRobot v3.0, ${r.episodes} episodes, ${r.frames} frames in ${r.dataFiles} data file${r.dataFiles > 1 ? 's' : ''}, ${r.videos} videos copied, stats ${r.stats}\n`);
        if (r.missingVideos.length) process.stderr.write(`vlalab: ${r.missingVideos.length} video file${r.missingVideos.length > 1 ? 's were' : ' was'} missing in ${dir} and not copied: ${r.missingVideos.slice(0, 3).join(', ')}${r.missingVideos.length > 3 ? ', ...' : ''}\n`);
      }),
    );

  data
    .command('stats')
    .argument('<dir>', 'dataset directory')
    .description('per-dimension statistics of state and action (recomputed from the frames)')
    .option('--embodiment <name|file.json>', 'embodiment (a name or a spec file) when robot_type is not registered')
    .option('--write', 'also write them to meta/stats.json')
    .option('--json', 'print JSON')
    .action(
      action(async (dir: string, o: { embodiment?: string; write?: boolean; json?: boolean }) => {
        checkNotCorpus(dir);
        const ds = await openDataset(dir, { embodiment: o.embodiment, images: false });
        const e = ds.embodiment;
        // each vector is stored under its dataset feature when the embodiment reads that feature whole, in order
        const keyOf = (which: 'state' | 'action') => {
          const map = resolveFeatureMap(e, ds.info.features, which, dir);
          const f = map[0].feature;
          return map.every((m, i) => m.feature === f && m.dim === i) && ds.info.features[f].shape[0] === map.length ? f : undefined;
        };
        const keys = { state: keyOf('state'), action: keyOf('action') };
        const stateKey = keys.state ?? 'state (in the embodiment\'s order)';
        const actionKey = keys.action ?? 'action (in the embodiment\'s order)';
        const stats: Record<string, FullStats> = {
          [stateKey]: computeStats(ds.state, ds.numFrames, e.stateNames.length),
          [actionKey]: computeStats(ds.action, ds.numFrames, e.actionNames.length),
        };
        if (o.write) {
          if (!keys.state || !keys.action) throw new UserError(`${dir}: --write stores stats per dataset feature, but embodiment ${e.name} picks dims from ${!keys.state ? 'the state' : 'the action'} feature(s); drop --write, or compute them with a spec that reads each feature whole`);
          const file = join(dir, 'meta', 'stats.json');
          const old = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8').trim() || '{}') as Record<string, unknown> : {};
          writeFileAtomic(file, JSON.stringify({ ...old, ...stats }, null, 2) + '\n');
        }
        if (o.json) return printJson(stats);
        const lines: string[] = [];
        for (const [feature, names] of [[stateKey, e.stateNames], [actionKey, e.actionNames]] as const) {
          const s = stats[feature];
          const w = Math.max(16, ...names.map((n) => n.length));
          lines.push(`${feature} (${ds.numFrames} frames)`, `  ${'dim'.padEnd(w)} ${['mean', 'std', 'q01', 'q50', 'q99'].map((h) => h.padStart(9)).join(' ')}`);
          names.forEach((n, i) => lines.push(`  ${n.padEnd(w)} ${[s.mean[i], s.std[i], s.q01[i], s.q50[i], s.q99[i]].map((v) => v.toFixed(4).padStart(9)).join(' ')}`));
        }
        process.stdout.write(lines.join('\n') + '\n');
      }),
    );

  data
    .command('mix')
    .argument('<mixture>', 'mixture JSON: {"name", "datasets": [{"path", "frame_step_size", "weight", "category"}]}')
    .description('the composition of a mixture (paper Table VII): S, N_raw, N_eff = floor(N_raw / S), share')
    .option('--svg <file>', 'write the composition chart as SVG')
    .option('--json', 'print JSON')
    .action(
      action((file: string, o: { svg?: string; json?: boolean }) => {
        const t = mixtureTable(file);
        if (o.svg) {
          writeFileAtomic(o.svg, barChartSvg(t.rows.map((r) => ({ label: r.dataset.split('/').pop() ?? r.dataset, value: r.share })), { title: `${t.name}: share of training samples`, percent: true }));
        }
        if (o.json) return printJson(t);
        if (t.rows.length === 0) throw new UserError(`${file} lists no datasets`);
        const cw = Math.max(8, ...t.rows.map((r) => r.category.length));
        const names = t.rows.map((r) => shortPath(r.dataset, 48));
        const dw = Math.max(7, ...names.map((n) => n.length));
        const lines = [`${t.name}`, `${'category'.padEnd(cw)} ${'dataset'.padEnd(dw)} ${'S'.padStart(3)} ${'N_raw'.padStart(12)} ${'N_eff'.padStart(12)} ${'share'.padStart(7)}`];
        for (const [i, r] of t.rows.entries()) {
          lines.push(`${r.category.padEnd(cw)} ${names[i].padEnd(dw)} ${String(r.frame_step_size).padStart(3)} ${String(r.n_raw).padStart(12)} ${String(r.n_eff).padStart(12)} ${`${(100 * r.share).toFixed(1)}%`.padStart(7)}`);
        }
        process.stdout.write(lines.join('\n') + '\n' + (o.svg ? `chart: ${o.svg}\n` : ''));
      }),
    );
}
