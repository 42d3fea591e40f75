/**
 * jax-js vs PyTorch, side by side on this machine: training step at batch 32 and one action chunk
 * (B = 1, 10 Euler steps, prefix cache), with 1 and 2 threads, for the given configs. Each
 * measurement is a separate process, alternating jax-js and PyTorch, so both see the same load.
 *
 *   node bench/model-vs-torch.ts [configs=tiny,small] [reps=5] [threads=1,2]
 *
 * Needs Debian's python3-torch and libopenblas0-pthread (/usr/bin/python3); PyTorch runs with
 * OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = threads and OMP_WAIT_POLICY=PASSIVE. Prints a markdown
 * table of medians and ratios (jax-js time / PyTorch time: > 1 means jax-js is slower).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getConfig } from '../src/model/index.ts';

const [names = 'tiny,small', repsArg = '5', threadsArg = '1,2'] = process.argv.slice(2);
const reps = Number(repsArg);
const dir = mkdtempSync(join(tmpdir(), 'vlalab-torch-'));
const root = join(import.meta.dirname, '..');

function run(cmd: string, args: string[], env: Record<string, string>): string {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function jaxjs(name: string, threads: number): { train: number; sample: number } {
  const out = run(process.execPath, ['bench/model-step.ts', name, '32', String(reps)], { VLALAB_THREADS: String(threads) });
  const get = (kind: string) => Number(new RegExp(`${name} ${kind}[^\\n]*median ([\\d.]+) ms`).exec(out)?.[1]);
  return { train: get('train'), sample: get('sample') };
}

function torch(name: string, threads: number): { train: number; sample: number; version: string } {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(getConfig(name)));
  const t = String(threads);
  const out = run('/usr/bin/python3', ['bench/reference/mot_torch.py', '--config-json', file, '--threads', t, '--batch', '32', '--reps', String(reps)], {
    OMP_NUM_THREADS: t,
    OPENBLAS_NUM_THREADS: t,
    // GNU OpenMP's default busy-wait made 2-thread steps ~8x slower on this shared machine
    OMP_WAIT_POLICY: 'PASSIVE',
  });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { train_ms: number[]; sample_ms: number[]; torch: string };
  return { train: median(r.train_ms), sample: median(r.sample_ms), version: r.torch };
}

const rows: string[] = [];
let version = '';
for (const name of names.split(',')) {
  for (const threads of threadsArg.split(',').map(Number)) {
    const t = torch(name, threads);
    const j = jaxjs(name, threads);
    version = t.version;
    rows.push(
      `| ${name} | ${threads} | ${j.train.toFixed(0)} | ${t.train.toFixed(0)} | ${(j.train / t.train).toFixed(2)} | ${j.sample.toFixed(1)} | ${t.sample.toFixed(1)} | ${(j.sample / t.sample).toFixed(2)} |`,
    );
    console.error(rows.at(-1));
  }
}
console.log(`PyTorch ${version}, batch 32 training step (loss + backward + AdamW) and one chunk (B=1, H=16, 10 steps), medians of ${reps}:\n`);
console.log('| config | threads | jax-js train ms | PyTorch train ms | ratio | jax-js sample ms | PyTorch sample ms | ratio |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
