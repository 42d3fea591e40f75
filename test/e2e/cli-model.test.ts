import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';

describe('vlalab model info', () => {
  it('--json reports the config, padded sequence and per-expert parameter counts', () => {
    const r = runCli(['model', 'info', '--config', 'debug', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.config.name, 'debug');
    assert.equal(info.sequence.prefix, 2 * 16 + 16);
    assert.equal(info.sequence.total % 4, 0);
    // semantic: patch embed 768*64+64, view 2*64, patch pos 16*64, tokens 260*64, token pos 16*64, 2 layers
    const layer = (d: number, f: number) => 2 * d + 4 * d * 32 + 3 * d * f;
    assert.equal(info.parameters.semantic, 768 * 64 + 64 + 2 * 64 + 16 * 64 + 260 * 64 + 16 * 64 + 2 * layer(64, 128));
    assert.equal(info.parameters.total, info.parameters.semantic + info.parameters.action);
  });

  it('puts the paper config in the published size classes (2B-class semantic, ~0.7B action expert)', () => {
    const info = JSON.parse(runCli(['model', 'info', '--config', 'paper', '--json']).stdout);
    assert.ok(info.parameters.semantic > 1.6e9 && info.parameters.semantic < 2.2e9, String(info.parameters.semantic));
    assert.ok(info.parameters.action > 0.6e9 && info.parameters.action < 0.8e9, String(info.parameters.action));
    const text = runCli(['model', 'info', '--config', 'paper']);
    assert.match(text.stdout, /semantic\s+width 2048/);
  });

  it('describes the convolutional stem of debug-conv and counts its parameters', () => {
    const text = runCli(['model', 'info', '--config', 'debug-conv']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /stem\s+4px patchify -> 16, 3x3 stride-2 conv -> 32, 3x3 stride-2 conv -> 64 channels/);
    const conv = JSON.parse(runCli(['model', 'info', '--config', 'debug-conv', '--json']).stdout);
    const plain = JSON.parse(runCli(['model', 'info', '--config', 'debug', '--json']).stdout);
    // stem: (48*16 + 3*16) + (144*32 + 3*32) + (288*64 + 3*64); the patch embedding shrinks from 768x64 to 64x64
    const stem = 48 * 16 + 3 * 16 + 144 * 32 + 3 * 32 + 288 * 64 + 3 * 64;
    assert.equal(conv.parameters.semantic - plain.parameters.semantic, stem - (768 - 64) * 64);
    assert.equal(conv.parameters.action, plain.parameters.action);
  });

  it('rejects an unknown config in one line with a suggestion', () => {
    const r = runCli(['model', 'info', '--config', 'tny']);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /did you mean "tiny"/);
  });
});
