/**
 * `vlalab study run --jobs N`: the wall time of the same small study one job at a time and N at a
 * time, alternating runs. The study is four scratch cells (one per action parameterization) fine-tuned
 * on the laptop preset and evaluated on two spatial tasks, so it is all trainings and evaluations.
 *
 *   node bench/study-jobs.ts [steps=1000] [reps=2] [jobs=2]
 *
 * Prints each run's wall time, the medians and their ratio; the reports must be equal (the results do
 * not depend on --jobs), which the script checks.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [steps = 1000, reps = 2, jobs = 2] = process.argv.slice(2).map(Number);
const root = mkdtempSync(join(tmpdir(), 'vlalab-study-jobs-'));
const file = join(root, 'study.json');
writeFileSync(file, JSON.stringify({
  name: 'study-jobs bench',
  baseline: { eefMode: 'eef-rel', corpus: 'none', freeze: false, pState: 0.2, pView: 0.2, curriculum: 'stage2-only' },
  axes: { eefMode: ['world-rel', 'world-delta', 'eef-rel', 'eef-delta'] },
  downstream: { columns: [{ name: 'spatial', suite: 'spatial' }], tasksPerColumn: 2, nShot: 5, episodes: 2, evalSeed: 0, demoSeed: 100000 },
  budgets: { trainPreset: 'laptop', pretrainSteps: 1, finetuneSteps: steps, batchSize: 32, checkpointEvery: steps, corpusEpisodes: 1 },
}));
const bin = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall seconds of one whole study run with `j` jobs, and its results. */
function once(j: number, rep: number): { seconds: number; results: string } {
  const out = join(root, `jobs${j}-${rep}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, 'study', 'run', file, '--out', out, '--jobs', String(j), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`study run --jobs ${j} failed: ${r.stderr}`);
  const seconds = (performance.now() - t0) / 1000;
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { rows: unknown };
  return { seconds, results: JSON.stringify(results.rows) };
}

try {
  const times: Record<number, number[]> = { 1: [], [jobs]: [] };
  const seen = new Set<string>();
  for (let rep = 0; rep < reps; rep++) {
    for (const j of [1, jobs]) {
      const r = once(j, rep);
      times[j].push(r.seconds);
      seen.add(r.results);
      console.log(`run ${rep + 1}, --jobs ${j}: ${r.seconds.toFixed(1)} s`);
    }
  }
  if (seen.size !== 1) throw new Error('the reports differ between runs: the results depend on --jobs');
  const [a, b] = [median(times[1]), median(times[jobs])];
  console.log(`median: --jobs 1 ${a.toFixed(1)} s, --jobs ${jobs} ${b.toFixed(1)} s; ratio ${(b / a).toFixed(2)} (${(a / b).toFixed(2)}x faster); the same report every run`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
