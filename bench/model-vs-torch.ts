/**
 * jax-js vs PyTorch vs ONNX Runtime, side by side on this machine: the training step at batch 32
 * (loss + backward + AdamW, as each trainer runs it) and one action chunk (B = 1, 10 Euler steps,
 * prefix cache), with 1 and 2 threads, for the given configs. Every measurement is its own
 * process; each round runs PyTorch, jax-js and ORT in turn, so all see the same load; the table
 * holds the medians over rounds of each process's median.
 *
 *   node bench/model-vs-torch.ts [configs=tiny,small] [reps=5] [threads=1,2] [rounds=2] [sampleReps=50]
 *
 * A training step is timed `reps` times, a chunk (milliseconds) `sampleReps` times, on every side.
 *
 * Needs Debian's python3-torch and libopenblas0-pthread (/usr/bin/python3); PyTorch runs with
 * OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = threads and OMP_WAIT_POLICY=PASSIVE. Also prints each
 * ORT step's GEMM work (2·M·N·K summed over its MatMuls) and the fraction of the machine's GEMM
 * peak it reaches, the peak being ORT's own 1024^3 MatMul at the same thread count.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getConfig } from '../src/model/index.ts';

const [names = 'tiny,small', repsArg = '5', threadsArg = '1,2', roundsArg = '2', sampleRepsArg = '50'] = process.argv.slice(2);
const reps = Number(repsArg);
const sampleReps = Number(sampleRepsArg);
const dir = mkdtempSync(join(tmpdir(), 'vlalab-torch-'));
const root = join(import.meta.dirname, '..');

function run(cmd: string, args: string[], env: Record<string, string>): string {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 1_200_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One bench/model-step.ts process on `engine`: train and sample medians (ms). */
function vlalab(engine: 'jax' | 'ort', name: string, threads: number): { train: number; sample: number } {
  const out = run(process.execPath, ['bench/model-step.ts', name, '32', String(reps), `--sample-reps=${sampleReps}`, `--engine=${engine}`], { VLALAB_THREADS: String(threads) });
  const get = (kind: string) => Number(new RegExp(`${name} ${kind}[^\\n]*median ([\\d.]+) ms`).exec(out)?.[1]);
  return { train: get('train'), sample: get('sample') };
}

function torch(name: string, threads: number): { train: number; sample: number; version: string } {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(getConfig(name)));
  const t = String(threads);
  const out = run('/usr/bin/python3', ['bench/reference/mot_torch.py', '--config-json', file, '--threads', t, '--batch', '32', '--reps', String(reps), '--sample-reps', String(sampleReps)], {
    OMP_NUM_THREADS: t,
    OPENBLAS_NUM_THREADS: t,
    // GNU OpenMP's default busy-wait made 2-thread steps ~8x slower on this shared machine
    OMP_WAIT_POLICY: 'PASSIVE',
  });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { train_ms: number[]; sample_ms: number[]; torch: string };
  return { train: median(r.train_ms), sample: median(r.sample_ms), version: r.torch };
}

/** GEMM GFLOP/s of one ORT MatMul at `threads`, and the GEMM work of each config's training step (bench/gemm.ts). */
function gemm(threads: number): Record<string, number> {
  return JSON.parse(run(process.execPath, ['bench/gemm.ts', names], { VLALAB_THREADS: String(threads) }).trim().split('\n').at(-1)!);
}

type Row = Record<'jaxTrain' | 'torchTrain' | 'ortTrain' | 'jaxSample' | 'torchSample' | 'ortSample', number[]>;
const rows = new Map<string, Row>();
const threadList = threadsArg.split(',').map(Number);
const peaks = new Map(threadList.map((t) => [t, gemm(t)]));
let version = '';
for (let round = 0; round < Number(roundsArg); round++) {
  for (const name of names.split(',')) {
    for (const threads of threadList) {
      const key = `${name}|${threads}`;
      const row = rows.get(key) ?? { jaxTrain: [], torchTrain: [], ortTrain: [], jaxSample: [], torchSample: [], ortSample: [] };
      const t = torch(name, threads);
      const j = vlalab('jax', name, threads);
      const o = vlalab('ort', name, threads);
      version = t.version;
      row.torchTrain.push(t.train); row.torchSample.push(t.sample);
      row.jaxTrain.push(j.train); row.jaxSample.push(j.sample);
      row.ortTrain.push(o.train); row.ortSample.push(o.sample);
      rows.set(key, row);
      console.error(`round ${round + 1} ${key}: torch ${t.train.toFixed(0)}/${t.sample.toFixed(1)} jax ${j.train.toFixed(0)}/${j.sample.toFixed(1)} ort ${o.train.toFixed(0)}/${o.sample.toFixed(1)} ms`);
    }
  }
}
console.log(`PyTorch ${version}; batch 32 training step (loss + backward + AdamW) and one chunk (B=1, 10 Euler steps); medians of ${reps} steps and ${sampleReps} chunks, median over ${roundsArg} rounds; ratio = ORT / PyTorch (< 1: ORT faster)\n`);
console.log('| config | threads | jax-js train ms | PyTorch train ms | ORT train ms | ORT/PyTorch | ORT GEMM GFLOP/s (% of peak) | jax-js chunk ms | PyTorch chunk ms | ORT chunk ms | ORT/PyTorch |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [key, r] of rows) {
  const [name, threads] = key.split('|');
  const m = (xs: number[]) => median(xs);
  const g = peaks.get(Number(threads))!;
  const rate = g[`${name}.trainFlops`] / (m(r.ortTrain) * 1e6);
  console.log(`| ${name} | ${threads} | ${m(r.jaxTrain).toFixed(0)} | ${m(r.torchTrain).toFixed(0)} | ${m(r.ortTrain).toFixed(0)} | ${(m(r.ortTrain) / m(r.torchTrain)).toFixed(2)} | ${rate.toFixed(1)} (${((100 * rate) / g.peak).toFixed(0)}%) | ${m(r.jaxSample).toFixed(1)} | ${m(r.torchSample).toFixed(1)} | ${m(r.ortSample).toFixed(1)} | ${(m(r.ortSample) / m(r.torchSample)).toFixed(2)} |`);
}
console.log(`\nGEMM peak (one ORT MatMul 1024^3): ${threadList.map((t) => `${peaks.get(t)!.peak.toFixed(1)} GFLOP/s at ${t} thread(s)`).join(', ')}`);
