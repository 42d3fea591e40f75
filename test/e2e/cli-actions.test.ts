import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_NAMES } from '../../src/model/index.ts';
import { PRESET_NAMES } from '../../src/training/index.ts';
import { assertClose } from '../helpers/close.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-cli-'));
function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

/** Asserts a failed run printed exactly one line matching `pattern` and no stack trace. */
function assertOneLineError(r: ReturnType<typeof runCli>, pattern: RegExp): void {
  assert.notEqual(r.status, 0, 'exit status must be non-zero');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

const S = Math.SQRT1_2;

describe('vlalab CLI', () => {
  it('--help lists the commands', () => {
    const r = runCli(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /embodiments/);
    assert.match(r.stdout, /actions/);
    const sub = runCli(['actions', 'encode', '--help']);
    assert.equal(sub.status, 0);
    assert.match(sub.stdout, /--mode <mode>/);
  });

  it('`help` and `help <command>` work (npx may take a bare --help), and errors point to them', () => {
    const r = runCli(['help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Commands:[\s\S]*train/);
    const train = runCli(['help', 'train']);
    assert.equal(train.status, 0);
    assert.match(train.stdout, /Usage: vlalab train/);
    // the presets and model configs it names are the registries' (the help went stale by hand)
    const help = train.stdout.replace(/\s+/g, ' ');
    for (const name of [...PRESET_NAMES, ...CONFIG_NAMES]) assert.ok(help.includes(` ${name},`) || help.includes(` ${name} `), `train --help names ${name}`);
    const typo = runCli(['trian']);
    assert.notEqual(typo.status, 0);
    assert.match(typo.stderr, /Did you mean train\?[\s\S]*`npx vlalab help`, or `npx vlalab <command> --help`/);
  });

  it('embodiments --json lists slot maps and masks', () => {
    const r = runCli(['embodiments', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.unifiedDim, 60);
    const panda = out.embodiments.find((e: { name: string }) => e.name === 'panda7');
    assert.equal(panda.actionMask.length, 60);
    assert.equal(panda.actionMask.reduce((a: number, b: number) => a + b, 0), 7);
    assert.deepEqual(panda.action.map((b: { slot: string }) => b.slot), ['eef.right', 'gripper.right']);
    const table = runCli(['embodiments']);
    assert.match(table.stdout, /bimanual6/);
  });

  it('encode then decode returns the original targets, for every mode', () => {
    const targets = [
      [0.52, 0.01, 0.3, S, 0, 0, S],
      [0.55, 0.03, 0.28, 0.5, 0.5, 0.5, 0.5],
      [0.6, 0.0, 0.25, 0, 1, 0, 0],
    ];
    const start = [0.5, 0, 0.3, 1, 0, 0, 0];
    for (const mode of ['world-rel', 'world-delta', 'eef-rel', 'eef-delta']) {
      const enc = runCli(['actions', 'encode', '--mode', mode, '--input', file('enc.json', { start, targets }), '--json']);
      assert.equal(enc.status, 0, enc.stderr);
      const { actions } = JSON.parse(enc.stdout);
      assert.equal(actions.length, 3);
      assert.equal(actions[0].length, 6);
      const dec = runCli(['actions', 'decode', '--mode', mode, '--input', file('dec.json', { start, actions }), '--json']);
      assert.equal(dec.status, 0, dec.stderr);
      const back = JSON.parse(dec.stdout).targets as number[][];
      back.forEach((t, i) => {
        // q and -q are the same rotation: compare up to sign
        const sign = Math.sign(t[3] * targets[i][3] + t[4] * targets[i][4] + t[5] * targets[i][5] + t[6] * targets[i][6]);
        assertClose([...t.slice(0, 3), ...t.slice(3).map((v) => v * sign)], targets[i], 1e-9, `${mode} target ${i}`);
      });
    }
  });

  it('prints a readable table without --json', () => {
    const r = runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', file('t.json', { start: [0, 0, 0, 1, 0, 0, 0], targets: [[0.1, 0, 0, 1, 0, 0, 0]] })]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /eef-rel actions/);
    assert.match(r.stdout, /0\.100000/);
  });

  it('bad input gives one clear line and a non-zero exit', () => {
    const ok = { start: [0, 0, 0, 1, 0, 0, 0], targets: [[0.1, 0, 0, 1, 0, 0, 0]] };
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rell', '--input', file('a.json', ok)]), /unknown EEF mode "eef-rell"; did you mean "eef-rel"/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', join(dir, 'missing.json')]), /cannot read .*missing\.json: no such file/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', dir]), /cannot read .*: it is a directory/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', file('nan.json', '{"start": [NaN, 0, 0, 1, 0, 0, 0], "targets": []}')]), /not valid JSON/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', file('str.json', { start: ['NaN', 0, 0, 1, 0, 0, 0], targets: [[0, 0, 0, 1, 0, 0, 0]] })]), /start\[0\]/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', file('short.json', { start: [0, 0, 0, 1, 0, 0], targets: [[0, 0, 0, 1, 0, 0, 0]] })]), /start has 6 numbers; a pose is \[x, y, z, qw, qx, qy, qz\] \(7\)/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', file('zero.json', { start: [0, 0, 0, 1, 0, 0, 0], targets: [[0, 0, 0, 0, 0, 0, 0]] })]), /targets\[0\] has a zero quaternion/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', file('nonunit.json', { start: [0, 0, 0, 2, 0, 0, 0], targets: [[0, 0, 0, 1, 0, 0, 0]] })]), /start has a quaternion of norm 2\.00000; it must be unit/);
    assertOneLineError(runCli(['actions', 'encode', '--mode', 'eef-rel', '--input', file('empty.json', { start: [0, 0, 0, 1, 0, 0, 0], targets: [] })]), /targets/);
    assertOneLineError(runCli(['actions', 'decode', '--mode', 'eef-rel', '--input', file('d.json', { start: [0, 0, 0, 1, 0, 0, 0], actions: [[0, 0, 0, 0, 0]] })]), /actions\[0\] has 5 numbers; an action is \[dx, dy, dz, rx, ry, rz\] \(6\)/);
    assertOneLineError(runCli(['actions', 'decode', '--mode', 'eef-rel', '--input', file('wrongkey.json', ok)]), /actions|targets/);
    const missing = runCli(['actions', 'encode', '--input', file('b.json', ok)]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /required option '--mode <mode>'/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
  });
});
