import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, runCli } from '../helpers/cli.ts';

describe('vlalab train: resume, config files, progress in logs, Ctrl-C', () => {
  let dir: string;
  let data: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vlalab-train-'));
    data = join(dir, 'data');
    const r = runCli(['sim', 'record', '--robot', 'panda7', '--task', 'pick-place', '--episodes', '2', '--out', data, '--json']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('on Ctrl-C names the kept checkpoint and the --resume command; `--resume` alone then finishes with the run\'s own config', async () => {
    const run = join(dir, 'run');
    // the debug preset checkpoints every 15 steps; 90 steps leave a few seconds to interrupt mid-run
    const child = spawn(process.execPath, [BIN, 'train', '--preset', 'debug', '--data', data, '--out', run, '--steps', '90'], { env: { ...process.env, FORCE_COLOR: '0' } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 1200 && !existsSync(join(run, 'latest.json')); i++) await sleep(50);
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    const kept = JSON.parse(readFileSync(join(run, 'latest.json'), 'utf8')) as { step: number; dir: string };
    assert.ok(kept.step < 90, `the run finished before the interrupt (${kept.step})`);
    assert.match(stderr, new RegExp(`interrupted: kept the checkpoint of step ${kept.step} of 90 \\(.*${kept.dir}\\); continue with: vlalab train --out ${run} --resume\\n`));
    // stderr is not a TTY here: plain progress lines, not a redrawn bar
    assert.match(stderr, /^train 5\/90 \(5%\) elapsed \d+:\d\d/m);

    const r = runCli(['train', '--out', run, '--resume', '--json'], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).steps, 90);
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    assert.equal(config.preset, 'debug');
    assert.equal(config.data, data);
    assert.equal(config.train.steps, 90);
    assert.equal(config.train.emaDecay, 0); // the default preset's EMA was not slipped in
  });

  it('warns when instructions are cut short by the model\'s tokens and names those it can no longer tell apart', () => {
    const goal = join(dir, 'goal');
    let r = runCli(['sim', 'record', '--robot', 'panda7', '--suite', 'goal', '--episodes', '1', '--out', goal, '--json']);
    assert.equal(r.status, 0, r.stderr);
    // debug: 16 byte tokens (BOS, 14 bytes, EOS): "put the red cube on the plate" and "... in the bowl" are both "put the red cu"
    r = runCli(['train', '--preset', 'debug', '--data', goal, '--out', join(dir, 'goal-run'), '--steps', '1', '--json'], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: 10 instructions are longer than model debug's 16 tokens and cut short \(the longest: \d+ tokens/);
    assert.match(r.stderr, /cannot tell them apart: "put the red cube on the plate", .*"put the red cube in the bowl"/);
    assert.match(r.stderr, /the word tokenizer \(config "tokenizer": "words"\)/);
    // one task's instruction is never warned about (the quickstart's)
    r = runCli(['train', '--preset', 'debug', '--data', data, '--out', join(dir, 'one-run'), '--steps', '1', '--json'], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/);
  });

  it('refuses flags that change a resumed run, field by field, unless --extend', () => {
    const run = join(dir, 'run');
    let r = runCli(['train', '--out', run, '--resume', '--steps', '120', '--lr', '0.001', '--data', data]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--resume: the flags change the run's config .*: steps 90 -> 120, lr 0\.0002 -> 0\.001; continue it as it was with `vlalab train --out .* --resume` alone, or add --extend/);
    r = runCli(['train', '--out', run, '--resume', '--preset', 'quickstart']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /steps 90 -> 12000/);
    r = runCli(['train', '--out', run, '--resume', '--model', 'tiny', '--extend']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--extend cannot change model/);
    r = runCli(['train', '--out', run, '--resume', '--steps', '95', '--extend', '--json'], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).steps, 95);
    assert.equal(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).train.steps, 95);
    r = runCli(['train', '--out', join(dir, 'none'), '--resume']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /holds no run to resume \(no config\.json\); start one with `vlalab train --data DIR/);
  });

  it('--config takes a run\'s own config.json and suggests field names', () => {
    // a fresh run from another run's config.json: accepted (the next complaint is about --data)
    let r = runCli(['train', '--config', join(dir, 'run', 'config.json'), '--data', join(dir, 'nowhere'), '--out', join(dir, 'copy')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--data: .*nowhere is not a directory/);
    const cfg = join(dir, 'typo.json');
    writeFileSync(cfg, JSON.stringify({ batchsize: 4, stpes: 3, lr: -1 }));
    r = runCli(['train', '--config', cfg, '--data', data, '--out', join(dir, 'typo')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /training config: 3 problems:\n  field "lr": .*\n  field "batchsize": unknown; did you mean "batchSize"\?\n  field "stpes": unknown; did you mean "steps"\?\n/);
    r = runCli(['train', '--out', join(dir, 'x')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /train needs --data/);
  });
});
