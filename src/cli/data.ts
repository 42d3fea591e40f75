/** `vlalab data ...`: inspect LeRobot datasets and dataset mixtures. */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Command } from 'commander';
import { checkMixturePaths, computeStats, type DatasetInfo, MixtureIndex, openDataset, parseMixture } from '../data/index.ts';
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
    .description('summary of a dataset: version, embodiment, episodes, frames, tasks, cameras')
    .option('--embodiment <name>', 'embodiment when robot_type is not registered')
    .option('--json', 'print JSON')
    .action(
      action(async (dir: string, o: { embodiment?: string; json?: boolean }) => {
        checkNotCorpus(dir);
        const ds = await openDataset(dir, { embodiment: o.embodiment });
        const lengths = ds.episodes.map((e) => e.length);
        const perTask: Record<string, number> = Object.fromEntries(ds.tasks.map((t) => [t, 0]));
        for (const e of ds.episodes) perTask[e.task] = (perTask[e.task] ?? 0) + 1;
        const counts = Object.values(perTask);
        const out = {
          dir, codebase_version: ds.info.codebase_version, robot_type: ds.info.robot_type, embodiment: ds.embodiment.name, fps: ds.info.fps,
          episodes: ds.episodes.length, frames: ds.numFrames, tasks: ds.tasks, episodes_per_task: perTask, cameras: ds.cameras, image_size: ds.imageSize,
          episode_length: { min: Math.min(...lengths), mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, max: Math.max(...lengths) },
          state_names: ds.embodiment.stateNames, action_names: ds.embodiment.actionNames,
          features: Object.fromEntries(Object.entries(ds.info.features).map(([k, f]) => {
            const codec = (f as { info?: Record<string, unknown> }).info?.['video.codec'];
            return [k, { dtype: f.dtype, shape: f.shape, ...(typeof codec === 'string' ? { codec } : {}) }];
          })),
        };
        if (o.json) return printJson(out);
        process.stdout.write([
          `${dir}: LeRobot ${out.codebase_version}, robot_type ${out.robot_type} -> embodiment ${out.embodiment}, ${out.fps} fps`,
          `  ${count(out.episodes, 'episode')}, ${count(out.frames, 'frame')} (episode length ${out.episode_length.min}..${out.episode_length.max}, mean ${out.episode_length.mean.toFixed(1)})`,
          `  cameras: ${out.cameras.join(', ')} (${out.image_size}x${out.image_size})`,
          `  tasks (${out.tasks.length}, episodes each${Math.min(...counts) === Math.max(...counts) ? `: ${counts[0]}` : `: ${Math.min(...counts)}..${Math.max(...counts)}, uneven`}):`,
          ...Object.entries(perTask).map(([t, n]) => `    ${String(n).padStart(5)}  "${t}"`),
          `  features: ${Object.entries(out.features).map(([k, f]) => `${k} ${f.dtype}[${f.shape.join(', ')}]${'codec' in f ? ` (${f.codec})` : ''}`).join('; ')}`,
        ].join('\n') + '\n');
      }),
    );

  data
    .command('stats')
    .argument('<dir>', 'dataset directory')
    .description('per-dimension statistics of state and action (recomputed from the frames)')
    .option('--embodiment <name>', 'embodiment when robot_type is not registered')
    .option('--write', 'also write them to meta/stats.json')
    .option('--json', 'print JSON')
    .action(
      action(async (dir: string, o: { embodiment?: string; write?: boolean; json?: boolean }) => {
        checkNotCorpus(dir);
        const ds = await openDataset(dir, { embodiment: o.embodiment });
        const e = ds.embodiment;
        const stats = {
          'observation.state': computeStats(ds.state, ds.numFrames, e.stateNames.length),
          action: computeStats(ds.action, ds.numFrames, e.actionNames.length),
        };
        if (o.write) {
          const file = join(dir, 'meta', 'stats.json');
          const old = JSON.parse(readFileSync(file, 'utf8').trim() || '{}') as Record<string, unknown>;
          writeFileAtomic(file, JSON.stringify({ ...old, ...stats }, null, 2) + '\n');
        }
        if (o.json) return printJson(stats);
        const lines: string[] = [];
        for (const [feature, names] of [['observation.state', e.stateNames], ['action', e.actionNames]] as const) {
          const s = stats[feature];
          lines.push(`${feature} (${ds.numFrames} frames)`, `  ${'dim'.padEnd(16)} ${['mean', 'std', 'q01', 'q50', 'q99'].map((h) => h.padStart(9)).join(' ')}`);
          names.forEach((n, i) => lines.push(`  ${n.padEnd(16)} ${[s.mean[i], s.std[i], s.q01[i], s.q50[i], s.q99[i]].map((v) => v.toFixed(4).padStart(9)).join(' ')}`));
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
