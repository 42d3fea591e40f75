import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { FAILURE_MODES } from '../../src/sim/index.ts';
import { decodePng } from '../../src/util/index.ts';
import { BIN, runCli, runCliAsync } from '../helpers/cli.ts';

describe('the whole loop through the CLI (tiny settings)', () => {
  it('records, trains (loss falls), refuses to overwrite a run, evaluates locally and through the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-loop-'));
    try {
      const data = join(dir, 'data');
      let r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '4', '--out', data, '--json']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).episodes, 4);

      const run = join(dir, 'run');
      r = runCli(['train', '--preset', 'debug', '--data', data, '--out', run, '--steps', '40', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const t = JSON.parse(r.stdout);
      assert.equal(t.steps, 40);
      assert.ok(t.final_loss < 0.7 * t.first_loss, `loss did not fall: ${t.first_loss} -> ${t.final_loss}`);
      assert.ok(existsSync(join(run, 'loss.svg')));
      const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
      assert.ok(lines.length >= 8);

      r = runCli(['train', '--preset', 'debug', '--data', data, '--out', run, '--steps', '40']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /already holds a run.*--resume/);

      r = runCli(['eval', '--checkpoint', run, '--task', 'pick-place', '--episodes', '2', '--record', join(dir, 'rec'), '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const e = JSON.parse(r.stdout);
      assert.equal(e.episodes, 2);
      assert.equal(e.tasks[0].task, 'pick-place');
      assert.ok(e.tasks[0].ci95[1] > e.tasks[0].ci95[0]);
      assert.ok(existsSync(join(dir, 'rec', 'pick-place', 'seed-0', 'sheet.png')));
      for (const x of e.tasks[0].seeds) assert.equal(x.success || FAILURE_MODES.includes(x.failure), true, `seed ${x.seed}: failure ${x.failure}`);
      assert.equal(e.sample_steps, 10, "the model config's Euler steps");
      r = runCli(['eval', '--checkpoint', run, '--task', 'pick-place', '--episodes', '1', '--sample-steps', '3', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).sample_steps, 3);

      // the same policy served over the openpi protocol and evaluated through the wire
      const server = spawn(process.execPath, [BIN, 'serve', '--checkpoint', run, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          server.stdout.on('data', (b: Buffer) => {
            out += b.toString();
            const m = /on (ws:\/\/[^\s]+)/.exec(out);
            if (m) resolve(m[1]);
          });
          server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
        });
        const served = await runCliAsync(['eval', '--server', url, '--task', 'pick-place', '--episodes', '1', '--json']);
        assert.equal(served.status, 0, served.stderr);
        assert.equal(JSON.parse(served.stdout).episodes, 1);
        const refused = await runCliAsync(['eval', '--server', url, '--task', 'pick-place', '--sample-steps', '2']);
        assert.equal(refused.status, 1);
        assert.match(refused.stderr, /--sample-steps is for --checkpoint.*vlalab serve --steps/);
      } finally {
        server.kill('SIGTERM');
      }

      r = runCli(['eval', '--checkpoint', join(dir, 'nope'), '--task', 'pick-place']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /neither a training run/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trains and evaluates a 96 px model on 96 px recordings: the evaluation renders the cameras at the model\'s size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-96-'));
    try {
      let r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '1', '--size', '96', '--out', join(dir, 'data'), '--json']);
      assert.equal(r.status, 0, r.stderr);
      r = runCli(['train', '--preset', 'debug', '--model', 'debug-conv-96', '--data', join(dir, 'data'), '--out', join(dir, 'run'), '--steps', '2', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      r = runCli(['eval', '--checkpoint', join(dir, 'run'), '--task', 'pick-place', '--episodes', '1', '--record', join(dir, 'rec'), '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const frame = decodePng(readFileSync(join(dir, 'rec', 'pick-place', 'seed-0', 'frames', 'front_0000.png')));
      assert.deepEqual([frame.width, frame.height], [96, 96]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('probes where an aim head points before each episode (eval --aim-probe), and refuses a model without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-aim-'));
    try {
      let r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'object-red-plate', '--episodes', '1', '--out', join(dir, 'data'), '--json']);
      assert.equal(r.status, 0, r.stderr);
      for (const model of ['debug-conv-aim', 'debug-conv']) {
        r = runCli(['train', '--preset', 'debug', '--model', model, '--data', join(dir, 'data'), '--out', join(dir, model), '--steps', '2', '--json'], { timeoutMs: 300_000 });
        assert.equal(r.status, 0, r.stderr);
        // the aim head's error is logged beside the loss (and drawn in loss.svg) where the head trains
        const metrics = readFileSync(join(dir, model, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss: number; aimLoss?: number });
        const svg = readFileSync(join(dir, model, 'loss.svg'), 'utf8');
        if (model === 'debug-conv-aim') {
          for (const m of metrics) assert.ok(m.aimLoss! > 0 && m.aimLoss! < m.loss / 0.1 + 1e-6, `aim error ${m.aimLoss} within loss ${m.loss}`);
          assert.match(svg, /aim head error \(raw\)/);
        } else {
          assert.ok(metrics.every((m) => m.aimLoss === undefined));
          assert.doesNotMatch(svg, /aim head error/);
        }
      }
      r = runCli(['eval', '--checkpoint', join(dir, 'debug-conv-aim'), '--task', 'object-red-plate', '--episodes', '2', '--aim-probe', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const probes = JSON.parse(r.stdout).aim_probe as { task: string; seed: number; object: string; target: boolean; error_m: number }[];
      assert.deepEqual(probes.map((p) => [p.task, p.seed]), [['object-red-plate', 0], ['object-red-plate', 1]]);
      for (const p of probes) {
        assert.ok(['red', 'green', 'purple'].includes(p.object), `the nearest of the task's cubes: ${p.object}`);
        assert.equal(p.target, p.object === 'red');
        assert.ok(p.error_m > 0 && p.error_m < 2, `metres from the red cube: ${p.error_m}`);
      }
      r = runCli(['eval', '--checkpoint', join(dir, 'debug-conv'), '--task', 'object-red-plate', '--episodes', '1', '--aim-probe']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /has no aim head/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fine-tunes a pretrained run on another task with --init-from, keeping its tokenizer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-finetune-'));
    try {
      const record = (task: string) => {
        const r = runCli(['sim', 'record', '--robot', 'panda7', '--task', task, '--episodes', '2', '--out', join(dir, task), '--json']);
        assert.equal(r.status, 0, r.stderr);
      };
      record('pick-place');
      record('spatial-left-plate');
      const words = join(dir, 'words.json');
      writeFileSync(words, JSON.stringify({ tokenizer: 'words' }));
      let r = runCli(['train', '--preset', 'debug', '--config', words, '--data', join(dir, 'pick-place'), '--out', join(dir, 'pre'), '--steps', '4', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const frozen = join(dir, 'frozen.json');
      writeFileSync(frozen, JSON.stringify({ tokenizer: 'words', freezeSemantic: true }));
      // the spatial instruction has words the pretraining data lacked: a vocabulary rebuilt from it would not fit the embeddings
      r = runCli(['train', '--preset', 'debug', '--config', frozen, '--data', join(dir, 'spatial-left-plate'), '--out', join(dir, 'tuned'), '--steps', '4', '--init-from', join(dir, 'pre'), '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const tokenizerOf = (run: string) => JSON.parse(readFileSync(join(run, JSON.parse(readFileSync(join(run, 'latest.json'), 'utf8')).dir, 'policy.json'), 'utf8')).tokenizer;
      assert.deepEqual(tokenizerOf(join(dir, 'tuned')), tokenizerOf(join(dir, 'pre')));
      assert.ok(!tokenizerOf(join(dir, 'pre')).words.includes('left'), 'the fixture needs a word only the fine-tuning data has');
      r = runCli(['train', '--preset', 'debug', '--data', join(dir, 'pick-place'), '--out', join(dir, 'bad'), '--steps', '4', '--init-from', join(dir, 'nope')]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /neither a training run/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quickstart runs end to end and prints its JSON summary last', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-qs-'));
    try {
      const r = runCli(['quickstart', '--out', dir, '--steps', '4', '--demos', '2', '--episodes', '1', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
      for (const k of ['success_rate', 'episodes', 'baseline_success_rate', 'train_seconds']) assert.ok(k in last, k);
      assert.equal(last.episodes, 1);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      assert.match(html, /untrained baseline/);
      assert.match(html, /data:image\/png;base64/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('training with the word tokenizer', () => {
  it('stores the word list with the checkpoint and acts with it', async () => {
    const { loadPolicyParts } = await import('../../src/training/index.ts');
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-words-'));
    try {
      const data = join(dir, 'data');
      let r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '2', '--out', data, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const cfg = join(dir, 'words.json');
      writeFileSync(cfg, JSON.stringify({ tokenizer: 'words' }));
      const run = join(dir, 'run');
      r = runCli(['train', '--preset', 'debug', '--config', cfg, '--data', data, '--out', run, '--steps', '6', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const parts = loadPolicyParts(run);
      assert.equal(parts.meta.tokenizer.type, 'vlalab-words');
      assert.deepEqual(parts.meta.tokenizer.words, ['cube', 'on', 'plate', 'put', 'red', 'the']);
      assert.equal(parts.config.vocabSize, 266);
      // "put the red cube on the plate": BOS, seven words, EOS
      assert.equal(parts.tokenize('put the red cube on the plate').length, 9);
      r = runCli(['eval', '--checkpoint', run, '--task', 'pick-place', '--episodes', '1', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
